'use strict'

// todb: an embedded, sorted key-value store over a LevelDB-format engine in Rust, shaped as
// classic-level 3 (abstract-level 3) so that changing the `require` is the whole migration, and
// also taking leveldown/levelup-style callbacks and streams.

const { AbstractLevel, AbstractSublevel } = require('abstract-level')
const { NativeDb, NativeBatch } = require('./binding.js')
const { Iterator, KeyIterator, ValueIterator } = require('./lib/iterator.js')
const { ChainedBatch } = require('./lib/chained-batch.js')
const { Snapshot, nativeSnapshot } = require('./lib/snapshot.js')
const { nativeRange, plainBytes } = require('./lib/range.js')
const { withCallbacks, popCallback, settle } = require('./lib/callbacks.js')
const { pace } = require('./lib/pace.js')

const kLocation = Symbol('location')
const kNative = Symbol('native')
const kPending = Symbol('pending')

const OPEN_OPTIONS = [
  'createIfMissing', 'errorIfExists', 'compression', 'cacheSize', 'writeBufferSize', 'blockSize',
  'maxOpenFiles', 'blockRestartInterval', 'maxFileSize'
]

function requireLocation (location) {
  if (typeof location !== 'string' || location === '') {
    throw new TypeError("The first argument 'location' must be a non-empty string")
  }
}

function notOpen (method) {
  const err = new Error(`Database is not open: cannot call ${method}() after close()`)
  err.code = 'LEVEL_DATABASE_NOT_OPEN'
  return err
}

class TodbCore extends AbstractLevel {
  constructor (location, options) {
    requireLocation(location)
    super({
      encodings: { buffer: true, utf8: true, view: true },
      has: true,
      createIfMissing: true,
      errorIfExists: true,
      explicitSnapshots: true,
      getSync: true,
      additionalMethods: { approximateSize: true, compactRange: true },
      signals: { iterators: true }
    }, options)
    this[kLocation] = location
    this[kNative] = new NativeDb(location)
    this[kPending] = new Set()
  }

  get location () {
    return this[kLocation]
  }

  // Work on the pool is tracked so that close() can wait for it, as classic-level does.
  #track (promise) {
    const pending = this[kPending]
    pending.add(promise)
    const done = () => pending.delete(promise)
    promise.then(done, done)
    return promise
  }

  // A non-sync write runs here and is done when the call returns; a sync write, or one that
  // would wait for the background worker (a flush or compaction), goes to the pool.
  #write (batch, options) {
    const sync = !!(options && options.sync)
    if (!sync && this[kNative].write(batch)) return pace()
    return this.#track(this[kNative].writeAsync(batch, sync))
  }

  async _open (options) {
    const native = {}
    for (const name of OPEN_OPTIONS) {
      if (options[name] !== undefined) native[name] = options[name]
    }
    return this.#track(this[kNative].open(native))
  }

  async _close () {
    while (this[kPending].size > 0) {
      await Promise.allSettled([...this[kPending]])
    }
    return this[kNative].close()
  }

  async _get (key, options) {
    return pace(this._getSync(key, options))
  }

  _getSync (key, options) {
    return this[kNative].get(plainBytes(key), options.valueEncoding === 'utf8', options.fillCache !== false, nativeSnapshot(options))
  }

  async _getMany (keys, options) {
    return pace(this[kNative].getMany(keys.map(plainBytes), options.valueEncoding === 'utf8', options.fillCache !== false, nativeSnapshot(options)))
  }

  async _has (key, options) {
    return pace(this[kNative].has(plainBytes(key), nativeSnapshot(options)))
  }

  async _hasMany (keys, options) {
    return pace(this[kNative].hasMany(keys.map(plainBytes), nativeSnapshot(options)))
  }

  async _put (key, value, options) {
    if (!options.sync && this[kNative].put(plainBytes(key), plainBytes(value))) return pace()
    const batch = new NativeBatch()
    batch.put(plainBytes(key), plainBytes(value))
    return this.#write(batch, options)
  }

  async _del (key, options) {
    if (!options.sync && this[kNative].del(plainBytes(key))) return pace()
    const batch = new NativeBatch()
    batch.del(plainBytes(key))
    return this.#write(batch, options)
  }

  async _batch (operations, options) {
    const batch = new NativeBatch()
    for (const op of operations) {
      if (op.type === 'put') batch.put(plainBytes(op.key), plainBytes(op.value))
      else batch.del(plainBytes(op.key))
    }
    return this.#write(batch, options)
  }

  _chainedBatch () {
    return new ChainedBatch(this, (batch, options) => this.#write(batch, options))
  }

  async _clear (options) {
    const [lower, lowerInclusive, upper, upperInclusive] = nativeRange(options)
    const limit = Number.isInteger(options.limit) && options.limit >= 0 ? options.limit : -1
    return this.#track(this[kNative].clear(options.reverse, lower, lowerInclusive, upper, upperInclusive, limit, nativeSnapshot(options)))
  }

  _iterator (options) {
    return new Iterator(this, this[kNative], options)
  }

  _keys (options) {
    return new KeyIterator(this, this[kNative], options)
  }

  _values (options) {
    return new ValueIterator(this, this[kNative], options)
  }

  _snapshot (options) {
    return new Snapshot(options, this[kNative].snapshot())
  }

  _sublevel (name, options) {
    return new TodbSublevel(this, name, options)
  }

  // classic-level's extra range methods: both need a start and an end, wait for a pending open,
  // encode the range with the key encoding, and run on the pool.
  async #rangeMethod (method, start, end, options, run) {
    if (typeof options !== 'object' || options === null) options = null
    if (this.status === 'opening') return this.deferAsync(() => this[method](start, end, options))
    if (this.status !== 'open') throw notOpen(method)
    const keyEncoding = this.keyEncoding(options && options.keyEncoding)
    return this.#track(run(keyEncoding.encode(start), keyEncoding.encode(end)))
  }

  async approximateSize (start, end, options) {
    if (arguments.length < 2) throw new TypeError("The arguments 'start' and 'end' are required")
    return this.#rangeMethod('approximateSize', start, end, options, (s, e) => this[kNative].approximateSize(s, e))
  }

  async compactRange (start, end, options) {
    if (arguments.length < 2) throw new TypeError("The arguments 'start' and 'end' are required")
    return this.#rangeMethod('compactRange', start, end, options, (s, e) => this[kNative].compactRange(s, e))
  }

  getProperty (property) {
    if (typeof property !== 'string') throw new TypeError("The first argument 'property' must be a string")
    if (this.status !== 'open') {
      const err = new Error('Database is not open')
      err.code = 'LEVEL_DATABASE_NOT_OPEN'
      throw err
    }
    const value = this[kNative].getProperty(property)
    return value == null ? undefined : value
  }

  static async destroy (location) {
    requireLocation(location)
    return NativeDb.destroy(location)
  }

  static async repair (location) {
    requireLocation(location)
    return NativeDb.repair(location)
  }
}

class TodbSublevel extends withCallbacks(AbstractSublevel) {
  _sublevel (name, options) {
    return new TodbSublevel(this, name, options)
  }
}

class Todb extends withCallbacks(TodbCore) {
  // new Todb(location, [options], [callback]): the callback gets (err, db) once open.
  constructor (location, options, callback) {
    if (typeof options === 'function') {
      callback = options
      options = undefined
    }
    super(location, options)
    if (typeof callback === 'function') {
      settle(() => this.open(), (err) => callback(err || null, err ? undefined : this))
    }
  }

  static destroy (location, ...rest) {
    const callback = popCallback(rest)
    if (callback === null) return TodbCore.destroy(location)
    settle(() => TodbCore.destroy(location), callback)
  }

  static repair (location, ...rest) {
    const callback = popCallback(rest)
    if (callback === null) return TodbCore.repair(location)
    settle(() => TodbCore.repair(location), callback)
  }
}

exports.Todb = Todb
exports.ClassicLevel = Todb
