'use strict'

// The commands that work on a database as a whole: compact, repair and destroy. Each ends with
// one summary line on stderr (a JSON line on stdout with --json). compact and repair show
// progress on stderr when it is a terminal: compact advances slice by slice (keyspace.js), while
// repair is one native call that reports nothing until it is done, so it gets an elapsed-time
// spinner rather than a bar that would have to guess.

const fs = require('node:fs')
const path = require('node:path')
const readline = require('node:readline')
const { Todb, withDatabase } = require('./database.js')
const { tableSummary, keyAboveTables } = require('./tables.js')
const { EMPTY, planSlices } = require('./keyspace.js')
const { directoryFiles } = require('./stats.js')
const { Progress, formatBytes } = require('./progress.js')
const { CliError } = require('./errors.js')
const { writeSummary } = require('./output.js')

function tablesText ({ files, bytes }) {
  return `${files} table${files === 1 ? '' : 's'} (${formatBytes(bytes)})`
}

// Flush, plan, then compact slice by slice. The flush is a compactRange over the empty key
// alone: it writes the memtable to a table (so the plan's sizes and its upper bound see every
// key) and compacts only tables that hold the empty key. Progress is in planned bytes: a slice
// counts as done with the size it had when planned, though compacting one slice also rewrites
// whole tables reaching into the next, so later slices tend to go faster than the bar expects.
async function compactAll (db, progress) {
  await db.compactRange(EMPTY, EMPTY)
  const before = tableSummary(db)
  if (before.files === 0) return { before, after: before, slices: 0 }
  const [first] = await db.keys({ limit: 1 }).all()
  const [last] = await db.keys({ reverse: true, limit: 1 }).all()
  const slices = await planSlices(db, keyAboveTables(db), first, last)
  const planned = slices.reduce((n, s) => n + s.bytes, 0)
  // With no size to go by (tables holding only deletions), each slice counts the same.
  const weight = (s) => planned > 0 ? s.bytes : 1
  progress.setTotal(planned > 0 ? planned : slices.length)
  let done = 0
  for (let i = 0; i < slices.length; i++) {
    progress.update(done, `slice ${i + 1}/${slices.length}`)
    await db.compactRange(slices[i].start, slices[i].end)
    done += weight(slices[i])
  }
  progress.update(done, `slice ${slices.length}/${slices.length}`)
  return { before, after: tableSummary(db), slices: slices.length }
}

const compact = {
  name: 'compact',
  synopsis: 'compact <dir> [--json]',
  summary: 'compact the whole key space (db.compactRange), in slices',
  help: `Writes the memtable to a table and compacts every key down the levels, as one
compactRange over all keys would, but one slice of the key space at a time (slices of similar
size on disk, found with approximateSize), so that the progress bar on stderr (drawn when stderr
is a terminal) can advance. Ends with a summary of the tables before and after.

Options:
  --json   the summary as a JSON line on stdout`,
  options: { json: { type: 'boolean' } },
  positionals: ['dir'],
  async run ({ values, positionals: [dir], stdout, stderr }) {
    const started = Date.now()
    const result = await withDatabase(dir, {}, async (db) => {
      const progress = new Progress({ label: 'compact', format: null, stream: stderr })
      try {
        return await compactAll(db, progress)
      } finally {
        progress.finish()
      }
    })
    const before = { files: result.before.files, bytes: result.before.bytes }
    const after = { files: result.after.files, bytes: result.after.bytes }
    writeSummary({ json: values.json, stdout, stderr },
      { command: 'compact', slices: result.slices, before, after, ms: Date.now() - started },
      `compacted ${dir} in ${result.slices} slice${result.slices === 1 ? '' : 's'}: ${tablesText(before)} -> ${tablesText(after)}`)
  }
}

function requireDirectory (dir) {
  if (!fs.existsSync(dir)) throw new CliError(`${dir}: no such directory`)
}

const repair = {
  name: 'repair',
  synopsis: 'repair <dir> [--json]',
  summary: 'rebuild a damaged database from what is readable (Todb.repair)',
  help: `Rebuilds the database's MANIFEST from the tables and logs that can still be read, as
LevelDB's RepairDB does: whatever cannot be read is left out. The database must not be open
anywhere (LEVEL_LOCKED otherwise). Shows an elapsed-time spinner on stderr on a terminal.

Options:
  --json   the summary as a JSON line on stdout`,
  options: { json: { type: 'boolean' } },
  positionals: ['dir'],
  async run ({ values, positionals: [dir], stdout, stderr }) {
    requireDirectory(dir)
    const started = Date.now()
    const progress = new Progress({ label: 'repair', format: null, stream: stderr })
    progress.update(0, 'reading tables and logs')
    try {
      await Todb.repair(path.resolve(dir))
    } finally {
      progress.finish()
    }
    const tables = directoryFiles(dir).kinds.table
    writeSummary({ json: values.json, stdout, stderr },
      { command: 'repair', tables, ms: Date.now() - started },
      `repaired ${dir}: ${tablesText(tables)}`)
  }
}

// Asks on the terminal; resolves true for y or yes.
function confirm (stdin, stderr, question) {
  const rl = readline.createInterface({ input: stdin, output: stderr, terminal: false })
  return new Promise((resolve) => {
    stderr.write(question)
    let answered = false
    rl.once('line', (line) => {
      answered = true
      rl.close()
      resolve(/^\s*y(es)?\s*$/i.test(line))
    })
    rl.once('close', () => { if (!answered) resolve(false) })
  })
}

const destroy = {
  name: 'destroy',
  synopsis: 'destroy <dir> [--yes] [--json]',
  summary: 'delete a database (asks first unless --yes)',
  help: `Deletes every database file in <dir> (Todb.destroy), then <dir> itself unless other
files remain in it. On a terminal it asks "[y/N]" first; with stdin not a terminal (a script, a
pipe) it refuses with exit code 2 unless --yes is given. A missing <dir> is not an error.

Options:
  --yes    do not ask
  --json   the summary as a JSON line on stdout`,
  options: { yes: { type: 'boolean' }, json: { type: 'boolean' } },
  positionals: ['dir'],
  async run ({ values, positionals: [dir], stdin, stdout, stderr }) {
    const location = path.resolve(dir)
    if (!fs.existsSync(location)) {
      writeSummary({ json: values.json, stdout, stderr }, { command: 'destroy', location, destroyed: false },
        `${dir} does not exist; nothing to destroy`)
      return
    }
    if (!values.yes) {
      if (!stdin.isTTY) {
        throw new CliError(`destroy asks for confirmation, and stdin is not a terminal; add --yes to destroy ${dir} without asking`, { exitCode: 2 })
      }
      const { files, bytes } = directoryFiles(location)
      const yes = await confirm(stdin, stderr, `Destroy the database in ${location} (${files} files, ${formatBytes(bytes)})? [y/N] `)
      if (!yes) throw new CliError('not destroyed')
    }
    await Todb.destroy(location)
    const remains = fs.existsSync(location)
    writeSummary({ json: values.json, stdout, stderr }, { command: 'destroy', location, destroyed: true },
      `destroyed ${dir}` + (remains ? ' (the directory stays: it holds files that are not the database\'s)' : ''))
  }
}

module.exports = { commands: [compact, repair, destroy] }
