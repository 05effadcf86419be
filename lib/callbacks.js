'use strict'

// Node-style callbacks on top of abstract-level 3's promises, as leveldown, levelup and
// classic-level 1.x users wrote them. With a trailing function argument a method returns
// undefined and calls back on a later tick; without one it behaves exactly as abstract-level 3.
// Errors reach the callback and never become unhandled rejections.

const { EntryStream, KeyStream, ValueStream } = require('level-read-stream')

const DB_METHODS = [
  'open', 'close', 'get', 'getMany', 'has', 'hasMany', 'put', 'del', 'batch', 'clear',
  'approximateSize', 'compactRange', 'serve', 'refresh'
]

// leveldown and levelup reported a missing key to callbacks as an error.
function notFoundError (key) {
  const err = new Error(`Key not found in database [${key}]`)
  err.code = 'LEVEL_NOT_FOUND'
  err.notFound = true
  err.status = 404
  return err
}

function popCallback (args) {
  return args.length > 0 && typeof args[args.length - 1] === 'function' ? args.pop() : null
}

// Runs `start` (which may throw or return a promise) and reports to `callback(err, result)`.
function settle (start, callback) {
  let promise
  try {
    promise = Promise.resolve(start())
  } catch (err) {
    process.nextTick(callback, err)
    return
  }
  promise.then(
    (result) => process.nextTick(callback, null, result),
    (err) => process.nextTick(callback, err)
  )
}

function wrapMethod (target, name, adapt) {
  const original = target[name]
  target[name] = function (...args) {
    const callback = popCallback(args)
    if (callback === null) return original.apply(this, args)
    settle(() => original.apply(this, args), adapt ? adapt(callback, args) : callback)
  }
}

function wrapChainedBatch (batch) {
  wrapMethod(batch, 'write')
  wrapMethod(batch, 'close')
  return batch
}

// `kind` is 'entries', 'keys' or 'values': entry iterators call back (err, key, value).
function wrapIterator (iterator, kind) {
  wrapMethod(iterator, 'next', kind === 'entries'
    ? (callback) => (err, entry) => err ? callback(err) : entry === undefined ? callback(null) : callback(null, entry[0], entry[1])
    : null)
  wrapMethod(iterator, 'nextv')
  wrapMethod(iterator, 'all')
  wrapMethod(iterator, 'close')
  // leveldown's name for close(), still found in old code.
  if (iterator.end === undefined) iterator.end = iterator.close
  return iterator
}

// Adds callbacks and levelup's stream methods to a database class (the root class and sublevels).
function withCallbacks (Base) {
  class WithCallbacks extends Base {
    iterator (options) {
      return wrapIterator(super.iterator(options), 'entries')
    }

    keys (options) {
      return wrapIterator(super.keys(options), 'keys')
    }

    values (options) {
      return wrapIterator(super.values(options), 'values')
    }

    // levelup's streams, over level-read-stream. With keys:false (or values:false) a read stream
    // emits values (or keys) alone, as levelup's did.
    createReadStream (options) {
      const keys = !options || options.keys !== false
      const values = !options || options.values !== false
      if (keys && !values) return new KeyStream(this, options)
      if (values && !keys) return new ValueStream(this, options)
      return new EntryStream(this, options)
    }

    createKeyStream (options) {
      return new KeyStream(this, options)
    }

    createValueStream (options) {
      return new ValueStream(this, options)
    }
  }

  for (const name of DB_METHODS) {
    const original = Base.prototype[name]
    if (typeof original !== 'function') continue
    WithCallbacks.prototype[name] = function (...args) {
      const callback = popCallback(args)
      if (callback === null) {
        const result = original.apply(this, args)
        // batch() with no arguments is abstract-level's chained batch.
        return name === 'batch' && args.length === 0 ? wrapChainedBatch(result) : result
      }
      // db.batch(callback) must report abstract-level's TypeError, not return a chained batch.
      if (name === 'batch' && args.length === 0) args.push(undefined)
      const report = name === 'get'
        ? (err, value) => err ? callback(err) : value === undefined ? callback(notFoundError(args[0])) : callback(null, value)
        : callback
      settle(() => original.apply(this, args), report)
      return undefined
    }
  }
  return WithCallbacks
}

exports.withCallbacks = withCallbacks
exports.popCallback = popCallback
exports.settle = settle
