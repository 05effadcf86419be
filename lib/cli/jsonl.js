'use strict'

// The dump format of `todb dump` and `todb load`: JSON lines, UTF-8, one object per line.
//
//   line 1:   {"todb":"dump","version":1,"encoding":"utf8"}      (or "encoding":"base64")
//   then:     {"key":"<k>","value":"<v>"}                          one per entry, in key order
//
// The header says how every key and value of the file is written: "utf8", the bytes as JSON text
// (only possible when each is valid UTF-8), or "base64", RFC 4648 base64 with padding (any bytes).
// load takes the encoding from the header; a file without one (written by another tool) is read
// as utf8, or as base64 with --base64. Both encodings are exact: a key or value that cannot be
// written as utf8 is an error at dump time, never a replaced character, and load refuses a string
// that would not decode back to the same text (a lone surrogate, non-canonical base64).

const { CliError } = require('./errors.js')
const { isUtf8 } = require('./bytes.js')

const FORMAT = 'dump'
const VERSION = 1
const ENCODINGS = ['utf8', 'base64']

function headerLine (encoding) {
  return JSON.stringify({ todb: FORMAT, version: VERSION, encoding }) + '\n'
}

function entryLine (key, value, encoding) {
  return `{"key":${JSON.stringify(encodeBytes(key, encoding, 'key'))},"value":${JSON.stringify(encodeBytes(value, encoding, 'value'))}}\n`
}

function encodeBytes (bytes, encoding, what) {
  if (encoding === 'base64') return bytes.toString('base64')
  if (!isUtf8(bytes)) {
    throw new CliError(`a ${what} is not valid UTF-8 text (hex ${bytes.toString('hex')}); dump with --base64 to keep any bytes`)
  }
  return bytes.toString('utf8')
}

// The header's encoding if `object` (a parsed first line) is a header, else undefined.
function headerEncoding (object, lineNumber) {
  if (object === null || typeof object !== 'object' || !('todb' in object)) return undefined
  if (object.todb !== FORMAT || object.version !== VERSION || !ENCODINGS.includes(object.encoding)) {
    throw new CliError(`line ${lineNumber}: unsupported dump header ${JSON.stringify(object)} (this todb reads version ${VERSION}, encoding utf8 or base64)`)
  }
  return object.encoding
}

// [key, value] Buffers of an entry line already parsed as JSON.
function decodeEntry (object, encoding, lineNumber) {
  if (object === null || typeof object !== 'object' || typeof object.key !== 'string' || typeof object.value !== 'string') {
    throw new CliError(`line ${lineNumber}: expected {"key":"...","value":"..."}`)
  }
  return [decodeBytes(object.key, encoding, lineNumber, 'key'), decodeBytes(object.value, encoding, lineNumber, 'value')]
}

function decodeBytes (text, encoding, lineNumber, what) {
  const bytes = Buffer.from(text, encoding)
  // Buffer.from skips characters that are not base64 and replaces lone surrogates; a string that
  // does not come back the same was not what a dump writes, and loading it would change bytes.
  if (bytes.toString(encoding) !== text) {
    throw new CliError(`line ${lineNumber}: the ${what} is not ${encoding === 'base64' ? 'canonical base64' : 'well-formed Unicode text'}`)
  }
  return bytes
}

// Yields { text, bytes, number } for each line of `stream` (bytes counts the line's newline).
// The input must be UTF-8: invalid bytes are an error, not replacement characters. A trailing
// '\r' is dropped, so files edited on Windows load too.
async function * readLines (stream) {
  const decoder = new TextDecoder('utf-8', { fatal: true })
  let pending = []
  let number = 0
  const line = (parts) => {
    const raw = parts.length === 1 ? parts[0] : Buffer.concat(parts)
    number++
    let text
    try {
      text = decoder.decode(raw)
    } catch {
      throw new CliError(`line ${number}: not UTF-8 text`)
    }
    return { text: text.endsWith('\r') ? text.slice(0, -1) : text, number }
  }
  for await (const chunk of stream) {
    let start = 0
    let nl
    while ((nl = chunk.indexOf(0x0a, start)) !== -1) {
      pending.push(chunk.subarray(start, nl))
      const bytes = pending.reduce((n, p) => n + p.length, 0) + 1
      yield { ...line(pending), bytes }
      pending = []
      start = nl + 1
    }
    if (start < chunk.length) pending.push(chunk.subarray(start))
  }
  if (pending.length > 0) {
    const bytes = pending.reduce((n, p) => n + p.length, 0)
    yield { ...line(pending), bytes }
  }
}

module.exports = { ENCODINGS, headerLine, entryLine, headerEncoding, decodeEntry, readLines }
