'use strict'

// A write batch assembled in JavaScript, so that a batch of N operations crosses into native code
// once instead of N times (each crossing with two strings cost more than the engine's insert).
//
// It holds two arrays the native `write` reads in place:
// - `data`: every key and value, back to back, as bytes;
// - `layout`: three numbers per operation: its kind (1 put, 0 del), the key's length in bytes,
//   and the value's length in bytes (0 for a del, which has no value).
// Native code frames them into LevelDB's WriteBatch encoding (docs/format.md).
//
// String keys and values are not encoded one by one: they are concatenated (V8 builds a rope)
// and written with one UTF-8 encode when the batch is read or when a byte key or value must go
// after them. If the bytes written equal the UTF-16 length, every character was ASCII and the
// recorded lengths are already byte lengths; otherwise the pending strings are encoded again one
// at a time, so that each is encoded on its own, as Buffer.from(string) would (a lone surrogate
// at the end of one string must not pair with one at the start of the next).

const INITIAL_DATA = 1024
const INITIAL_LAYOUT = 64
// A batch that grew its data past this gives the memory back when cleared.
const KEEP_DATA = 1024 * 1024

class WriteBatch {
  constructor () {
    this.data = Buffer.allocUnsafeSlow(INITIAL_DATA)
    this.layout = new Uint32Array(INITIAL_LAYOUT)
    this.count = 0
    // Bytes of `data` in use; strings in `text` come after them.
    this.size = 0
    this.layoutSize = 0
    this.text = ''
    // The layout's length slots from here on hold lengths of strings in `text`, in UTF-16 units.
    this.textFrom = 0
  }

  get length () {
    return this.count
  }

  put (key, value) {
    this.#opening(1)
    this.#piece(key)
    this.#piece(value)
    this.count++
  }

  del (key) {
    this.#opening(0)
    this.#piece(key)
    this.layout[this.layoutSize++] = 0
    this.count++
  }

  clear () {
    if (this.data.length > KEEP_DATA) this.data = Buffer.allocUnsafeSlow(INITIAL_DATA)
    this.count = 0
    this.size = 0
    this.layoutSize = 0
    this.text = ''
    this.textFrom = 0
  }

  // Writes the pending strings into `data`, so that `data` and `layout` describe the whole batch.
  seal () {
    if (this.text.length > 0) this.#writeText()
  }

  // Makes room for the operation's three numbers and records its kind.
  #opening (kind) {
    if (this.layoutSize + 3 > this.layout.length) {
      const grown = new Uint32Array(this.layout.length * 2)
      grown.set(this.layout)
      this.layout = grown
    }
    this.layout[this.layoutSize++] = kind
  }

  // A key or value: a string (encoding utf8) or a Uint8Array (encodings buffer and view).
  #piece (item) {
    if (typeof item === 'string') {
      this.text += item
      this.layout[this.layoutSize++] = item.length
      return
    }
    if (this.text.length > 0) this.#writeText()
    const bytes = item instanceof Uint8Array ? item : new Uint8Array(item.buffer, item.byteOffset, item.byteLength)
    this.#reserve(bytes.length)
    this.data.set(bytes, this.size)
    this.size += bytes.length
    this.layout[this.layoutSize++] = bytes.length
    this.textFrom = this.layoutSize
  }

  #writeText () {
    const text = this.text
    this.#reserve(text.length * 3)
    const written = this.data.write(text, this.size, 'utf8')
    if (written === text.length) {
      this.size += written
    } else {
      let at = 0
      for (let slot = this.textFrom; slot < this.layoutSize; slot++) {
        // Kinds are not lengths; a del's value slot is 0 and stays 0.
        if (slot % 3 === 0) continue
        const units = this.layout[slot]
        const bytes = this.data.write(text.slice(at, at + units), this.size, 'utf8')
        at += units
        this.layout[slot] = bytes
        this.size += bytes
      }
    }
    this.text = ''
    this.textFrom = this.layoutSize
  }

  #reserve (extra) {
    const needed = this.size + extra
    if (needed <= this.data.length) return
    let capacity = this.data.length * 2
    while (capacity < needed) capacity *= 2
    const grown = Buffer.allocUnsafeSlow(capacity)
    this.data.copy(grown, 0, 0, this.size)
    this.data = grown
  }
}

exports.WriteBatch = WriteBatch
