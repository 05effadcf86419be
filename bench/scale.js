'use strict'

// `npm run bench:scale`: how the stores scale with worker threads in one process (issue 13,
// part 4). For each store and each worker count, a pass in its own child process
// (bench/scale-pass.js) opens one database from that many worker threads and runs
// putconcurrent, then readconcurrent, each worker doing its share of the n operations with 64 in
// flight. Prints total ops/s per store per worker count as a table (medians over the runs) and
// writes bench/results/scale-latest.json.
//
//   npm run bench:scale -- [--n 1000000] [--runs 3] [--workers 1,4,16]
//                          [--stores todb,classic,lmdb] [--timeout <seconds per pass>]
//
// todb and classic-level are opened with { multithreading: true } in every thread; lmdb-js
// shares its env among the threads that open a path. @nxtedition/rocksdb cannot be opened by a
// second thread (see bench/stores/level.js) and is reported n/a if asked for. The store order
// rotates from run to run; a pass that crashes or outlives --timeout is killed and left out.

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const stores = require('./stores')
const { arg } = require('./args')

const N = Number(arg('n', 1_000_000))
const RUNS = Number(arg('runs', 3))
const WORKERS = String(arg('workers', '1,4,16')).split(',').map(Number)
const STORES = stores.parseStores(arg('stores', 'todb,classic,lmdb'))
// Generous: the slowest store here runs its concurrent workloads near 20,000 ops/s.
const TIMEOUT_S = Number(arg('timeout', Math.ceil(60 + N * 0.0005)))
const PHASES = ['putconcurrent', 'readconcurrent']

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return null
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

// One pass in a child process; null if it failed or timed out.
function pass (store, workers) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-scale-${store}-`))
  try {
    const out = execFileSync(process.execPath, [path.join(__dirname, 'scale-pass.js'), store, dir, String(N), String(workers)], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: TIMEOUT_S * 1000, killSignal: 'SIGKILL'
    })
    return JSON.parse(out.trim().split('\n').pop())
  } catch (err) {
    const why = err.signal === 'SIGKILL' ? `killed after the ${TIMEOUT_S} s timeout` : `failed: ${err.message.split('\n')[0]}`
    process.stderr.write(`${store} with ${workers} worker(s): pass ${why}\n`)
    return null
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const fmt = (x) => x === null ? 'n/a' : Math.round(x).toLocaleString('en-US')

function main () {
  const able = STORES.filter((s) => stores.load(s).multithreaded)
  const results = {}
  for (const s of able) for (const w of WORKERS) results[`${s}/${w}`] = []
  for (let run = 0; run < RUNS; run++) {
    const k = run % Math.max(1, able.length)
    const order = able.slice(k).concat(able.slice(0, k))
    for (const store of order) {
      for (const workers of WORKERS) {
        process.stderr.write(`run ${run + 1}/${RUNS}: ${store}, ${workers} worker(s), N=${N}\n`)
        const r = pass(store, workers)
        if (r) results[`${store}/${workers}`].push(r)
      }
    }
  }

  const rows = []
  const threads = (w) => `${w} thread${w === 1 ? '' : 's'}`
  const lines = [`| workload | store | ${WORKERS.map(threads).join(' | ')} |`, `|---|---|${WORKERS.map(() => '--:').join('|')}|`]
  for (const phase of PHASES) {
    for (const s of STORES) {
      const opsPerS = WORKERS.map((w) => able.includes(s) ? median(results[`${s}/${w}`].map((r) => r[phase])) : null)
      rows.push({ workload: phase, store: s, workers: WORKERS, opsPerS })
      lines.push(`| ${phase} | ${stores.label(s)} | ${opsPerS.map(fmt).join(' | ')} |`)
    }
  }
  const cpu = os.cpus()[0]
  const machine = `${os.cpus().length} x ${cpu ? cpu.model.trim() : 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`
  const date = new Date().toISOString().slice(0, 10)
  const versions = Object.fromEntries(STORES.map((s) => [s, stores.version(s)]))
  const header = `Total ops/s over all worker threads, 64 in flight per thread. N = ${N.toLocaleString('en-US')}, ` +
    `medians of ${RUNS} run(s), ${date}, ${machine}; ${STORES.map((s) => `${stores.label(s)} ${versions[s]}`).join(', ')}`
  const skipped = STORES.filter((s) => !able.includes(s)).map(stores.label)
  console.log(header + '\n\n' + lines.join('\n') + (skipped.length ? `\n\nn/a: ${skipped.join(', ')} cannot be opened by several threads.` : ''))

  const outDir = path.join(__dirname, 'results')
  fs.mkdirSync(outDir, { recursive: true })
  fs.writeFileSync(path.join(outDir, 'scale-latest.json'), JSON.stringify({ date, machine, n: N, runs: RUNS, workers: WORKERS, stores: STORES, versions, rows, results }, null, 2) + '\n')
}

main()
