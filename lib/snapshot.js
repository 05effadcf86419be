'use strict'

const { AbstractSnapshot } = require('abstract-level')

const kNative = Symbol('native')

// An explicit snapshot. abstract-level guarantees _close() runs once, after reads through it end.
class Snapshot extends AbstractSnapshot {
  constructor (options, native) {
    super(options)
    this[kNative] = native
  }

  async _close () {
    this[kNative].close()
  }
}

// The native snapshot behind a read's `snapshot` option, or null for an implicit one.
function nativeSnapshot (options) {
  return options.snapshot != null ? options.snapshot[kNative] : null
}

exports.Snapshot = Snapshot
exports.nativeSnapshot = nativeSnapshot
