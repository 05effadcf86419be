'use strict'

// The commands that read and write entries one at a time or in key order: get, put, del, scan
// and count. Plain output is for people and shell pipelines (stored bytes as they are, a tab
// between key and value); --json output is one JSON object per line, which tools can parse
// whatever the keys hold (given --hex for bytes that are not UTF-8).

const { withDatabase } = require('./database.js')
const { RANGE_OPTIONS, RANGE_HELP, argBytes, rangeOptions, shown } = require('./bytes.js')
const { Output } = require('./output.js')
const { CliError } = require('./errors.js')

const NEXTV_SIZE = 1000
const TAB = Buffer.from('\t')
const NEWLINE = Buffer.from('\n')

const hexOption = { type: 'boolean' }
const jsonOption = { type: 'boolean' }

// How a key is named in a message: as typed.
function typed (text, hex) {
  return hex ? `${text} (hex)` : JSON.stringify(text)
}

const get = {
  name: 'get',
  synopsis: 'get <dir> <key> [--hex] [--json]',
  summary: 'print the value stored under a key',
  help: `Prints the value of <key> followed by a newline. A missing key prints nothing on stdout,
"not found" on stderr, and exits 1.

Options:
  --hex    <key> is hex, and the value is printed as hex
  --json   print {"key":...,"value":...} instead (text, or hex with --hex)`,
  options: { hex: hexOption, json: jsonOption },
  positionals: ['dir', 'key'],
  async run ({ values, positionals: [dir, keyText], stdout }) {
    const key = argBytes(keyText, values.hex, '<key>')
    const value = await withDatabase(dir, {}, (db) => db.get(key))
    if (value === undefined) throw new CliError(`key ${typed(keyText, values.hex)} not found`)
    const out = new Output(stdout)
    if (values.json) {
      out.write(JSON.stringify({ key: shown(key, values.hex, 'the key'), value: shown(value, values.hex, 'the value') }) + '\n')
    } else {
      out.write(values.hex ? value.toString('hex') : value)
      out.write(NEWLINE)
    }
    await out.end()
  }
}

const put = {
  name: 'put',
  synopsis: 'put <dir> <key> <value> [--hex] [--sync]',
  summary: 'store a value under a key (creates the database if needed)',
  help: `Stores <value> under <key>, replacing any value there. Prints nothing.

Options:
  --hex    <key> and <value> are hex
  --sync   wait until the write is on disk (fsync) before exiting`,
  options: { hex: hexOption, sync: { type: 'boolean' } },
  positionals: ['dir', 'key', 'value'],
  async run ({ values, positionals: [dir, keyText, valueText] }) {
    const key = argBytes(keyText, values.hex, '<key>')
    const value = argBytes(valueText, values.hex, '<value>')
    await withDatabase(dir, { create: true }, (db) => db.put(key, value, { sync: values.sync }))
  }
}

const del = {
  name: 'del',
  synopsis: 'del <dir> <key> [--hex] [--sync]',
  summary: 'delete a key (deleting a missing key is not an error)',
  help: `Deletes <key>. Like the database's del(), deleting a key that is not there succeeds.

Options:
  --hex    <key> is hex
  --sync   wait until the delete is on disk (fsync) before exiting`,
  options: { hex: hexOption, sync: { type: 'boolean' } },
  positionals: ['dir', 'key'],
  async run ({ values, positionals: [dir, keyText] }) {
    const key = argBytes(keyText, values.hex, '<key>')
    await withDatabase(dir, {}, (db) => db.del(key, { sync: values.sync }))
  }
}

const scan = {
  name: 'scan',
  synopsis: 'scan <dir> [range options] [--keys-only] [--hex] [--json]',
  summary: 'print the entries of a key range in order',
  help: `Prints one line per entry, in key order: the key, a tab, the value (the stored bytes as
they are). Keys or values holding tabs or newlines make that ambiguous: use --json or --hex.

${RANGE_HELP}

Options:
  --keys-only   print keys only
  --hex         keys in range options are hex, and keys and values are printed as hex
  --json        print {"key":...,"value":...} per line (text, or hex with --hex)`,
  options: { ...RANGE_OPTIONS, 'keys-only': { type: 'boolean' }, hex: hexOption, json: jsonOption },
  positionals: ['dir'],
  async run ({ values, positionals: [dir], stdout }) {
    const keysOnly = values['keys-only']
    const { hex, json } = values
    const out = new Output(stdout)
    await withDatabase(dir, {}, async (db) => {
      const it = keysOnly ? db.keys(rangeOptions(values)) : db.iterator(rangeOptions(values))
      try {
        for (let batch = await it.nextv(NEXTV_SIZE); batch.length > 0; batch = await it.nextv(NEXTV_SIZE)) {
          for (const item of batch) {
            const [key, value] = keysOnly ? [item] : item
            if (json) {
              const line = { key: shown(key, hex, 'a key') }
              if (!keysOnly) line.value = shown(value, hex, `the value of key ${key.toString('hex')} (hex)`)
              out.write(JSON.stringify(line) + '\n')
            } else {
              out.write(hex ? key.toString('hex') : key)
              if (!keysOnly) {
                out.write(TAB)
                out.write(hex ? value.toString('hex') : value)
              }
              out.write(NEWLINE)
            }
          }
          await out.flush()
        }
      } finally {
        await it.close()
      }
    })
    await out.end()
  }
}

const count = {
  name: 'count',
  synopsis: 'count <dir> [range options] [--hex] [--json]',
  summary: 'count the keys in a key range',
  help: `Prints the number of keys in the range (all keys without range options). This reads every
key in the range: it takes time in proportion to their number.

${RANGE_HELP}

Options:
  --hex    keys in range options are hex
  --json   print {"count":<n>}`,
  options: { ...RANGE_OPTIONS, hex: hexOption, json: jsonOption },
  positionals: ['dir'],
  async run ({ values, positionals: [dir], stdout }) {
    const n = await withDatabase(dir, {}, async (db) => {
      const it = db.keys(rangeOptions(values))
      let total = 0
      try {
        for (let batch = await it.nextv(NEXTV_SIZE); batch.length > 0; batch = await it.nextv(NEXTV_SIZE)) total += batch.length
      } finally {
        await it.close()
      }
      return total
    })
    const out = new Output(stdout)
    out.write(values.json ? JSON.stringify({ count: n }) + '\n' : `${n}\n`)
    await out.end()
  }
}

module.exports = { commands: [get, put, del, scan, count], NEXTV_SIZE }
