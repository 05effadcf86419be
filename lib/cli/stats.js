'use strict'

// `todb stats`: what a database is made of, from its LevelDB properties (levels, tables and
// their sizes, leveldb.stats, leveldb.sstables, the approximate size of the whole key space) and
// from its directory (files by kind). Opening the database replays its logs into a table first,
// so the figures describe the database as any later open will find it.

const fs = require('node:fs')
const path = require('node:path')
const { withDatabase } = require('./database.js')
const { tableSummary, keyAboveTables } = require('./tables.js')
const { EMPTY } = require('./keyspace.js')
const { Output } = require('./output.js')
const { formatBytes } = require('./progress.js')

// The kind of a file in a database directory, by LevelDB's file names.
function kindOf (name) {
  if (/^\d+\.(ldb|sst)$/.test(name)) return 'table'
  if (/^\d+\.log$/.test(name)) return 'log'
  if (/^MANIFEST-\d+$/.test(name)) return 'manifest'
  return 'other'
}

// { files, bytes, kinds: { table, log, manifest, other: { files, bytes } } } of `dir`.
function directoryFiles (dir) {
  const kinds = {}
  for (const kind of ['table', 'log', 'manifest', 'other']) kinds[kind] = { files: 0, bytes: 0 }
  let files = 0
  let bytes = 0
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue
    const size = fs.statSync(path.join(dir, entry.name)).size
    const kind = kinds[kindOf(entry.name)]
    kind.files++
    kind.bytes += size
    files++
    bytes += size
  }
  return { files, bytes, kinds }
}

async function collect (db) {
  const tables = tableSummary(db)
  const properties = {}
  for (const name of ['leveldb.stats', 'leveldb.sstables']) properties[name] = db.getProperty(name)
  for (const { level } of tables.levels) {
    const name = `leveldb.num-files-at-level${level}`
    properties[name] = db.getProperty(name)
  }
  return {
    location: db.location,
    levels: tables.levels,
    tables: { files: tables.files, bytes: tables.bytes },
    approximateSize: await db.approximateSize(EMPTY, keyAboveTables(db)),
    directory: directoryFiles(db.location),
    properties
  }
}

function indent (text) {
  return text.trimEnd().split('\n').map((line) => '  ' + line).join('\n')
}

function human (s) {
  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`
  const kinds = Object.entries(s.directory.kinds)
    .filter(([, k]) => k.files > 0)
    .map(([name, k]) => `${plural(k.files, name)} ${formatBytes(k.bytes)}`)
  const lines = [
    `database   ${s.location}`,
    `tables     ${plural(s.tables.files, 'file')}, ${formatBytes(s.tables.bytes)}`,
    `keys       approximately ${formatBytes(s.approximateSize)} on disk (approximateSize over all keys)`,
    `directory  ${plural(s.directory.files, 'file')}, ${formatBytes(s.directory.bytes)}` + (kinds.length ? `: ${kinds.join(', ')}` : ''),
    '',
    'level  files        size',
    ...s.levels.map((l) => `${String(l.level).padStart(5)}  ${String(l.files).padStart(5)}  ${formatBytes(l.bytes).padStart(10)}`),
    '',
    'leveldb.stats',
    indent(s.properties['leveldb.stats']),
    '',
    'leveldb.sstables',
    indent(s.properties['leveldb.sstables'])
  ]
  return lines.join('\n') + '\n'
}

const stats = {
  name: 'stats',
  synopsis: 'stats <dir> [--json]',
  summary: 'show levels, tables, sizes and LevelDB properties',
  help: `Shows the tables per level and their sizes, the files in the directory by kind, the
approximate size of all keys, and the leveldb.stats and leveldb.sstables properties.

Options:
  --json   print one JSON object: location, levels [{level, files, bytes}], tables {files, bytes},
           approximateSize, directory {files, bytes, kinds}, properties {name: value}`,
  options: { json: { type: 'boolean' } },
  positionals: ['dir'],
  async run ({ values, positionals: [dir], stdout }) {
    const s = await withDatabase(dir, {}, collect)
    const out = new Output(stdout)
    out.write(values.json ? JSON.stringify(s) + '\n' : human(s))
    await out.end()
  }
}

module.exports = { commands: [stats], directoryFiles }
