'use strict'

// dump and load: a database, or a key range of it, to and from the JSON lines of jsonl.js.
// dump | load into a new directory reproduces every key and value byte for byte (with --base64
// for bytes that are not UTF-8 text; without it dump stops at the first such key or value
// instead of changing it). load adds to what the database holds (a key already there takes the
// loaded value) and writes in batches: a load that fails part way leaves the batches before the
// failure written.

const fs = require('node:fs')
const { withDatabase } = require('./database.js')
const { RANGE_OPTIONS, RANGE_HELP, rangeOptions } = require('./bytes.js')
const { headerLine, entryLine, headerEncoding, decodeEntry, readLines } = require('./jsonl.js')
const { Output, writeSummary } = require('./output.js')
const { Progress, formatBytes } = require('./progress.js')
const { CliError, UsageError } = require('./errors.js')
const { NEXTV_SIZE } = require('./data.js')

// A load batch is written once it holds this many entries or bytes, whichever comes first.
const BATCH_ENTRIES = 1000
const BATCH_BYTES = 4 * 1024 * 1024
// How often a dump asks where it is (one approximateSize call, on the pool).
const PROBE_MS = 100

function entries (n) {
  return `${n} ${n === 1 ? 'entry' : 'entries'}`
}

function counted (keys, bytes) {
  return `${keys.toLocaleString('en-US')} keys  ${formatBytes(bytes)}`
}

// Dump progress is the share of the range's table bytes (db.approximateSize) behind the last key
// written: cheap (no counting pass) and in one unit from start to end. It counts tables only, not
// the memtable, but a database just opened has its logs flushed into tables, so for a dump that
// is all of it. An empty estimate (no tables in the range) leaves a spinner with the counts.
async function dumpTracker (db, range, progress) {
  if (!progress.enabled) return () => {}
  const bounds = {}
  for (const name of ['gte', 'gt', 'lte', 'lt']) if (range[name] !== undefined) bounds[name] = range[name]
  const [first] = await db.keys({ ...bounds, limit: 1 }).all()
  const [last] = await db.keys({ ...bounds, reverse: true, limit: 1 }).all()
  const total = first === undefined ? 0 : await db.approximateSize(first, last)
  progress.setTotal(total > 0 ? 1 : 0)
  let probed = 0
  return async (key, keys, bytes) => {
    progress.update(progress.done, counted(keys, bytes))
    const now = Date.now()
    if (total === 0 || now - probed < PROBE_MS) return
    probed = now
    const behind = range.reverse ? await db.approximateSize(key, last) : await db.approximateSize(first, key)
    let fraction = behind / total
    if (range.limit > 0) fraction = Math.max(fraction, keys / range.limit)
    progress.update(Math.min(1, fraction))
  }
}

const dump = {
  name: 'dump',
  synopsis: 'dump <dir> [range options] [--base64] [--output <file>] [--json]',
  summary: 'write entries as JSON lines (to stdout, or a file)',
  help: `Writes a header line and then one {"key":...,"value":...} line per entry, in key order.
Keys and values are UTF-8 text by default; a key or value that is not valid UTF-8 stops the dump
with an error (nothing is ever replaced). With --base64 they are base64 and any bytes work. The
header records which: {"todb":"dump","version":1,"encoding":"utf8"} (or "base64"), and load
reads it. A progress bar is drawn on stderr when stderr is a terminal.

${RANGE_HELP}

Options:
  --base64          write keys and values as base64
  --output <file>   write the dump to <file> instead of stdout
  --hex             keys in range options are hex
  --json            the closing summary as a JSON line (on stdout with --output, else stderr)`,
  options: { ...RANGE_OPTIONS, base64: { type: 'boolean' }, output: { type: 'string' }, hex: { type: 'boolean' }, json: { type: 'boolean' } },
  positionals: ['dir'],
  async run ({ values, positionals: [dir], stdout, stderr }) {
    const encoding = values.base64 ? 'base64' : 'utf8'
    const range = rangeOptions(values)
    const started = Date.now()
    const { keys, bytes } = await withDatabase(dir, {}, async (db) => {
      const out = new Output(values.output === undefined ? stdout : fs.createWriteStream(null, { fd: openFile(values.output, 'w') }))
      const progress = new Progress({ label: 'dump', format: null, stream: stderr })
      let keys = 0
      let bytes = 0
      try {
        const track = await dumpTracker(db, range, progress)
        out.write(headerLine(encoding))
        const it = db.iterator(range)
        try {
          for (let batch = await it.nextv(NEXTV_SIZE); batch.length > 0; batch = await it.nextv(NEXTV_SIZE)) {
            for (const [key, value] of batch) {
              out.write(entryLine(key, value, encoding))
              keys++
              bytes += key.length + value.length
            }
            await out.flush()
            await track(batch[batch.length - 1][0], keys, bytes)
          }
        } finally {
          await it.close()
        }
        await out.end()
      } finally {
        progress.finish()
      }
      return { keys, bytes }
    })
    writeSummary({ json: values.json, stdout, stderr, dataOnStdout: values.output === undefined },
      { command: 'dump', keys, bytes, encoding, ms: Date.now() - started },
      `dumped ${entries(keys)} (${formatBytes(bytes)} of keys and values, ${encoding})`)
  }
}

// Opened here, synchronously, so that a bad path is one clear error before any work starts.
function openFile (file, flags) {
  try {
    return fs.openSync(file, flags)
  } catch (err) {
    throw new CliError(`cannot ${flags === 'r' ? 'read' : 'write'} ${file}: ${err.message}`)
  }
}

// The input's size when it is a regular file (a named file or `< file`), else 0 (a pipe).
function inputSize (fd) {
  try {
    const stat = fs.fstatSync(fd)
    return stat.isFile() ? stat.size : 0
  } catch {
    return 0
  }
}

const load = {
  name: 'load',
  synopsis: 'load <dir> [<file> | -] [--base64] [--json]',
  summary: 'add the entries of a dump to a database (creates it if needed)',
  help: `Reads a dump (JSON lines, see dump) from <file>, or from stdin when <file> is '-' or left
out, and puts every entry. The encoding comes from the dump's header line; a file without a
header is read as UTF-8 text, or as base64 with --base64. Blank lines are skipped. Existing keys
take the loaded values; other keys are left alone. A progress bar (in input bytes, when the input
is a file) is drawn on stderr when stderr is a terminal.

Options:
  --base64   a dump without a header line has base64 keys and values
  --json     the closing summary as a JSON line on stdout`,
  options: { base64: { type: 'boolean' }, json: { type: 'boolean' } },
  positionals: ['dir', 'file'],
  optional: 1,
  async run ({ values, positionals: [dir, file = '-'], stdin, stdout, stderr }) {
    if (file === '-' && stdin.isTTY) throw new UsageError('load reads a dump from a file or a pipe, and stdin is a terminal')
    const fd = file === '-' ? 0 : openFile(file, 'r')
    const input = file === '-' ? stdin : fs.createReadStream(null, { fd })
    const total = inputSize(fd)
    const started = Date.now()
    const result = await withDatabase(dir, { create: true }, async (db) => {
      const progress = new Progress({ label: 'load', total, format: (n) => `${formatBytes(n)} read`, stream: stderr })
      let encoding
      let keys = 0
      let bytes = 0
      let read = 0
      let batch = db.batch()
      let batchBytes = 0
      try {
        for await (const line of readLines(input)) {
          read += line.bytes
          if (line.text.trim() === '') continue
          let object
          try {
            object = JSON.parse(line.text)
          } catch (err) {
            throw new CliError(`line ${line.number}: not JSON (${err.message})`)
          }
          if (encoding === undefined) {
            encoding = headerEncoding(object, line.number)
            if (encoding !== undefined) {
              if (values.base64 && encoding !== 'base64') throw new CliError(`--base64 given, but the dump's header says its encoding is ${encoding}`)
              continue
            }
            encoding = values.base64 ? 'base64' : 'utf8'
          }
          const [key, value] = decodeEntry(object, encoding, line.number)
          batch.put(key, value)
          batchBytes += key.length + value.length
          keys++
          bytes += key.length + value.length
          if (batch.length >= BATCH_ENTRIES || batchBytes >= BATCH_BYTES) {
            await batch.write()
            batch = db.batch()
            batchBytes = 0
          }
          progress.update(read, counted(keys, bytes))
        }
        if (batch.length > 0) await batch.write()
        else await batch.close()
      } catch (err) {
        await batch.close().catch(() => {})
        throw err
      } finally {
        progress.finish()
      }
      return { keys, bytes, encoding: encoding || (values.base64 ? 'base64' : 'utf8') }
    })
    writeSummary({ json: values.json, stdout, stderr },
      { command: 'load', ...result, ms: Date.now() - started },
      `loaded ${entries(result.keys)} (${formatBytes(result.bytes)} of keys and values, ${result.encoding})`)
  }
}

module.exports = { commands: [dump, load] }
