'use strict'

// Keys and values handed to native code in one call, instead of one call each (each crossing,
// with its string conversion, cost more than the engine's work on the item).
//
// Two arrays that native code reads in place:
// - `data`: every piece (a key or a value), back to back, as bytes;
// - `layout`: numbers, `stride` per item. With stride 1 every number is a piece's length in
//   bytes; with stride 3 (a write batch) the first of each three is the operation's kind and the
//   other two are lengths.
//
// String pieces are not encoded one by one: they are concatenated (V8 builds a rope) and written
// with one UTF-8 encode when the arrays are sealed, or when a byte piece must go after them. If
// the bytes written equal the UTF-16 length, every character was ASCII and the recorded lengths
// are already byte lengths; otherwise the pending strings are encoded again one at a time, so
// that each is encoded on its own, as Buffer.from(string) would (a lone surrogate at the end of
// one string must not pair with one at the start of the next).

const INITIAL_DATA = 1024
const INITIAL_LAYOUT = 64
// Arrays that grew data past this give the memory back when cleared.
const KEEP_DATA = 1024 * 1024

class PackedBytes {
  constructor (stride) {
    this.stride = stride
    this.data = Buffer.allocUnsafeSlow(INITIAL_DATA)
    this.layout = new Uint32Array(INITIAL_LAYOUT)
    this.clear()
  }

  clear () {
    if (this.data.length > KEEP_DATA) this.data = Buffer.allocUnsafeSlow(INITIAL_DATA)
    // Items added (operations, or keys).
    this.count = 0
    // Bytes of `data` in use; strings in `text` come after them.
    this.size = 0
    this.layoutSize = 0
    this.text = ''
    // The layout's length slots from here on hold lengths of strings in `text`, in UTF-16 units.
    this.textFrom = 0
  }

  // Writes the pending strings into `data`, so that `data` and `layout` describe every item.
  seal () {
    if (this.text.length > 0) this.#writeText()
  }

  // Makes room for one item's numbers.
  reserveItem () {
    if (this.layoutSize + this.stride > this.layout.length) {
      const grown = new Uint32Array(this.layout.length * 2)
      grown.set(this.layout)
      this.layout = grown
    }
  }

  // A number that is not a length (a kind), or a zero length.
  number (value) {
    this.layout[this.layoutSize++] = value
  }

  // A key or value: a string (encoding utf8) or a Uint8Array (encodings buffer and view).
  piece (item) {
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
        // With stride 3, kinds are not lengths; a del's value slot is 0 and stays 0.
        if (this.stride === 3 && slot % 3 === 0) continue
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

// Keys for a batch of reads: one length per key.
class KeyList extends PackedBytes {
  constructor () {
    super(1)
  }

  add (key) {
    this.reserveItem()
    this.piece(key)
    this.count++
  }
}

exports.PackedBytes = PackedBytes
exports.KeyList = KeyList
