'use strict'

// todb: an embedded, sorted key-value store over a LevelDB-format engine in Rust, shaped as
// classic-level 3 (abstract-level 3) so that changing the `require` is the whole migration, and
// also taking leveldown/levelup-style callbacks and streams.

const { AbstractLevel, AbstractSublevel } = require('abstract-level')
const { NativeDb } = require('./binding.js')
const { WriteBatch } = require('./lib/write-batch.js')
const { KeyList } = require('./lib/packed-bytes.js')
const { Iterator, KeyIterator, ValueIterator } = require('./lib/iterator.js')
const { ChainedBatch } = require('./lib/chained-batch.js')
const { Snapshot, nativeSnapshot } = require('./lib/snapshot.js')
const { nativeRange, plainBytes } = require('./lib/range.js')
const { withCallbacks, popCallback, settle } = require('./lib/callbacks.js')
const { pace } = require('./lib/pace.js')
const { scratch, scratchInts, copyOut } = require('./lib/scratch.js')
const { Server, checkOptions } = require('./lib/server.js')

const kLocation = Symbol('location')
const kNative = Symbol('native')
const kPending = Symbol('pending')
const kCoalesced = Symbol('coalesced')
const kSpare = Symbol('spare')
const kReads = Symbol('reads')
const kSpareKeys = Symbol('spareKeys')
const kReadsInFlight = Symbol('readsInFlight')
const kLoneGet = Symbol('loneGet')
const kLoneGets = Symbol('loneGets')
const kServers = Symbol('servers')

// Reads gathered in one tick go to native code together, at most this many per call.
const MAX_READ_BATCH = 256
// Microtask passes without a new get after which gathered gets are answered (see #gatherReads).
const QUIET_PASSES = 2

// What #read returns for a memory-only read that needs the disk.
const COLD = Symbol('cold')

const OPEN_OPTIONS = [
  'createIfMissing', 'errorIfExists', 'compression', 'cacheSize', 'writeBufferSize', 'blockSize',
  'maxOpenFiles', 'blockRestartInterval', 'maxFileSize', 'inMemory', 'multithreading',
  'readOnly'
]

// Writes `batch` on this thread; false, with nothing written, when the write would wait for the
// background worker (then use writeOnPool). Native code copies the batch: it may be reused after.
function writeHere (native, batch) {
  batch.seal()
  return native.write(batch.data, batch.size, batch.layout, batch.layoutSize)
}

// Writes `batch` on the pool, waiting for room and, with `sync`, for an fsync.
function writeOnPool (native, batch, sync) {
  batch.seal()
  return native.writeAsync(batch.data, batch.size, batch.layout, batch.layoutSize, sync)
}

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
    this[kNative].setScratch(scratch)
    this[kPending] = new Set()
    this[kCoalesced] = null
    this[kSpare] = null
    this[kReads] = null
    this[kSpareKeys] = null
    // Gathered gets not yet settled, including those sent on to the pool.
    this[kReadsInFlight] = 0
    this[kLoneGet] = false
    this[kLoneGets] = true
    this[kServers] = new Set()
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
  // would wait for the background worker (a flush or compaction), goes to the pool. Writes
  // coalesced for this tick go first, so writes apply in the order they were made.
  // `owned`: the batch is the database's own and may be reused once written; a chained batch's
  // belongs to it (its close() clears it).
  #write (batch, options, owned) {
    this.#flushReads()
    this.#flushWrites()
    const sync = !!(options && options.sync)
    let result
    try {
      const written = !sync && writeHere(this[kNative], batch)
      result = written ? pace() : this.#track(writeOnPool(this[kNative], batch, sync))
    } finally {
      // Native code copied the batch (or refused it): it can be emptied and reused.
      batch.clear()
      if (owned) this[kSpare] = batch
    }
    return result
  }

  // Group commit on the calling thread: non-sync puts, dels and batches made in one tick share a
  // native batch, written with one log append when the tick's microtasks run (or sooner, when a
  // read or another write needs it applied). Each still settles only after that append, so the
  // durability contract holds; 64 writes in flight cost one append instead of 64.
  #pendingBatch () {
    // Gets made before this write must not see it (and they see the writes made before them).
    this.#flushReads()
    if (this[kCoalesced] === null) {
      const group = { batch: this.#spareBatch(), resolve: null, reject: null, promise: null }
      group.promise = new Promise((resolve, reject) => { group.resolve = resolve; group.reject = reject })
      this[kCoalesced] = group
      queueMicrotask(() => this.#flushWrites())
    }
    return this[kCoalesced]
  }

  // Batches are emptied by a write and reused, with the memory they grew.
  #spareBatch () {
    const batch = this[kSpare]
    if (batch === null) return new WriteBatch()
    this[kSpare] = null
    return batch
  }

  #flushWrites () {
    const group = this[kCoalesced]
    if (group === null) return
    this[kCoalesced] = null
    const batch = group.batch
    try {
      const written = writeHere(this[kNative], batch)
      if (!written) this.#track(writeOnPool(this[kNative], batch, false)).then(group.resolve, group.reject)
      if (written) {
        const paced = pace()
        if (paced === undefined) group.resolve()
        else paced.then(group.resolve)
      }
    } catch (err) {
      group.reject(err)
    } finally {
      batch.clear()
      this[kSpare] = batch
    }
  }

  async _open (options) {
    const native = {}
    for (const name of OPEN_OPTIONS) {
      if (options[name] !== undefined) native[name] = options[name]
    }
    return this.#track(this[kNative].open(native))
  }

  // Serves this database over the network (Redis or memcache protocol): resolves to a Server
  // once it listens. Network clients and this process read and write the same keys.
  async serve (options) {
    options = checkOptions(options)
    if (this.status === 'opening') await this.open()
    if (this.status !== 'open') throw notOpen('serve')
    const native = {}
    for (const [name, value] of Object.entries(options)) {
      if (value !== undefined) native[name] = value
    }
    return new Server(this[kNative].serve(native), this[kServers])
  }

  // Catches a readOnly database up with its writer (a no-op on a writer). Gets made before it
  // are answered first, from the state they were made on.
  async refresh () {
    if (this.status === 'opening') return this.deferAsync(() => this.refresh())
    if (this.status !== 'open') throw notOpen('refresh')
    this.#flushReads()
    return this.#track(this[kNative].refresh())
  }

  async _close () {
    await Promise.all([...this[kServers]].map((server) => server.close()))
    this.#flushReads()
    this.#flushWrites()
    while (this[kPending].size > 0) {
      await Promise.allSettled([...this[kPending]])
    }
    return this[kNative].close()
  }

  // Not async. Gets made in one tick are gathered and answered together when the tick's
  // microtasks run (or sooner, when a write needs them done first), in one native call that
  // shares the work with helper threads (src/binding/crew.rs). Each reads memory only
  // (memtables, cached blocks, table pages the OS holds); a read that would wait on the disk goes
  // to the pool instead, so the event loop never waits on it.
  _get (key, options) {
    if (options.snapshot != null || options.fillCache === false) return this.#getOne(key, options)
    let reads = this[kReads]
    if (reads === null && this[kReadsInFlight] === 0 && this[kLoneGets] && !this[kLoneGet]) {
      // While gets come one at a time (the last gathering held one), the first get of a
      // microtask pass is answered at once, which spares a caller that awaits each get the
      // gathering's microtask passes (about a tenth of an awaited get). Another get in the same
      // pass gathers as below. Once gets come together, they all gather: a get answered at once
      // lets its caller loop on alone, out of step with the rest, and batching falls apart.
      this[kLoneGet] = true
      queueMicrotask(() => { this[kLoneGet] = false })
      return this.#getOne(key, options)
    }
    if (reads === null) {
      reads = { keys: this[kSpareKeys] || new KeyList(), waiters: [], seen: 0, quiet: 0 }
      this[kSpareKeys] = null
      this[kReads] = reads
      queueMicrotask(() => this.#gatherReads(reads))
    }
    reads.keys.add(key)
    this[kReadsInFlight]++
    const promise = new Promise((resolve, reject) => reads.waiters.push({ key, options, resolve, reject }))
    if (reads.keys.count >= MAX_READ_BATCH) this.#flushReads()
    return promise
  }

  // Waits at the back of the microtask queue until a few passes bring no new get, then answers.
  // Callers awaiting gets in a loop reach their next get a few microtasks after the previous one
  // settles. A caller whose get went to the pool comes back in a task of its own, and answering
  // it alone would keep it out of step with the others for good (it would loop alone until it
  // yields); so while other gets are in flight elsewhere, the gathered ones wait for the end of
  // this turn of the event loop (setImmediate), where the callers whose gets settled meanwhile
  // join them.
  #gatherReads (reads) {
    if (this[kReads] !== reads) return
    if (reads.keys.count !== reads.seen) {
      reads.seen = reads.keys.count
      reads.quiet = 0
    } else if (++reads.quiet >= QUIET_PASSES) {
      if (this[kReadsInFlight] === reads.keys.count) return this.#flushReads()
      return setImmediate(() => { if (this[kReads] === reads) this.#flushReads() })
    }
    queueMicrotask(() => this.#gatherReads(reads))
  }

  #getOne (key, options) {
    const value = this.#read(key, options, true)
    if (value !== COLD) return pace(value)
    return this.#track(this[kNative].getAsync(plainBytes(key), options.valueEncoding === 'utf8', options.fillCache !== false, nativeSnapshot(options)))
  }

  // Answers the gathered gets. Values are taken out of the scratch Buffer before any get that
  // needs another call (too big, on the disk, or failed) reuses it.
  #flushReads () {
    const reads = this[kReads]
    if (reads === null) return
    this[kReads] = null
    const { keys, waiters } = reads
    this[kLoneGets] = waiters.length === 1
    const later = []
    try {
      if (waiters.length === 1) {
        later.push(waiters[0])
      } else {
        this.#flushWrites()
        keys.seal()
        this[kNative].getBatch(keys.data, keys.layout, keys.count, true)
        let at = waiters.length * 4
        for (let i = 0; i < waiters.length; i++) {
          const status = scratchInts[i]
          const waiter = waiters[i]
          if (status >= 0) {
            this[kReadsInFlight]--
            waiter.resolve(waiter.options.valueEncoding === 'utf8' ? scratch.toString('utf8', at, at + status) : copyOut(at, status))
            at += status
          } else if (status === -1) {
            this[kReadsInFlight]--
            waiter.resolve(undefined)
          } else {
            later.push(waiter)
          }
        }
      }
    } catch (err) {
      this[kReadsInFlight] -= waiters.length
      for (const waiter of waiters) waiter.reject(err)
      return
    } finally {
      keys.clear()
      this[kSpareKeys] = keys
    }
    const settled = () => { this[kReadsInFlight]-- }
    for (const waiter of later) {
      try {
        const value = this.#getOne(waiter.key, waiter.options)
        if (value instanceof Promise) value.then(settled, settled)
        else settled()
        waiter.resolve(value)
      } catch (err) {
        settled()
        waiter.reject(err)
      }
    }
  }

  // getSync() must answer here and now: it may wait on the disk, as classic-level's does.
  _getSync (key, options) {
    return this.#read(key, options, false)
  }

  // The value of `key`, or COLD when `memoryOnly` and the read needs the disk.
  #read (key, options, memoryOnly) {
    this.#flushWrites()
    const fillCache = options.fillCache !== false
    if (options.valueEncoding !== 'utf8' && options.snapshot == null) {
      // Buffer values come through the scratch Buffer and Node's pooled allocator.
      const length = this[kNative].getInto(plainBytes(key), fillCache, memoryOnly)
      if (length === -1) return undefined
      if (length === -3) return COLD
      if (length >= 0) return copyOut(0, length)
    }
    const value = this[kNative].get(plainBytes(key), options.valueEncoding === 'utf8', fillCache, nativeSnapshot(options), memoryOnly)
    return value === null ? COLD : value
  }

  async _getMany (keys, options) {
    this.#flushWrites()
    return pace(this[kNative].getMany(keys.map(plainBytes), options.valueEncoding === 'utf8', options.fillCache !== false, nativeSnapshot(options)))
  }

  async _has (key, options) {
    this.#flushWrites()
    return pace(this[kNative].has(plainBytes(key), nativeSnapshot(options)))
  }

  async _hasMany (keys, options) {
    this.#flushWrites()
    return pace(this[kNative].hasMany(keys.map(plainBytes), nativeSnapshot(options)))
  }

  // Not async: the group's promise is returned as is, with no promise around it.
  _put (key, value, options) {
    const batch = options.sync ? this.#spareBatch() : this.#pendingBatch().batch
    batch.put(key, value)
    return options.sync ? this.#write(batch, options, true) : this[kCoalesced].promise
  }

  _del (key, options) {
    const batch = options.sync ? this.#spareBatch() : this.#pendingBatch().batch
    batch.del(key)
    return options.sync ? this.#write(batch, options, true) : this[kCoalesced].promise
  }

  // abstract-level's batch() clones each operation and looks its encodings up one by one: the
  // call cost 0.25 us per small put that way, 0.18 us here. When nothing can tell the
  // difference (the database is open, with no prewrite hook and no 'write' listener, and every
  // operation is a plain put with a key and a value or a del with a key, with no encodings or
  // sublevel of its own), the operations are encoded here, straight into the write. Anything
  // else takes abstract-level's path, which also reports every error.
  batch (operations, options) {
    if (arguments.length === 0 || !this.#plainBatch(operations, options)) return super.batch(...arguments)
    const keyEncoding = this.keyEncoding()
    const valueEncoding = this.valueEncoding()
    const length = operations.length
    // Encoded in full before any of it joins a write, so that an encoding that throws leaves
    // nothing half-written.
    const keys = new Array(length)
    const values = new Array(length)
    try {
      for (let i = 0; i < length; i++) {
        const op = operations[i]
        keys[i] = keyEncoding.encode(op.key)
        if (op.type === 'put') values[i] = valueEncoding.encode(op.value)
      }
    } catch (err) {
      return Promise.reject(err)
    }
    const sync = !!(options && options.sync)
    const batch = sync ? this.#spareBatch() : this.#pendingBatch().batch
    for (let i = 0; i < length; i++) {
      if (operations[i].type === 'put') batch.put(keys[i], values[i])
      else batch.del(keys[i])
    }
    return sync ? this.#write(batch, options, true) : this[kCoalesced].promise
  }

  // Whether batch(operations, options) may take the path above.
  #plainBatch (operations, options) {
    if (this.status !== 'open' || !this.hooks.prewrite.noop || this.listenerCount('write') > 0) return false
    if (!Array.isArray(operations) || operations.length === 0) return false
    if (options != null && (typeof options !== 'object' || options.keyEncoding != null ||
      options.valueEncoding != null || options.sublevel != null)) return false
    for (let i = 0; i < operations.length; i++) {
      const op = operations[i]
      if (typeof op !== 'object' || op === null || op.key == null) return false
      if (op.keyEncoding != null || op.valueEncoding != null || op.sublevel != null) return false
      if (op.type === 'put' ? op.value == null : op.type !== 'del') return false
    }
    return true
  }

  // The operations join the group whole, so the batch stays atomic.
  _batch (operations, options) {
    const batch = options.sync ? this.#spareBatch() : this.#pendingBatch().batch
    for (const op of operations) {
      if (op.type === 'put') batch.put(op.key, op.value)
      else batch.del(op.key)
    }
    return options.sync ? this.#write(batch, options, true) : this[kCoalesced].promise
  }

  _chainedBatch () {
    return new ChainedBatch(this, (batch, options) => this.#write(batch, options, false))
  }

  async _clear (options) {
    this.#flushReads()
    this.#flushWrites()
    const [lower, lowerInclusive, upper, upperInclusive] = nativeRange(options)
    const limit = Number.isInteger(options.limit) && options.limit >= 0 ? options.limit : -1
    return this.#track(this[kNative].clear(options.reverse, lower, lowerInclusive, upper, upperInclusive, limit, nativeSnapshot(options)))
  }

  _iterator (options) {
    this.#flushWrites()
    return new Iterator(this, this[kNative], options)
  }

  _keys (options) {
    this.#flushWrites()
    return new KeyIterator(this, this[kNative], options)
  }

  _values (options) {
    this.#flushWrites()
    return new ValueIterator(this, this[kNative], options)
  }

  _snapshot (options) {
    this.#flushWrites()
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
    this.#flushWrites()
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
