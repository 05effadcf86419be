'use strict'

// Compatibility against the real thing: classic-level 3.0.0 (LevelDB) writes a directory with
// tables on several levels, Snappy blocks, deletions, binary keys, empty and large values and an
// unflushed log; todb opens it and finds exactly the live entries, in order. Then todb writes
// more, compacts and closes, and classic-level finds exactly the live entries. Then once more
// each way.

const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { ClassicLevel } = require('classic-level')
const { Todb } = require('..')

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'todb-compat-'))
after(() => fs.rmSync(root, { recursive: true, force: true }))

const options = { keyEncoding: 'buffer', valueEncoding: 'buffer', writeBufferSize: 64 * 1024 }
const hex = (b) => Buffer.from(b).toString('hex')

// A deterministic stream of writes: overwrites, deletes, binary keys, empty and multi-block values.
async function writeRound (db, model, round, n) {
  let seed = 0x9e3779b9 ^ round
  // The low bits of this generator cycle quickly; use the high ones.
  const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 8 }
  for (let i = 0; i < n; i++) {
    const r = rnd()
    const key = r % 17 === 0
      ? Buffer.from([0, 255, r & 0xff, 0])
      : Buffer.from(`r${round}-${String(r % 4000).padStart(5, '0')}`)
    if (r % 9 === 0) {
      await db.del(key)
      model.delete(hex(key))
    } else {
      const size = r % 23 === 0 ? 6000 : r % 13 === 0 ? 0 : 20 + (r % 200)
      const value = Buffer.alloc(size, r % 3 === 0 ? 0x61 : (r >>> 8) & 0xff)
      await db.put(key, value)
      model.set(hex(key), hex(value))
    }
  }
}

async function assertSame (db, model, label) {
  const entries = await db.iterator().all()
  const expected = [...model.entries()].sort(([a], [b]) => Buffer.compare(Buffer.from(a, 'hex'), Buffer.from(b, 'hex')))
  assert.equal(entries.length, expected.length, `${label}: entry count`)
  entries.forEach(([k, v], i) => {
    assert.equal(hex(k), expected[i][0], `${label}: key ${i}`)
    assert.equal(hex(v), expected[i][1], `${label}: value of ${expected[i][0]}`)
  })
  return entries.length
}

function levels (db) {
  return [0, 1, 2, 3].map((l) => Number(db.getProperty(`leveldb.num-files-at-level${l}`)))
}

test('a directory crosses between classic-level and todb twice with nothing lost', async (t) => {
  const dir = path.join(root, 'cross')
  const model = new Map()
  const counts = []

  const classic = new ClassicLevel(dir, options)
  await writeRound(classic, model, 1, 12000)
  await classic.compactRange(Buffer.from('r1-00000'), Buffer.from('r1-02000'))
  await writeRound(classic, model, 2, 3000) // partly left in the log, unflushed
  const classicLevels = levels(classic)
  assert.ok(classicLevels.some((n, l) => l > 0 && n > 0), `tables below level 0: ${classicLevels}`)
  await classic.close()

  let db = new Todb(dir, options)
  counts.push(await assertSame(db, model, 'todb reads classic-level'))
  await writeRound(db, model, 3, 12000)
  await db.compactRange(Buffer.from([0]), Buffer.from('z'))
  await writeRound(db, model, 4, 2000)
  await db.close()

  const classic2 = new ClassicLevel(dir, options)
  counts.push(await assertSame(classic2, model, 'classic-level reads todb'))
  await writeRound(classic2, model, 5, 4000)
  await classic2.close()

  db = new Todb(dir, options)
  counts.push(await assertSame(db, model, 'todb reads classic-level again'))
  await writeRound(db, model, 6, 2000)
  await db.close()

  const classic3 = new ClassicLevel(dir, options)
  counts.push(await assertSame(classic3, model, 'classic-level reads todb again'))
  await classic3.close()
  t.diagnostic(`live entries checked at each crossing: ${counts.join(', ')}; classic-level levels ${classicLevels}`)
})

// POSIX fcntl locks never conflict within one process, so the other side runs in a child.
function openInChild (dir, module, name) {
  const script = `
    const { ${name} } = require(${JSON.stringify(module)})
    const db = new ${name}(${JSON.stringify(dir)})
    db.open().then(() => { console.log('opened'); return db.close() },
      (err) => console.log((err.cause && err.cause.code) || err.code))`
  return execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }).trim()
}

test('todb and classic-level processes exclude each other on one directory', async () => {
  const dir = path.join(root, 'lock')
  const db = new Todb(dir)
  await db.open()
  assert.notEqual(openInChild(dir, require.resolve('classic-level'), 'ClassicLevel'), 'opened')
  await db.close()
  assert.equal(openInChild(dir, require.resolve('classic-level'), 'ClassicLevel'), 'opened')
  const classic = new ClassicLevel(dir)
  await classic.open()
  assert.equal(openInChild(dir, require.resolve('..'), 'Todb'), 'LEVEL_LOCKED')
  await classic.close()
})

// Sync writes land in zero-filled space that todb writes ahead of them in the log (so that an
// fdatasync need not commit a new file size). LevelDB must read such a log as todb leaves it.
test('classic-level reads a log that sync writes preallocated', async () => {
  const dir = path.join(root, 'prealloc')
  const model = new Map()
  const db = new Todb(dir, options)
  for (let i = 0; i < 700; i++) {
    const key = Buffer.from(`s-${String(i).padStart(5, '0')}`)
    const value = Buffer.alloc(i % 50 === 0 ? 40000 : 90, i & 0xff)
    await db.put(key, value, { sync: true })
    model.set(hex(key), hex(value))
  }
  await db.close()

  const logs = fs.readdirSync(dir).filter((f) => f.endsWith('.log'))
  const tails = logs.map((f) => fs.readFileSync(path.join(dir, f))).filter((b) => b.length > 4096 && b.subarray(-4096).every((x) => x === 0))
  assert.ok(tails.length > 0, `a log with a zero-filled tail: ${logs}`)

  const classic = new ClassicLevel(dir, options)
  await assertSame(classic, model, 'classic-level reads the preallocated log')
  await writeRound(classic, model, 7, 500)
  await classic.close()
  const again = new Todb(dir, options)
  await assertSame(again, model, 'todb reads it back')
  await again.close()
})
