'use strict'

// Keys and values as the command line gives them and as commands print them. On the command line
// they are UTF-8 text, or hex with --hex (for bytes a shell cannot pass). Plain output writes the
// stored bytes as they are; JSON output needs text, so a key or value that is not valid UTF-8 is
// an error there (naming --hex) rather than a silently replaced character.

const buffer = require('node:buffer')
const { UsageError, CliError } = require('./errors.js')

// The range options shared by scan, count and dump (abstract-level's names and precedence).
const RANGE_OPTIONS = {
  gte: { type: 'string' },
  gt: { type: 'string' },
  lte: { type: 'string' },
  lt: { type: 'string' },
  limit: { type: 'integer', min: 0 },
  reverse: { type: 'boolean' }
}

const RANGE_HELP = `Range options (keys as text, or hex with --hex):
  --gte <key>   from <key>, inclusive        --gt <key>   from after <key>
  --lte <key>   up to <key>, inclusive       --lt <key>   up to before <key>
  --limit <n>   at most <n> entries          --reverse    from the last key down
  (--gte wins over --gt and --lte over --lt, as in abstract-level)`

const HEX = /^(?:[0-9a-fA-F]{2})*$/

function argBytes (text, hex, what) {
  if (!hex) return Buffer.from(text, 'utf8')
  if (!HEX.test(text)) throw new UsageError(`${what} '${text}' is not hex (an even number of 0-9a-f digits)`)
  return Buffer.from(text, 'hex')
}

// Iterator options (bounds as Buffers) from parsed RANGE_OPTIONS.
function rangeOptions (values) {
  const range = { reverse: values.reverse, limit: values.limit === undefined ? -1 : values.limit }
  for (const bound of ['gte', 'gt', 'lte', 'lt']) {
    if (values[bound] !== undefined) range[bound] = argBytes(values[bound], values.hex, `--${bound}`)
  }
  return range
}

// Node 18.14+ has buffer.isUtf8; before that a round trip tells the same.
const isUtf8 = typeof buffer.isUtf8 === 'function'
  ? (bytes) => buffer.isUtf8(bytes)
  : (bytes) => Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes)

// `bytes` as a JSON-safe string: hex, or the UTF-8 text it holds.
function shown (bytes, hex, what) {
  if (hex) return bytes.toString('hex')
  if (!isUtf8(bytes)) {
    throw new CliError(`${what} ${JSON.stringify(bytes.toString('hex'))} (hex) is not valid UTF-8 text; use --hex`)
  }
  return bytes.toString('utf8')
}

module.exports = { RANGE_OPTIONS, RANGE_HELP, argBytes, rangeOptions, isUtf8, shown }
