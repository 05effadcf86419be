'use strict'

const { AbstractIterator, AbstractKeyIterator, AbstractValueIterator } = require('abstract-level')
const { AbortError } = require('abstract-level/lib/errors')
const { nativeRange } = require('./range.js')
const { nativeSnapshot } = require('./snapshot.js')
const { pace, paceBatch } = require('./pace.js')
const { scratch, scratchWords, copyOut } = require('./scratch.js')
const os = require('node:os')

const kNative = Symbol('native')
const kCache = Symbol('cache')
const kPosition = Symbol('position')
const kFirst = Symbol('first')
const kEnded = Symbol('ended')
const kHighWaterMarkBytes = Symbol('highWaterMarkBytes')
const kSignal = Symbol('signal')
const kKeys = Symbol('keys')
const kValues = Symbol('values')
const kKeyUtf8 = Symbol('keyUtf8')
const kValueUtf8 = Symbol('valueUtf8')
const empty = []

// classic-level's defaults: nextv() batches are bounded by 16 KiB of keys and values, and next()
// caches up to 1000 entries, except right after construction or seek(), when one entry is the
// common need.
const DEFAULT_HIGH_WATER_MARK_BYTES = 16 * 1024
const NEXT_CACHE_SIZE = 1000

// A native batch holds keys and values (either may be left out); each iterator kind
// makes its items out of each key and value.
const entryItem = (key, value) => [key, value]
const keyItem = (key) => key
const valueItem = (key, value) => value

const KEYS_ASCII = 1
const VALUES_ASCII = 2
const littleEndian = os.endianness() === 'LE'

// The first `n` little-endian u32 words of `blob`, as an array to index.
function wordsOf (blob, n) {
  if (littleEndian && blob.byteOffset % 4 === 0) return new Uint32Array(blob.buffer, blob.byteOffset, n)
  const words = new Uint32Array(n)
  for (let i = 0; i < n; i++) words[i] = blob.readUInt32LE(i * 4)
  return words
}

// The keys (or values) of a batch, one run of bytes from `at` to `end`, handed out in order.
class Pieces {
  constructor (blob, at, end, utf8, ascii) {
    this.blob = blob
    this.at = at
    // Strings; otherwise Buffer pieces, views of the batch's memory.
    this.utf8 = utf8
    // All-ASCII strings: one decoded run, cut by byte offsets (which are character offsets).
    this.text = utf8 && ascii ? blob.latin1Slice(at, end) : null
    this.textAt = at
  }

  // Views from now on come from `owned`, a copy of the batch from byte `from` on. For views
  // only: string pieces are read from the batch where it is.
  moveTo (owned, from) {
    this.blob = owned
    this.at -= from
  }

  next (length) {
    const at = this.at
    this.at = at + length
    if (this.text !== null) return this.text.substring(at - this.textAt, at - this.textAt + length)
    if (this.utf8) return this.blob.utf8Slice(at, at + length)
    return Buffer.from(this.blob.buffer, this.blob.byteOffset + at, length)
  }
}

// Reads run on the calling thread: a memtable or a cached block answers without waiting on a
// disk, so each batch is one synchronous native call and the promise settles at once.
function nativeIteratorClass (Base, item, wants) {
  return class extends Base {
    constructor (db, nativeDb, options) {
      // The native cursor comes first: if it throws (a closed snapshot), no half-built iterator
      // is left attached to the database for close() to trip over.
      const [lower, lowerInclusive, upper, upperInclusive] = nativeRange(options)
      const native = nativeDb.iterator(
        options.reverse, lower, lowerInclusive, upper, upperInclusive,
        ...wants(options),
        options.fillCache === true, nativeSnapshot(options)
      )
      super(db, options)
      this[kNative] = native
      this[kKeyUtf8] = options.keyEncoding === 'utf8'
      this[kValueUtf8] = options.valueEncoding === 'utf8'
      ;[this[kKeys], this[kValues]] = wants(options)
      this[kSignal] = options.signal != null ? options.signal : null
      const hwm = options.highWaterMarkBytes
      this[kHighWaterMarkBytes] = Number.isInteger(hwm) && hwm >= 0 ? hwm : DEFAULT_HIGH_WATER_MARK_BYTES
      this[kCache] = empty
      this[kPosition] = 0
      this[kFirst] = true
      this[kEnded] = false
    }

    // Unpacks a native batch (layout in src/binding/iterator.rs) into this kind's items.
    // Buffer keys and values are views of the batch, which highWaterMarkBytes keeps small. A
    // batch in the scratch Buffer is read out before anything else can write there; if it has
    // Buffer pieces, those are first copied out together into a Buffer of their own. String
    // keys (values) that are all ASCII are decoded with one call and cut out of the result:
    // a call per key cost five times as much.
    #fetch (size) {
      const answer = this[kNative].nextv(size, this[kHighWaterMarkBytes])
      const inScratch = typeof answer === 'number'
      const blob = inScratch ? scratch : answer
      const count = blob.readUInt32LE(0)
      if (count === 0) {
        this[kEnded] = true
        return []
      }
      const flags = blob.readUInt32LE(4)
      const words = inScratch && littleEndian ? scratchWords : wordsOf(blob, 2 + 2 * count)
      const keysAt = 8 + count * 8
      let valuesAt = keysAt
      for (let i = 0; i < count; i++) valuesAt += words[2 + i]
      const end = inScratch ? answer : blob.length
      const keys = this[kKeys] ? new Pieces(blob, keysAt, valuesAt, this[kKeyUtf8], flags & KEYS_ASCII) : null
      const values = this[kValues] ? new Pieces(blob, valuesAt, end, this[kValueUtf8], flags & VALUES_ASCII) : null
      const keyViews = keys !== null && !keys.utf8
      const valueViews = values !== null && !values.utf8
      if (inScratch && (keyViews || valueViews)) {
        const copyFrom = keyViews ? keysAt : valuesAt
        const owned = copyOut(copyFrom, end - copyFrom)
        if (keyViews) keys.moveTo(owned, copyFrom)
        if (valueViews) values.moveTo(owned, copyFrom)
      }
      const items = new Array(count)
      for (let i = 0; i < count; i++) {
        const key = keys !== null ? keys.next(words[2 + i]) : undefined
        const value = values !== null ? values.next(words[2 + count + i]) : undefined
        items[i] = item(key, value)
      }
      return items
    }

    // Reads complete synchronously, so an abort can only be seen between the call and its
    // result: with a signal, a read waits one microtask and honours an abort signalled meanwhile.
    async #checkAbort () {
      await null
      if (this[kSignal] !== null && this[kSignal].aborted) throw new AbortError()
    }

    _seek (target, options) {
      this[kCache] = empty
      this[kPosition] = 0
      this[kFirst] = true
      this[kEnded] = false
      this[kNative].seek(target)
    }

    // Neither this nor _nextv is async: abstract-level awaits what they return, and a promise of
    // our own around an answer already in hand was one more per call.
    _next () {
      if (this[kSignal] !== null) return this.#checkAbort().then(() => this.#nextNow())
      return this.#nextNow()
    }

    #nextNow () {
      if (this[kPosition] >= this[kCache].length) {
        if (this[kEnded]) return undefined
        const size = this[kFirst] ? 1 : NEXT_CACHE_SIZE
        this[kFirst] = false
        this[kCache] = this.#fetch(size)
        this[kPosition] = 0
        if (this[kCache].length === 0) return undefined
      }
      return pace(this[kCache][this[kPosition]++])
    }

    _nextv (size, options) {
      if (this[kSignal] !== null) return this.#checkAbort().then(() => this.#nextvNow(size))
      return this.#nextvNow(size)
    }

    #nextvNow (size) {
      this[kFirst] = false
      const cache = this[kCache]
      // Entries cached by next() come first.
      if (this[kPosition] < cache.length) {
        const from = this[kPosition]
        this[kPosition] = Math.min(cache.length, from + size)
        return paceBatch(cache.slice(from, this[kPosition]))
      }
      if (this[kEnded]) return paceBatch([])
      return paceBatch(this.#fetch(size))
    }

    // for await...of reads in batches through the public nextv(), which decodes, counts against
    // the limit and closes on error exactly as next() does, without next()'s cost per entry.
    async * [Symbol.asyncIterator] () {
      try {
        while (true) {
          const batch = await this.nextv(NEXT_CACHE_SIZE)
          if (batch.length === 0) return
          for (const item of batch) yield item
        }
      } finally {
        await this.close()
      }
    }

    async _close () {
      this[kSignal] = null
      this[kCache] = empty
      this[kNative].close()
    }

    // Undocumented, for tests: entries cached by next() and not yet returned.
    get cached () {
      return this[kCache].length - this[kPosition]
    }
  }
}

// Which of keys and values to read. Key and value iterators ignore the keys and values options.
const entryWants = (options) => [options.keys !== false, options.values !== false]
const keyWants = () => [true, false]
const valueWants = () => [false, true]

exports.Iterator = nativeIteratorClass(AbstractIterator, entryItem, entryWants)
exports.KeyIterator = nativeIteratorClass(AbstractKeyIterator, keyItem, keyWants)
exports.ValueIterator = nativeIteratorClass(AbstractValueIterator, valueItem, valueWants)
