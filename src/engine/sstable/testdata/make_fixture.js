// Writes fixture.ldb and fixture.manifest: one table written by real LevelDB (classic-level 3.0.0),
// and the exact entries it must hold, for the sstable compatibility tests.
//
// Run from the repository root (so `classic-level` resolves from node_modules), or point
// CLASSIC_LEVEL at the package directory:
//   node src/engine/sstable/testdata/make_fixture.js
//
// Every write is a separate put/del, so in a fresh database write number i gets sequence number i.
// compactRange() flushes the memtable; in an empty database the flush lands as a single table
// (LevelDB places it directly at level 2) holding every version and every tombstone, which the
// manifest lists as `seq kind key value` (kind 1 = value, 0 = deletion; bytes outside printable
// ASCII, and space, backslash and double quote, as \xHH; the empty string as "").
'use strict'

const fs = require('fs')
const os = require('os')
const path = require('path')
const { ClassicLevel } = require(process.env.CLASSIC_LEVEL || 'classic-level')

const N = 3000
const out = __dirname

// Deterministic so that re-running produces the same entries.
let state = 12345
function rand (n) {
  state = (state * 1103515245 + 12345) % 2147483648
  return state % n
}

function keyFor (i) {
  if (i % 97 === 0) return Buffer.from([0x00, i >> 8, i & 0xff]) // leading 0x00, sorts first
  if (i % 89 === 0) return Buffer.from([0xff, 0xff, i >> 8, i & 0xff, 0x00]) // 0xff prefix, sorts last
  return Buffer.from(`key-${String(i).padStart(5, '0')}`)
}

function valueFor (i, version) {
  if (i === 7) return Buffer.alloc(0)
  if (i === 1234) {
    // Over 4 KiB and poorly compressible, so its block is bigger than block_size.
    return Buffer.from(Array.from({ length: 6000 }, () => 33 + rand(90)))
  }
  return Buffer.from(`v${version}-${i}-` + 'xy'.repeat(i % 4))
}

function esc (buf) {
  if (buf.length === 0) return '""'
  let s = ''
  for (const b of buf) {
    if (b > 0x20 && b < 0x7f && b !== 0x5c && b !== 0x22) s += String.fromCharCode(b)
    else s += '\\x' + b.toString(16).padStart(2, '0')
  }
  return s
}

async function main () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'todb-fixture-'))
  const db = new ClassicLevel(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  await db.open()
  const ops = []
  // Insert in a shuffled order; the memtable sorts.
  const order = Array.from({ length: N }, (_, i) => i)
  for (let i = N - 1; i > 0; i--) {
    const j = rand(i + 1)
    ;[order[i], order[j]] = [order[j], order[i]]
  }
  for (const i of order) ops.push({ kind: 1, key: keyFor(i), value: valueFor(i, 1) })
  for (let i = 3; i < N; i += 30) ops.push({ kind: 1, key: keyFor(i), value: valueFor(i, 2) })
  for (let i = 5; i < N; i += 30) ops.push({ kind: 0, key: keyFor(i), value: Buffer.alloc(0) })
  ops.push({ kind: 0, key: Buffer.from('never-written'), value: Buffer.alloc(0) })

  for (const op of ops) {
    if (op.kind === 1) await db.put(op.key, op.value)
    else await db.del(op.key)
  }
  await db.compactRange(Buffer.alloc(0), Buffer.alloc(8, 0xff))
  await db.close()

  const tables = fs.readdirSync(dir).filter((f) => f.endsWith('.ldb'))
  if (tables.length !== 1) throw new Error(`expected one table, found ${tables.join(', ')}`)
  const bytes = fs.readFileSync(path.join(dir, tables[0]))
  if (bytes.length > 100 * 1024) throw new Error(`table is ${bytes.length} bytes`)
  fs.writeFileSync(path.join(out, 'fixture.ldb'), bytes)

  const lines = [
    '# Written by make_fixture.js with classic-level 3.0.0 (LevelDB 1.20), default options.',
    '# seq kind key value; kind 1 = value, 0 = deletion; \\xHH escapes; "" = empty.'
  ]
  ops.forEach((op, n) => lines.push(`${n + 1} ${op.kind} ${esc(op.key)} ${esc(op.value)}`))
  fs.writeFileSync(path.join(out, 'fixture.manifest'), lines.join('\n') + '\n')
  fs.rmSync(dir, { recursive: true, force: true })
  console.log(`fixture.ldb: ${bytes.length} bytes, ${ops.length} entries`)
}

main().catch((err) => {
  console.error(err)
  process.exit(1)
})
