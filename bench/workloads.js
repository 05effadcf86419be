'use strict'

// One store's pass over the db_bench-style workloads, run in a child process by bench/index.js
// so that peak RSS belongs to one store. Prints one JSON line of results.
//
// Keys are 16-byte zero-padded decimal strings; values are 100 bytes, random and about half
// compressible, as in LevelDB's db_bench.

const fs = require('node:fs')
const path = require('node:path')
const { performance } = require('node:perf_hooks')
const { EntryStream } = require('level-read-stream')

const [store, dir, nArg] = process.argv.slice(2)
const N = Number(nArg)
const Ctor = store === 'todb' ? require('..').Todb : require('classic-level').ClassicLevel

const key = (i) => String(i).padStart(16, '0')
const values = []
for (let v = 0; v < 1024; v++) {
  const buf = Buffer.alloc(100, 0x61 + (v % 26))
  for (let j = 50; j < 100; j++) buf[j] = Math.floor(Math.random() * 256)
  values.push(buf)
}
const value = (i) => values[i & 1023]

function shuffled (n) {
  const order = new Uint32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const t = order[i]; order[i] = order[j]; order[j] = t
  }
  return order
}

function dirBytes (d) {
  return fs.readdirSync(d).reduce((sum, f) => sum + fs.statSync(path.join(d, f)).size, 0)
}

async function open (name, options = {}) {
  const db = new Ctor(path.join(dir, name), { valueEncoding: 'buffer', ...options })
  await db.open()
  return db
}

// The longest time the event loop went without turning, measured by the gaps between the ticks
// of a 1 ms timer, including the gap still open when the watch stops. (monitorEventLoopDelay
// takes no sample at all while a loop of settled promises starves timers, and would read 0.)
function loopWatch () {
  let last = performance.now()
  let max = 0
  const timer = setInterval(() => {
    const now = performance.now()
    max = Math.max(max, now - last - 1)
    last = now
  }, 1)
  return () => {
    clearInterval(timer)
    return Math.max(max, performance.now() - last - 1, 0)
  }
}

async function timed (ops, fn) {
  const t0 = performance.now()
  await fn()
  return ops / ((performance.now() - t0) / 1000)
}

async function inFlight (n, limit, fn) {
  let next = 0
  async function worker () {
    while (next < n) await fn(next++)
  }
  await Promise.all(Array.from({ length: limit }, worker))
}

async function main () {
  const r = { store, n: N }
  const order = shuffled(N)

  let db = await open('seq')
  r.fillseq = await timed(N, async () => { for (let i = 0; i < N; i++) await db.put(key(i), value(i)) })
  await db.close()

  db = await open('random')
  const stopWatch = loopWatch()
  r.fillrandom = await timed(N, async () => { for (let i = 0; i < N; i++) await db.put(key(order[i]), value(order[i])) })
  r.fillrandomMaxLoopDelayMs = stopWatch()
  await db.close()
  r.diskBytes = dirBytes(path.join(dir, 'random'))
  let t0 = performance.now()
  db = await open('random')
  r.reopenMs = performance.now() - t0

  const syncN = Math.max(1000, Math.floor(N / 1000))
  const sdb = await open('sync')
  r.fillsync = await timed(syncN, async () => { for (let i = 0; i < syncN; i++) await sdb.put(key(order[i]), value(i), { sync: true }) })
  await sdb.close()

  const bdb = await open('batch')
  r.fillbatch = await timed(N, async () => {
    for (let b = 0; b < N; b += 1000) {
      const ops = []
      for (let i = b; i < Math.min(N, b + 1000); i++) ops.push({ type: 'put', key: key(order[i]), value: value(i) })
      await bdb.batch(ops)
    }
  })
  await bdb.close()

  const cdb = await open('concurrent')
  r.putconcurrent = await timed(N, () => inFlight(N, 64, (i) => cdb.put(key(order[i]), value(i))))
  await cdb.close()

  const reads = shuffled(N)
  r.readrandom = await timed(N, async () => { for (let i = 0; i < N; i++) await db.get(key(reads[i])) })
  r.readconcurrent = await timed(N, () => inFlight(N, 64, (i) => db.get(key(reads[i]))))
  r.readmissing = await timed(N, async () => { for (let i = 0; i < N; i++) await db.get(key(reads[i]) + '.') })
  r.readseq = await timed(N, async () => { for await (const entry of db.iterator()) if (entry === undefined) throw new Error('unreachable') })
  r.readreverse = await timed(N, async () => { for await (const entry of db.iterator({ reverse: true })) if (entry === undefined) throw new Error('unreachable') })
  const seeks = Math.max(1000, Math.floor(N / 10))
  r.seekrandom = await timed(seeks, async () => {
    const it = db.iterator()
    for (let i = 0; i < seeks; i++) {
      it.seek(key(reads[i]))
      await it.nextv(10)
    }
    await it.close()
  })
  r.readstream = await timed(N, () => new Promise((resolve, reject) => {
    new EntryStream(db).on('data', () => {}).on('end', resolve).on('error', reject)
  }))

  // Event-loop delay while a full compaction runs in the background.
  const stopCompactionWatch = loopWatch()
  t0 = performance.now()
  await db.compactRange(key(0), key(N))
  r.compactMs = performance.now() - t0
  r.compactionMaxLoopDelayMs = stopCompactionWatch()

  r.deleterandom = await timed(N, async () => { for (let i = 0; i < N; i++) await db.del(key(reads[i])) })
  await db.close()
  r.peakRssBytes = process.resourceUsage().maxRSS * 1024
  process.stdout.write(JSON.stringify(r) + '\n')
}

main().catch((err) => { console.error(err); process.exit(1) })
