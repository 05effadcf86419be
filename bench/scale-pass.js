'use strict'

// One pass of `npm run bench:scale` (bench/scale.js) for one store and one number of worker
// threads, in a child process of its own. Prints one JSON line: total putconcurrent and
// readconcurrent ops/s over all the workers.
//
//   node bench/scale-pass.js <store> <dir> <n> <workers>
//
// The main thread opens the database first (so that it exists before any worker opens it, and
// so that it stays open between the phases), then starts the workers; each opens the same
// location (todb and classic-level with { multithreading: true }; lmdb-js shares one env among
// the threads that open a path). Once every worker has opened, each phase starts in all of them
// at once: putconcurrent, where worker j puts its own share of the n keys in a random order, then
// readconcurrent, where it gets its share of all n keys in another random order. Each worker
// keeps the same 64 operations in flight as the single-thread workloads, through the same
// adapter calls (bench/stores/). A phase's time runs from the start message to the last
// worker's done message; the reads must find all n keys.

const path = require('node:path')
const { performance } = require('node:perf_hooks')
const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads')
const stores = require('./stores')
const { key, value, shuffled, inFlight } = require('./data')

const DEPTH = 64
const PHASES = ['putconcurrent', 'readconcurrent']

async function coordinate () {
  const [store, dir, nArg, workersArg] = process.argv.slice(2)
  const n = Number(nArg)
  const count = Number(workersArg)
  const adapter = stores.load(store)
  if (!adapter.multithreaded) throw new Error(`${stores.label(store)} cannot be opened by several threads`)
  const location = path.join(dir, 'db')
  const db = await adapter.open(location, { multithreading: true })
  const orders = { putconcurrent: shuffled(n, { shared: true }), readconcurrent: shuffled(n, { shared: true }) }

  const workers = []
  const waiters = []
  let failure = null
  const fail = (err) => { failure = failure || err; for (const w of waiters.splice(0)) w.reject(err) }
  // Resolves with every worker's next message.
  const nextMessages = () => Promise.all(workers.map((w) => new Promise((resolve, reject) => {
    if (failure) return reject(failure)
    const waiter = { reject }
    waiters.push(waiter)
    w.once('message', (msg) => {
      const k = waiters.indexOf(waiter)
      if (k >= 0) waiters.splice(k, 1)
      if (msg.error) reject(new Error(msg.error))
      else resolve(msg)
    })
  })))
  for (let j = 0; j < count; j++) {
    const start = Math.floor(j * n / count)
    const end = Math.floor((j + 1) * n / count)
    const w = new Worker(__filename, { workerData: { store, location, start, end, orders } })
    w.on('error', fail)
    w.on('exit', (code) => { if (code !== 0) fail(new Error(`worker ${j} exited with ${code}`)) })
    workers.push(w)
  }
  await nextMessages() // every worker has opened the database

  const r = { store, n, workers: count }
  for (const phase of PHASES) {
    const t0 = performance.now()
    const done = nextMessages()
    for (const w of workers) w.postMessage({ phase })
    const replies = await done
    r[phase] = n / ((performance.now() - t0) / 1000)
    if (phase === 'readconcurrent') {
      const found = replies.reduce((sum, m) => sum + m.found, 0)
      if (found !== n) throw new Error(`${store} readconcurrent with ${count} workers: found ${found} of ${n}`)
    }
  }
  const exits = workers.map((w) => new Promise((resolve) => w.once('exit', resolve)))
  for (const w of workers) w.postMessage({ phase: 'close' })
  await Promise.all(exits)
  if (failure) throw failure
  await adapter.close(db)
  process.stdout.write(JSON.stringify(r) + '\n')
}

async function work () {
  const { store, location, start, end, orders } = workerData
  const adapter = stores.load(store)
  const db = await adapter.open(location, { multithreading: true })
  parentPort.on('message', async ({ phase }) => {
    try {
      if (phase === 'close') {
        await adapter.close(db)
        parentPort.close()
        return
      }
      const order = orders[phase]
      const w = { n: end - start, key: (i) => key(order[start + i]), value: (i) => value(start + i), depth: DEPTH, inFlight }
      const found = await adapter[phase](db, w)
      parentPort.postMessage({ found })
    } catch (err) {
      parentPort.postMessage({ error: `${phase}: ${err.stack || err}` })
    }
  })
  parentPort.postMessage({ ready: true })
}

if (isMainThread) {
  coordinate().catch((err) => { console.error(err); process.exit(1) })
} else {
  work().catch((err) => { parentPort.postMessage({ error: `open: ${err.stack || err}` }) })
}
