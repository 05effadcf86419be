'use strict'

// The todb command line as a user runs it: every subcommand in a child process, with its
// stdout, stderr and exit code checked, --json output parsed, range options against a model,
// dump | load reproducing binary data byte for byte, destroy's confirmation, the progress bar on
// a terminal (through util-linux `script`) and never on a pipe, and a database held elsewhere.

const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawn, spawnSync } = require('node:child_process')
const { Todb } = require('..')
const { tmpDir, rmDir, prng, randomBytes } = require('./helpers/util.js')

const BIN = path.join(__dirname, '..', 'bin', 'todb.js')
const TIMEOUT = 60000
const dirs = []
after(() => { for (const d of dirs) rmDir(d) })

function scratchDir () {
  const dir = tmpDir()
  dirs.push(dir)
  return dir
}

// Runs `todb ...args` to completion: { code, stdout (Buffer), out (stdout as text), err }.
function todb (args, { input = '', timeout = 30000 } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { input, timeout, maxBuffer: 256 * 1024 * 1024 })
  if (r.error) throw r.error
  assert.equal(r.signal, null, `todb ${args.join(' ')} was killed by ${r.signal}`)
  return { code: r.status, stdout: r.stdout, out: r.stdout.toString('utf8'), err: r.stderr.toString('utf8') }
}

// Parses JSON lines (one value per non-empty line).
function jsonLines (text) {
  return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line))
}

// Writes `entries` ([key, value] pairs of Buffers or strings) into a database at `dir`.
async function fill (dir, entries, options) {
  const db = new Todb(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer', ...options })
  await db.open()
  const ops = entries.map(([key, value]) => ({ type: 'put', key: Buffer.from(key), value: Buffer.from(value) }))
  for (let i = 0; i < ops.length; i += 500) await db.batch(ops.slice(i, i + 500))
  await db.close()
}

// Every entry of the database at `dir`, as [key, value] Buffer pairs in key order.
async function entriesOf (dir) {
  const db = new Todb(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer', createIfMissing: false })
  await db.open()
  try {
    return await db.iterator().all()
  } finally {
    await db.close()
  }
}

const hasScript = spawnSync('script', ['--version']).status === 0
const quote = (s) => `'${String(s).replace(/'/g, "'\\''")}'`

// Runs `todb ...args` on a pseudo-terminal (stdin, stdout and stderr all on it): { code, text }.
function todbOnTerminal (args, { input = '' } = {}) {
  const command = [process.execPath, BIN, ...args].map(quote).join(' ')
  const r = spawnSync('script', ['-qec', command, '/dev/null'], { input, timeout: 30000 })
  if (r.error) throw r.error
  return { code: r.status, text: r.stdout.toString('utf8') }
}

test('help: todb --help, todb help <cmd> and todb <cmd> --help print on stdout and exit 0', { timeout: TIMEOUT }, () => {
  const overview = todb(['--help'])
  assert.equal(overview.code, 0)
  for (const name of ['get', 'put', 'del', 'scan', 'count', 'dump', 'load', 'stats', 'compact', 'repair', 'destroy', 'serve']) {
    assert.match(overview.out, new RegExp(`^  ${name} `, 'm'), `the overview lists ${name}`)
  }
  assert.equal(overview.err, '')

  const viaHelp = todb(['help', 'scan'])
  const viaFlag = todb(['scan', '--help'])
  const viaShort = todb(['scan', 'somewhere', '-h'])
  assert.equal(viaHelp.code, 0)
  assert.match(viaHelp.out, /^Usage: todb scan <dir>/)
  assert.match(viaHelp.out, /--keys-only/)
  assert.equal(viaFlag.out, viaHelp.out)
  assert.equal(viaShort.out, viaHelp.out)
  assert.equal(todb(['help']).out, overview.out)

  assert.equal(todb(['--version']).out.trim(), require('../package.json').version)
})

test('usage errors print usage on stderr, nothing on stdout, and exit 2', { timeout: TIMEOUT }, () => {
  const dir = path.join(scratchDir(), 'db')
  const cases = [
    [[], /Usage: todb <command>/],
    [['frobnicate'], /unknown command 'frobnicate'[\s\S]*Usage: todb <command>/],
    [['help', 'frobnicate'], /no command 'frobnicate'/],
    [['get', dir], /missing <key>[\s\S]*Usage: todb get/],
    [['get', dir, 'k', 'extra'], /unexpected argument 'extra'/],
    [['scan', dir, '--bogus'], /unknown option --bogus[\s\S]*Usage: todb scan/],
    [['scan', dir, '--limit', 'ten'], /--limit needs an integer/],
    [['scan', dir, '--limit', '-1'], /--limit must be an integer >= 0/],
    [['scan', dir, '--gte'], /--gte needs a value/],
    [['scan', dir, '--reverse=yes'], /--reverse takes no value/],
    [['get', dir, 'zz', '--hex'], /is not hex/],
    [['put', dir, 'k', 'v', '--json'], /unknown option --json/]
  ]
  for (const [args, message] of cases) {
    const r = todb(args)
    assert.equal(r.code, 2, `todb ${args.join(' ')}: ${r.err}`)
    assert.equal(r.out, '', `todb ${args.join(' ')} printed nothing on stdout`)
    assert.match(r.err, message)
  }
  assert.equal(fs.existsSync(dir), false, 'no usage error created the database')
})

test('put, get and del, as text, as hex and after --', { timeout: TIMEOUT }, () => {
  const dir = path.join(scratchDir(), 'db')
  assert.equal(todb(['put', dir, 'greeting', 'héllo wörld']).code, 0)
  const got = todb(['get', dir, 'greeting'])
  assert.equal(got.code, 0)
  assert.equal(got.out, 'héllo wörld\n')
  assert.equal(got.err, '')
  assert.deepEqual(JSON.parse(todb(['get', dir, 'greeting', '--json']).out), { key: 'greeting', value: 'héllo wörld' })

  // Binary key and value through --hex; get prints the raw bytes, or hex with --hex.
  assert.equal(todb(['put', dir, '--hex', '00ff', 'fe00c328']).code, 0)
  assert.deepEqual(todb(['get', dir, '00ff', '--hex']).out, 'fe00c328\n')
  assert.deepEqual(JSON.parse(todb(['get', dir, '--json', '--hex', '00ff']).out), { key: '00ff', value: 'fe00c328' })
  assert.equal(todb(['put', dir, '--hex', Buffer.from('bin').toString('hex'), 'fe00c328']).code, 0)
  const raw = todb(['get', dir, 'bin'])
  assert.ok(raw.stdout.equals(Buffer.from('fe00c3280a', 'hex')), `raw bytes, got ${raw.stdout.toString('hex')}`)
  const notText = todb(['get', dir, 'bin', '--json'])
  assert.equal(notText.code, 1)
  assert.equal(notText.out, '')
  assert.match(notText.err, /not valid UTF-8 text; use --hex/)

  // A key that starts with '-' comes after --.
  assert.equal(todb(['put', dir, '--', '-dash', '-value']).code, 0)
  assert.equal(todb(['get', dir, '--', '-dash']).out, '-value\n')

  const missing = todb(['get', dir, 'nope'])
  assert.equal(missing.code, 1)
  assert.equal(missing.out, '')
  assert.match(missing.err, /^todb: key "nope" not found\n$/)

  assert.equal(todb(['del', dir, 'greeting']).code, 0)
  assert.equal(todb(['get', dir, 'greeting']).code, 1)
  const again = todb(['del', dir, 'greeting'])
  assert.equal(again.code, 0, 'deleting a missing key succeeds')
  assert.equal(again.out + again.err, '')
})

test('commands that read do not create a database where there is none', { timeout: TIMEOUT }, () => {
  const dir = path.join(scratchDir(), 'typo')
  for (const args of [['get', dir, 'k'], ['scan', dir], ['count', dir], ['dump', dir], ['stats', dir], ['compact', dir], ['del', dir, 'k']]) {
    const r = todb(args)
    assert.equal(r.code, 1, `${args[0]}: ${r.err}`)
    assert.equal(r.out, '')
    assert.match(r.err, /no database here \(LEVEL_INVALID_ARGUMENT\)/)
    assert.equal(r.err.split('\n').length, 2, 'one line')
  }
  assert.equal(fs.existsSync(dir), false)
  const repair = todb(['repair', dir])
  assert.equal(repair.code, 1)
  assert.match(repair.err, /no such directory/)
})

// The entries a range selects, by abstract-level's rules: gte over gt, lte over lt.
function model (keys, o) {
  let selected = keys.filter((k) => {
    if (o.gte !== undefined ? k < o.gte : o.gt !== undefined && k <= o.gt) return false
    if (o.lte !== undefined ? k > o.lte : o.lt !== undefined && k >= o.lt) return false
    return true
  })
  if (o.reverse) selected = selected.reverse()
  if (o.limit !== undefined) selected = selected.slice(0, o.limit)
  return selected
}

test('scan and count select the same keys as a model of the range options', { timeout: TIMEOUT * 2 }, async () => {
  const dir = path.join(scratchDir(), 'db')
  const rand = prng(7)
  const keys = new Set()
  while (keys.size < 80) keys.add('k' + Math.floor(rand() * 1000).toString().padStart(3, '0'))
  const sorted = [...keys].sort()
  await fill(dir, sorted.map((k) => [k, 'value of ' + k]))

  const ranges = [
    {},
    { gte: 'k200' },
    { gt: sorted[10] },
    { gte: sorted[10], gt: sorted[20] },
    { lt: 'k500', limit: 7 },
    { lte: sorted[30], lt: sorted[5] },
    { gt: 'k100', lte: 'k700', reverse: true },
    { gte: 'k300', reverse: true, limit: 5 },
    { limit: 0 },
    { gt: 'k999' },
    { gte: 'k5', lt: 'k5' }
  ]
  for (const range of ranges) {
    const args = []
    for (const [name, value] of Object.entries(range)) args.push(...(value === true ? [`--${name}`] : [`--${name}`, String(value)]))
    const expected = model(sorted, range)
    const scan = todb(['scan', dir, '--json', ...args])
    assert.equal(scan.code, 0, scan.err)
    assert.deepEqual(jsonLines(scan.out), expected.map((k) => ({ key: k, value: 'value of ' + k })), `scan ${args.join(' ')}`)
    const count = todb(['count', dir, '--json', ...args])
    assert.deepEqual(JSON.parse(count.out), { count: expected.length }, `count ${args.join(' ')}`)
  }

  // Plain output: key, tab, value; or keys alone; or hex.
  const expected = model(sorted, { gte: 'k400', limit: 3 })
  assert.equal(todb(['scan', dir, '--gte', 'k400', '--limit', '3']).out, expected.map((k) => `${k}\tvalue of ${k}\n`).join(''))
  assert.equal(todb(['scan', dir, '--gte', 'k400', '--limit', '3', '--keys-only']).out, expected.map((k) => k + '\n').join(''))
  assert.deepEqual(jsonLines(todb(['scan', dir, '--gte', 'k400', '--limit', '3', '--keys-only', '--json']).out), expected.map((key) => ({ key })))
  const hex = todb(['scan', dir, '--hex', '--gte', Buffer.from('k400').toString('hex'), '--limit', '1'])
  assert.equal(hex.out, `${Buffer.from(expected[0]).toString('hex')}\t${Buffer.from('value of ' + expected[0]).toString('hex')}\n`)
  assert.equal(todb(['count', dir]).out, `${sorted.length}\n`)
})

test('scan --json of a key that is not UTF-8 fails naming --hex; plain scan writes the bytes', { timeout: TIMEOUT }, async () => {
  const dir = path.join(scratchDir(), 'db')
  await fill(dir, [[Buffer.from([0xff, 0x00]), 'v']])
  const json = todb(['scan', dir, '--json'])
  assert.equal(json.code, 1)
  assert.match(json.err, /not valid UTF-8.*--hex/)
  assert.ok(todb(['scan', dir]).stdout.equals(Buffer.from([0xff, 0x00, 0x09, 0x76, 0x0a])))
})

test('dump --base64 | load reproduces every byte, 0x00, 0xff and invalid UTF-8 included', { timeout: TIMEOUT * 2 }, async () => {
  const root = scratchDir()
  const source = path.join(root, 'source')
  const rand = prng(42)
  const entries = [
    [Buffer.alloc(0), Buffer.from('the empty key')],
    [Buffer.from([0x00]), Buffer.alloc(0)],
    [Buffer.from([0x00, 0x00, 0xff]), Buffer.from([0xff, 0xff, 0x00])],
    [Buffer.from([0xff]), Buffer.from([0xc3, 0x28, 0x80, 0xfe])],
    [Buffer.from([0xc3, 0x28]), Buffer.from([0xed, 0xa0, 0x80])], // invalid: a lone surrogate encoded
    [Buffer.from('line\nbreak\ttab "quote" \\'), Buffer.from('\r\n')],
    [Buffer.from('big'), randomBytes(rand, 200 * 1024)]
  ]
  for (let i = 0; i < 300; i++) entries.push([randomBytes(rand, 1 + Math.floor(rand() * 40)), randomBytes(rand, Math.floor(rand() * 300))])
  await fill(source, entries)
  const expected = await entriesOf(source)
  assert.ok(expected.length > 290)

  const dump = todb(['dump', source, '--base64'])
  assert.equal(dump.code, 0, dump.err)
  const lines = jsonLines(dump.out)
  assert.deepEqual(lines[0], { todb: 'dump', version: 1, encoding: 'base64' })
  assert.equal(lines.length, expected.length + 1)
  assert.deepEqual(lines[4], { key: expected[3][0].toString('base64'), value: expected[3][1].toString('base64') })
  assert.match(dump.err, new RegExp(`^todb: dumped ${expected.length} entries`))

  // Through stdin, into a new directory.
  const copy = path.join(root, 'copy')
  const load = todb(['load', copy, '--json'], { input: dump.stdout })
  assert.equal(load.code, 0, load.err)
  const summary = JSON.parse(load.out)
  assert.equal(summary.command, 'load')
  assert.equal(summary.keys, expected.length)
  assert.equal(summary.encoding, 'base64')
  const copied = await entriesOf(copy)
  assert.equal(copied.length, expected.length)
  for (let i = 0; i < expected.length; i++) {
    assert.ok(copied[i][0].equals(expected[i][0]) && copied[i][1].equals(expected[i][1]), `entry ${i} (key ${expected[i][0].toString('hex')})`)
  }

  // Through a file, both ways; the file is the same dump.
  const file = path.join(root, 'dump.jsonl')
  const toFile = todb(['dump', source, '--base64', '--output', file, '--json'])
  assert.equal(toFile.code, 0, toFile.err)
  assert.equal(toFile.err, '')
  assert.equal(JSON.parse(toFile.out).keys, expected.length)
  assert.ok(fs.readFileSync(file).equals(dump.stdout))
  const again = path.join(root, 'again')
  assert.equal(todb(['load', again, file]).code, 0)
  assert.ok(todb(['dump', again, '--base64']).stdout.equals(dump.stdout), 'a dump of the copy is the same dump')

  // A text dump refuses bytes it cannot write as text, rather than changing them.
  const text = todb(['dump', source])
  assert.equal(text.code, 1)
  assert.match(text.err, /not valid UTF-8.*--base64/)
})

test('a text dump is plain JSON lines and loads back exactly; load reads what it is told', { timeout: TIMEOUT }, async () => {
  const root = scratchDir()
  const source = path.join(root, 'source')
  const entries = [['emoji 🐢', 'ünïcödé ✓'], ['tab\tnewline\n', 'quote " backslash \\'], ['u2028 \u2028', ''], ['plain', 'value']]
  await fill(source, entries)
  const dump = todb(['dump', source])
  assert.equal(dump.code, 0, dump.err)
  const lines = jsonLines(dump.out)
  assert.deepEqual(lines[0], { todb: 'dump', version: 1, encoding: 'utf8' })
  assert.deepEqual(lines.slice(1), [...entries].sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0]))).map(([key, value]) => ({ key, value })))
  const copy = path.join(root, 'copy')
  assert.equal(todb(['load', copy], { input: dump.stdout }).code, 0)
  assert.ok(todb(['dump', copy]).stdout.equals(dump.stdout))

  // A range dumps part of it.
  const part = jsonLines(todb(['dump', source, '--gte', 'p', '--lt', 'u']).out)
  assert.deepEqual(part.slice(1).map((l) => l.key), ['plain', 'tab\tnewline\n'])

  // Without a header: text, or base64 with --base64; CRLF line ends and blank lines are fine.
  const headerless = path.join(root, 'headerless')
  assert.equal(todb(['load', headerless], { input: '{"key":"a","value":"1"}\r\n\n{"key":"b","value":"2"}' }).code, 0)
  assert.equal(todb(['load', headerless, '--base64'], { input: `{"key":"${Buffer.from([0xff]).toString('base64')}","value":"AA=="}\n` }).code, 0)
  const loaded = await entriesOf(headerless)
  assert.deepEqual(loaded.map(([k, v]) => [k.toString('hex'), v.toString('hex')]), [['61', '31'], ['62', '32'], ['ff', '00']])

  const bad = [
    ['{"key":"a"}\n', /line 1: expected \{"key"/],
    ['{"key":"a","value":"1"}\nnot json\n', /line 2: not JSON/],
    ['{"todb":"dump","version":2,"encoding":"utf8"}\n', /line 1: unsupported dump header/],
    ['{"key":"\\ud800","value":"x"}\n', /line 1: the key is not well-formed Unicode/],
    ['{"todb":"dump","version":1,"encoding":"base64"}\n{"key":"a*b=","value":""}\n', /line 2: the key is not canonical base64/]
  ]
  for (const [input, message] of bad) {
    const r = todb(['load', path.join(root, 'bad'), '--json'], { input })
    assert.equal(r.code, 1, input)
    assert.equal(r.out, '')
    assert.match(r.err, message)
  }
  const conflict = todb(['load', path.join(root, 'bad'), '--base64'], { input: '{"todb":"dump","version":1,"encoding":"utf8"}\n' })
  assert.equal(conflict.code, 1)
  assert.match(conflict.err, /--base64 given, but the dump's header says its encoding is utf8/)
  const noFile = todb(['load', path.join(root, 'bad'), path.join(root, 'no-such-file')])
  assert.equal(noFile.code, 1)
  assert.match(noFile.err, /cannot read .*no-such-file: ENOENT/)
})

test('stats shows the levels, tables and properties; --json parses', { timeout: TIMEOUT }, async () => {
  const dir = path.join(scratchDir(), 'db')
  const rand = prng(3)
  await fill(dir, Array.from({ length: 2000 }, (_, i) => [`key${i}`, randomBytes(rand, 100)]))
  const human = todb(['stats', dir])
  assert.equal(human.code, 0, human.err)
  assert.match(human.out, /^database {3}\S/)
  assert.match(human.out, /^level {2}files {8}size$/m)
  assert.match(human.out, /^leveldb\.stats$/m)
  assert.match(human.out, /^leveldb\.sstables$/m)

  const s = JSON.parse(todb(['stats', dir, '--json']).out)
  assert.equal(s.location, path.resolve(dir))
  assert.equal(s.levels.length, 7)
  assert.ok(s.tables.files >= 1, 'the reopened database has its log flushed into a table')
  assert.equal(s.tables.files, s.levels.reduce((n, l) => n + l.files, 0))
  assert.equal(s.tables.bytes, s.levels.reduce((n, l) => n + l.bytes, 0))
  assert.equal(s.directory.kinds.table.files, s.tables.files)
  assert.equal(s.directory.kinds.table.bytes, s.tables.bytes)
  assert.ok(s.approximateSize > 200000 && s.approximateSize <= s.tables.bytes, `approximateSize ${s.approximateSize}`)
  assert.equal(s.properties['leveldb.num-files-at-level0'], String(s.levels[0].files))
  assert.match(s.properties['leveldb.stats'], /^Level {2}Files Size\(MB\)/)
  assert.match(s.properties['leveldb.sstables'], /^--- level 0 ---/)
})

test('compact leaves every table on one level below 0, in slices, and the data as it was', { timeout: TIMEOUT * 2 }, async () => {
  const dir = path.join(scratchDir(), 'db')
  const rand = prng(11)
  // About 10 MiB that does not compress, written over three opens in key order, so that each
  // open leaves one level-0 table of its own part of the key space (fewer than the 4 that would
  // start a compaction by themselves); the last part has every fourth key deleted.
  const entries = Array.from({ length: 5000 }, (_, i) => [`key:${String(i).padStart(5, '0')}`, randomBytes(rand, 2048)])
  const part = (i) => Math.floor(i * 3 / entries.length)
  const deleted = (i) => part(i) === 2 && i % 4 === 0
  for (let p = 0; p < 2; p++) await fill(dir, entries.filter((_, i) => part(i) === p))
  const db = new Todb(dir, { valueEncoding: 'buffer' })
  await db.open()
  await db.batch(entries.filter((_, i) => part(i) === 2).map(([key, value]) => ({ type: 'put', key, value })))
  await db.batch(entries.filter((_, i) => deleted(i)).map(([key]) => ({ type: 'del', key })))
  await db.close()
  const statsBefore = todb(['stats', dir, '--json'])
  assert.equal(statsBefore.code, 0, statsBefore.err)
  const before = JSON.parse(statsBefore.out)
  assert.equal(before.levels[0].files, 3, `level 0 has ${before.levels[0].files} tables before`)

  const r = todb(['compact', dir, '--json'])
  assert.equal(r.code, 0, r.err)
  assert.equal(r.err, '')
  const summary = JSON.parse(r.out)
  assert.equal(summary.command, 'compact')
  assert.ok(summary.slices > 1, `compacted in ${summary.slices} slices`)
  assert.equal(summary.before.files, before.tables.files)
  assert.ok(summary.after.bytes < summary.before.bytes - 400 * 2048, `the deleted values are gone from the tables (${summary.before.bytes} -> ${summary.after.bytes} bytes)`)

  const after = JSON.parse(todb(['stats', dir, '--json']).out)
  const used = after.levels.filter((l) => l.files > 0)
  assert.equal(used.length, 1, `tables on one level: ${JSON.stringify(after.levels)}`)
  assert.ok(used[0].level >= 1)
  assert.deepEqual(after.tables, summary.after)

  const kept = await entriesOf(dir)
  const expected = entries.filter((_, i) => !deleted(i))
  assert.equal(kept.length, expected.length)
  for (let i = 0; i < expected.length; i++) {
    assert.equal(kept[i][0].toString(), expected[i][0])
    assert.ok(kept[i][1].equals(expected[i][1]), `value of ${expected[i][0]}`)
  }

  const human = todb(['compact', dir])
  assert.equal(human.code, 0)
  assert.equal(human.out, '')
  assert.match(human.err, /^todb: compacted .* in \d+ slices?: \d+ tables? \(.*\) -> \d+ tables? \(.*\)\n$/)
})

// The contract compact's slicing rests on (lib/cli/keyspace.js, lib/cli/tables.js), checked
// in this process: the bound is above every key in a table, the slices run from the empty key
// to it without a gap, and a midpoint lies strictly between its ends.
test('compact slices cover the whole key space, up to a key above every table key', { timeout: TIMEOUT }, async () => {
  const { midpoint, planSlices, EMPTY } = require('../lib/cli/keyspace.js')
  const { keyAboveTables, tableSummary } = require('../lib/cli/tables.js')
  const rand = prng(5)
  for (let i = 0; i < 2000; i++) {
    const a = randomBytes(rand, Math.floor(rand() * 6))
    const b = rand() < 0.3 ? Buffer.concat([a, randomBytes(rand, 1 + Math.floor(rand() * 3))]) : randomBytes(rand, Math.floor(rand() * 6))
    const [low, high] = Buffer.compare(a, b) <= 0 ? [a, b] : [b, a]
    const mid = midpoint(low, high)
    const nothingBetween = low.equals(high) || high.equals(Buffer.concat([low, Buffer.from([0])]))
    if (mid === undefined) {
      assert.ok(nothingBetween, `a key exists between ${low.toString('hex')} and ${high.toString('hex')}`)
    } else {
      assert.ok(Buffer.compare(low, mid) < 0 && Buffer.compare(mid, high) < 0, `${low.toString('hex')} < ${mid.toString('hex')} < ${high.toString('hex')}`)
    }
  }

  const dir = path.join(scratchDir(), 'db')
  const highest = Buffer.concat([Buffer.alloc(300, 0xff), Buffer.from([0x00, 0xc3])])
  await fill(dir, [
    [highest, 'the highest key'],
    [Buffer.from([0xff, 0xfe, 0x80, 0x00]), 'not UTF-8'],
    ...Array.from({ length: 6000 }, (_, i) => [`k${i}`, randomBytes(rand, 1024)])
  ])
  const db = new Todb(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  await db.open()
  try {
    const upper = keyAboveTables(db)
    assert.ok(tableSummary(db).files >= 1)
    assert.ok(Buffer.compare(upper, highest) > 0, 'the bound is above the highest key')
    const slices = await planSlices(db, upper, Buffer.from('k0'), Buffer.from('k999'))
    assert.ok(slices.length > 1, `${slices.length} slices`)
    assert.ok(slices[0].start.equals(EMPTY))
    assert.ok(slices[slices.length - 1].end.equals(upper))
    for (let i = 1; i < slices.length; i++) assert.ok(slices[i].start.equals(slices[i - 1].end), `slice ${i} starts where ${i - 1} ends`)
    const total = await db.approximateSize(EMPTY, upper)
    assert.equal(slices.reduce((n, s) => n + s.bytes, 0), total)
  } finally {
    await db.close()
  }
})

test('repair rebuilds a database whose MANIFEST and CURRENT are gone', { timeout: TIMEOUT }, async () => {
  const dir = path.join(scratchDir(), 'db')
  await fill(dir, [['a', '1'], ['b', '2']])
  await fill(dir, [['c', '3']])
  for (const name of fs.readdirSync(dir)) {
    if (name === 'CURRENT' || name.startsWith('MANIFEST-')) fs.rmSync(path.join(dir, name))
  }
  assert.equal(todb(['get', dir, 'a']).code, 1, 'unreadable before the repair')
  const r = todb(['repair', dir, '--json'])
  assert.equal(r.code, 0, r.err)
  const summary = JSON.parse(r.out)
  assert.equal(summary.command, 'repair')
  assert.ok(summary.tables.files >= 1)
  assert.deepEqual(jsonLines(todb(['scan', dir, '--json']).out), [{ key: 'a', value: '1' }, { key: 'b', value: '2' }, { key: 'c', value: '3' }])
})

test('destroy on a pipe refuses without --yes (exit 2) and destroys with it', { timeout: TIMEOUT }, async () => {
  const root = scratchDir()
  const dir = path.join(root, 'db')
  await fill(dir, [['a', '1']])
  const refused = todb(['destroy', dir], { input: 'y\n' })
  assert.equal(refused.code, 2)
  assert.equal(refused.out, '')
  assert.match(refused.err, /stdin is not a terminal; add --yes/)
  assert.equal(todb(['get', dir, 'a']).out, '1\n', 'still there')

  const done = todb(['destroy', dir, '--yes', '--json'])
  assert.equal(done.code, 0, done.err)
  assert.deepEqual(JSON.parse(done.out), { command: 'destroy', location: dir, destroyed: true })
  assert.equal(fs.existsSync(dir), false)

  const missing = todb(['destroy', dir, '--yes'])
  assert.equal(missing.code, 0)
  assert.match(missing.err, /does not exist; nothing to destroy/)
})

test('destroy on a terminal asks y/N and does what the answer says', { timeout: TIMEOUT, skip: !hasScript && 'util-linux `script` is not installed, so no terminal can be made' }, async () => {
  const dir = path.join(scratchDir(), 'db')
  await fill(dir, [['a', '1']])
  const no = todbOnTerminal(['destroy', dir], { input: 'n\n' })
  assert.equal(no.code, 1)
  assert.match(no.text, /Destroy the database in .*\? \[y\/N\] /)
  assert.match(no.text, /not destroyed/)
  assert.equal(fs.existsSync(path.join(dir, 'CURRENT')), true)
  const yes = todbOnTerminal(['destroy', dir], { input: 'y\n' })
  assert.equal(yes.code, 0, yes.text)
  assert.match(yes.text, /destroyed /)
  assert.equal(fs.existsSync(dir), false)
})

const PROGRESS = /\r(dump|load|compact|repair) /

test('no progress output when stderr is a pipe', { timeout: TIMEOUT }, async () => {
  const root = scratchDir()
  const dir = path.join(root, 'db')
  await fill(dir, Array.from({ length: 3000 }, (_, i) => [`k${i}`, 'v'.repeat(200)]))
  const file = path.join(root, 'dump.jsonl')
  for (const args of [['dump', dir, '--output', file], ['load', path.join(root, 'copy'), file], ['compact', dir], ['repair', dir]]) {
    const r = todb(args)
    assert.equal(r.code, 0, r.err)
    assert.doesNotMatch(r.err, /[\r\x1b]/, `${args[0]} wrote no control characters`)
    assert.doesNotMatch(r.err, PROGRESS)
    assert.match(r.err, /^todb: \w+ .*\n$/, `${args[0]}: one summary line`)
  }
})

test('a progress bar on stderr when it is a terminal', { timeout: TIMEOUT, skip: !hasScript && 'util-linux `script` is not installed, so no terminal can be made' }, async () => {
  const root = scratchDir()
  const dir = path.join(root, 'db')
  await fill(dir, Array.from({ length: 3000 }, (_, i) => [`k${i}`, 'v'.repeat(200)]))
  const file = path.join(root, 'dump.jsonl')
  for (const args of [['dump', dir, '--output', file], ['load', path.join(root, 'copy'), file], ['compact', dir], ['repair', dir]]) {
    const r = todbOnTerminal(args)
    assert.equal(r.code, 0, r.text)
    assert.match(r.text, new RegExp(`\\r${args[0]} `), `${args[0]} drew its progress line`)
    assert.match(r.text, /\r\x1b\[K/, `${args[0]} erased the line when done`)
  }
  assert.equal((await entriesOf(path.join(root, 'copy'))).length, 3000)
})

test('a database held open elsewhere: LEVEL_LOCKED with a hint, exit 1', { timeout: TIMEOUT }, async () => {
  const dir = path.join(scratchDir(), 'db')
  await fill(dir, [['a', '1']])
  const db = new Todb(dir)
  await db.open()
  try {
    for (const args of [['get', dir, 'a'], ['put', dir, 'b', '2'], ['scan', dir], ['stats', dir], ['destroy', dir, '--yes'], ['repair', dir]]) {
      const r = todb(args)
      assert.equal(r.code, 1, `${args[0]}: ${r.err}`)
      assert.equal(r.out, '')
      assert.match(r.err, /^todb: .*LEVEL_LOCKED.*todb serve.*\n$/)
    }
    assert.equal(await db.get('a'), '1', 'destroy left it alone')
  } finally {
    await db.close()
  }
})

test('a database served by `todb serve` is LEVEL_LOCKED for the other commands', { timeout: TIMEOUT }, async () => {
  const dir = path.join(scratchDir(), 'db')
  const server = spawn(process.execPath, [BIN, 'serve', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
  try {
    await new Promise((resolve, reject) => {
      let out = ''
      server.stdout.on('data', (d) => { out += d; if (/listening/.test(out)) resolve() })
      server.on('exit', (code) => reject(new Error(`todb serve exited ${code}`)))
    })
    const r = todb(['put', dir, 'k', 'v'])
    assert.equal(r.code, 1)
    assert.match(r.err, /LEVEL_LOCKED/)
  } finally {
    server.kill('SIGTERM')
  }
})

test('a reader that stops early ends scan quietly with exit 0', { timeout: TIMEOUT }, async () => {
  const dir = path.join(scratchDir(), 'db')
  await fill(dir, Array.from({ length: 20000 }, (_, i) => [`k${String(i).padStart(6, '0')}`, 'v'.repeat(100)]))
  const child = spawn(process.execPath, [BIN, 'scan', dir], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d) => { err += d })
  const first = await new Promise((resolve) => child.stdout.once('data', resolve))
  child.stdout.destroy()
  const code = await new Promise((resolve) => child.on('exit', resolve))
  assert.match(first.toString(), /^k000000\t/)
  assert.equal(code, 0)
  assert.equal(err, '')
})
