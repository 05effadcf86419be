'use strict'

// Issue #3, section 6 (and section 3): writes a dataset at least 20 times cacheSize +
// writeBufferSize through the public API, then reads it at random and scans it, and reports the
// dataset size, the peak RSS, the disk size (against classic-level on the same data) and how
// level 0 and write stalls behaved while compaction kept up.
//
//   node bench/larger-than-memory.js [entries=2600000] [store=todb|classic|both]
//
// Each store runs in its own child process so that peak RSS is its own.

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const N = Number(process.argv[2] || 2_600_000)
const which = process.argv[3] || 'both'
const CACHE = 8 << 20
const WRITE_BUFFER = 4 << 20

function dirSize (dir) {
  return fs.readdirSync(dir).reduce((sum, name) => sum + fs.statSync(path.join(dir, name)).size, 0)
}

// 16-byte zero-padded decimal keys; 100-byte values, random and about half compressible.
function value (i) {
  const buf = Buffer.alloc(100, 0x61)
  let x = (i * 2654435761) >>> 0
  for (let j = 50; j < 100; j++) { x = (x * 1103515245 + 12345) >>> 0; buf[j] = x >>> 24 }
  return buf
}

async function child (store, dir) {
  const Ctor = store === 'todb' ? require('..').Todb : require('classic-level').ClassicLevel
  const db = new Ctor(dir, { cacheSize: CACHE, writeBufferSize: WRITE_BUFFER, valueEncoding: 'buffer' })
  await db.open()
  let maxL0 = 0
  let slowWrites = 0
  let slowWriteMs = 0
  const t0 = Date.now()
  const order = new Uint32Array(N)
  for (let i = 0; i < N; i++) order[i] = i
  for (let i = N - 1; i > 0; i--) { const j = Math.floor(Math.random() * (i + 1)); [order[i], order[j]] = [order[j], order[i]] }
  for (let b = 0; b < N; b += 1000) {
    const ops = []
    for (let i = b; i < Math.min(N, b + 1000); i++) ops.push({ type: 'put', key: String(order[i]).padStart(16, '0'), value: value(order[i]) })
    const w0 = process.hrtime.bigint()
    await db.batch(ops)
    const ms = Number(process.hrtime.bigint() - w0) / 1e6
    if (ms > 50) { slowWrites++; slowWriteMs += ms }
    if (b % 100_000 === 0) maxL0 = Math.max(maxL0, Number(db.getProperty('leveldb.num-files-at-level0')))
  }
  const writeSec = (Date.now() - t0) / 1000
  const levels = [0, 1, 2, 3, 4].map((l) => db.getProperty(`leveldb.num-files-at-level${l}`)).join('/')
  const t1 = Date.now()
  const reads = 100_000
  let found = 0
  for (let i = 0; i < reads; i++) {
    const k = Math.floor(Math.random() * N)
    const v = await db.get(String(k).padStart(16, '0'))
    if (v && v.equals(value(k))) found++
  }
  const readSec = (Date.now() - t1) / 1000
  const t2 = Date.now()
  let scanned = 0
  let prev = ''
  let ordered = true
  for await (const [k] of db.iterator({ values: false })) { if (k <= prev) ordered = false; prev = k; scanned++ }
  const scanSec = (Date.now() - t2) / 1000
  await db.close()
  const out = {
    store, entries: N, writeSec, writesPerSec: Math.round(N / writeSec), maxL0, slowBatches: slowWrites, slowBatchMs: Math.round(slowWriteMs),
    levels, reads, found, readsPerSec: Math.round(reads / readSec), scanned, ordered, scanPerSec: Math.round(scanned / scanSec),
    peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), diskMiB: +(dirSize(dir) / 1048576).toFixed(1)
  }
  console.log(JSON.stringify(out))
}

if (process.env.TODB_LTM_CHILD) {
  child(process.env.TODB_LTM_CHILD, process.env.TODB_LTM_DIR).catch((err) => { console.error(err); process.exit(1) })
} else {
  const raw = N * (16 + 100)
  console.log(`dataset: ${N} entries, ${(raw / 1048576).toFixed(0)} MiB of keys and values = ${(raw / (CACHE + WRITE_BUFFER)).toFixed(1)} x (cacheSize + writeBufferSize)`)
  for (const store of which === 'both' ? ['todb', 'classic'] : [which]) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ltm-${store}-`))
    try {
      process.stdout.write(execFileSync(process.execPath, [__filename, String(N)], { env: { ...process.env, TODB_LTM_CHILD: store, TODB_LTM_DIR: dir }, encoding: 'utf8' }))
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}
