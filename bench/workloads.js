'use strict'

// One store's pass over the db_bench-style workloads, run in a child process by bench/index.js
// so that peak RSS belongs to one store. Prints one JSON line of results.
//
//   node bench/workloads.js <store> <dir> <n>     (store: a name from bench/stores/index.js)
//
// The keys, values and orders come from bench/data.js. This file owns the sequence of the
// workloads, the clock and the checks; the store's adapter (bench/stores/) owns only the calls
// inside each timed loop. A measure the store has no call for (compaction, for lmdb and
// @nxtedition/rocksdb) is null.

const fs = require('node:fs')
const path = require('node:path')
const { performance } = require('node:perf_hooks')
const stores = require('./stores')
const { key, value, shuffled, inFlight } = require('./data')

const [store, dir, nArg] = process.argv.slice(2)
const N = Number(nArg)
const adapter = stores.load(store)
// fillsync and seekrandom make at least 1,000 operations, each on one of the N keys.
if (!(N >= 1000)) throw new Error('n must be at least 1000')

const DEPTH = 64
const BATCH = 1000
const SEEK_LENGTH = 10

function dirBytes (d) {
  return fs.readdirSync(d, { withFileTypes: true }).reduce((sum, e) => {
    const p = path.join(d, e.name)
    return sum + (e.isDirectory() ? dirBytes(p) : fs.statSync(p).size)
  }, 0)
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

// The workload context an adapter's loop sees: n operations on key(i) and value(i).
const ctx = (n, keyOf, valueOf = value) => ({ n, key: keyOf, value: valueOf, depth: DEPTH, batchSize: BATCH, seekLength: SEEK_LENGTH, inFlight })

// Runs one workload of n operations and records its ops/s in r[name]; `expect`, when given, is
// how many entries the workload must report found.
async function timed (r, name, n, fn, expect) {
  const t0 = performance.now()
  const found = await fn()
  r[name] = n / ((performance.now() - t0) / 1000)
  if (expect !== undefined && found !== expect) throw new Error(`${store} ${name}: found ${found}, expected ${expect}`)
}

async function open (name, options) {
  return adapter.open(path.join(dir, name), options)
}

async function main () {
  const r = { store, n: N }
  const order = shuffled(N)
  const byOrder = (i) => key(order[i])

  let db = await open('seq')
  await timed(r, 'fillseq', N, () => adapter.fill(db, ctx(N, key)))
  await adapter.close(db)

  db = await open('random')
  const stopWatch = loopWatch()
  await timed(r, 'fillrandom', N, () => adapter.fill(db, ctx(N, byOrder, (i) => value(order[i]))))
  r.fillrandomMaxLoopDelayMs = stopWatch()
  await adapter.close(db)
  r.diskBytes = dirBytes(path.join(dir, 'random'))
  let t0 = performance.now()
  db = await open('random')
  r.reopenMs = performance.now() - t0

  const syncN = Math.max(1000, Math.floor(N / 1000))
  const sdb = await open('sync', { sync: true })
  await timed(r, 'fillsync', syncN, () => adapter.fillsync(sdb, ctx(syncN, byOrder)))
  await adapter.close(sdb)

  const bdb = await open('batch')
  await timed(r, 'fillbatch', N, () => adapter.fillbatch(bdb, ctx(N, byOrder)))
  await adapter.close(bdb)

  const cdb = await open('concurrent')
  await timed(r, 'putconcurrent', N, () => adapter.putconcurrent(cdb, ctx(N, byOrder)))
  await adapter.close(cdb)

  const reads = shuffled(N)
  const byReads = (i) => key(reads[i])
  await timed(r, 'readrandom', N, () => adapter.readrandom(db, ctx(N, byReads)), N)
  await timed(r, 'readconcurrent', N, () => adapter.readconcurrent(db, ctx(N, byReads)), N)
  await timed(r, 'readmissing', N, () => adapter.readmissing(db, ctx(N, (i) => key(reads[i]) + '.')), 0)
  await timed(r, 'readseq', N, () => adapter.readseq(db, ctx(N, key)), N)
  await timed(r, 'readreverse', N, () => adapter.readreverse(db, ctx(N, key)), N)
  const seeks = Math.max(1000, Math.floor(N / 10))
  // Each seek lands on a present key, so it finds seekLength entries unless it is near the end.
  let seekExpect = 0
  for (let i = 0; i < seeks; i++) seekExpect += Math.min(SEEK_LENGTH, N - reads[i])
  await timed(r, 'seekrandom', seeks, () => adapter.seekrandom(db, ctx(seeks, byReads)), seekExpect)
  await timed(r, 'readstream', N, () => adapter.readstream(db, ctx(N, key)), N)

  // Event-loop delay while a full compaction runs in the background.
  r.compactMs = null
  r.compactionMaxLoopDelayMs = null
  if (adapter.compact) {
    const stopCompactionWatch = loopWatch()
    t0 = performance.now()
    await adapter.compact(db, key(0), key(N))
    r.compactMs = performance.now() - t0
    r.compactionMaxLoopDelayMs = stopCompactionWatch()
  }

  await timed(r, 'deleterandom', N, () => adapter.deleterandom(db, ctx(N, byReads)))
  await adapter.close(db)
  r.peakRssBytes = process.resourceUsage().maxRSS * 1024
  process.stdout.write(JSON.stringify(r) + '\n')
}

main().catch((err) => { console.error(err); process.exit(1) })
