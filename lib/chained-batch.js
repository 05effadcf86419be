'use strict'

const { AbstractChainedBatch } = require('abstract-level')
const { NativeBatch } = require('../binding.js')
const { plainBytes } = require('./range.js')

const kBatch = Symbol('batch')
const kWrite = Symbol('write')

// A chained batch collects operations in a native batch, so write() hands them over in one call.
class ChainedBatch extends AbstractChainedBatch {
  constructor (db, write) {
    super(db)
    this[kBatch] = new NativeBatch()
    this[kWrite] = write
  }

  _put (key, value) {
    this[kBatch].put(plainBytes(key), plainBytes(value))
  }

  _del (key) {
    this[kBatch].del(plainBytes(key))
  }

  _clear () {
    this[kBatch].clear()
  }

  async _write (options) {
    return this[kWrite](this[kBatch], options)
  }

  async _close () {
    this[kBatch].clear()
  }
}

exports.ChainedBatch = ChainedBatch
