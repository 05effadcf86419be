'use strict'

const { AbstractChainedBatch } = require('abstract-level')
const { WriteBatch } = require('./write-batch.js')

const kBatch = Symbol('batch')
const kWrite = Symbol('write')

// A chained batch collects operations in a WriteBatch, so write() hands them over in one call.
class ChainedBatch extends AbstractChainedBatch {
  constructor (db, write) {
    super(db)
    this[kBatch] = new WriteBatch()
    this[kWrite] = write
  }

  _put (key, value) {
    this[kBatch].put(key, value)
  }

  _del (key) {
    this[kBatch].del(key)
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
