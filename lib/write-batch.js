'use strict'

// A write batch assembled in JavaScript and handed to native code's `write` in one call: three
// numbers per operation (kind: 1 put, 0 del; the key's length; the value's length, 0 for a del)
// over the keys and values back to back (see packed-bytes.js). Native code frames them into
// LevelDB's WriteBatch encoding (docs/format.md).

const { PackedBytes } = require('./packed-bytes.js')

class WriteBatch extends PackedBytes {
  constructor () {
    super(3)
  }

  get length () {
    return this.count
  }

  put (key, value) {
    this.reserveItem()
    this.number(1)
    this.piece(key)
    this.piece(value)
    this.count++
  }

  del (key) {
    this.reserveItem()
    this.number(0)
    this.piece(key)
    this.number(0)
    this.count++
  }
}

exports.WriteBatch = WriteBatch
