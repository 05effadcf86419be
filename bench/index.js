'use strict'

// `npm run bench`: db_bench-style workloads through the public API of todb and of the stores it
// is measured against (classic-level, lmdb-js opened noSync, @nxtedition/rocksdb; see
// bench/stores/), all alternating in one run, each pass in its own child process. Prints ops/s
// for every store and the ratios todb / classic-level and todb / lmdb per workload against their
// targets (medians over the runs), then disk size, peak RSS, reopen time and the longest
// event-loop delays. Writes bench/results/latest.json, a PNG chart of the ratios and the README's
// results section (between its bench:start and bench:end markers).
//
//   npm run bench -- [--n 1000000] [--runs 3] [--stores todb,classic,lmdb,rocksdb] [--no-readme]
//                    [--timeout <seconds per pass>]
//
// The order of the stores rotates from run to run, so that none always runs first or last on a
// machine whose speed drifts. A pass that crashes or outlives --timeout is killed and left out of
// the medians, and the table says so.

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const stores = require('./stores')
const report = require('./report')

const { arg, flag } = require('./args')
const N = Number(arg('n', 1_000_000))
const RUNS = Number(arg('runs', 3))
const STORES = stores.parseStores(arg('stores'))
// Generous: the slowest store's awaited one-at-a-time workloads run near 10,000 ops/s here.
const TIMEOUT_S = Number(arg('timeout', Math.ceil(120 + N * 0.003)))
const updateReadme = !flag('no-readme')

// One pass of one store in a child process; null if it failed or timed out.
function pass (store) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${store}-`))
  try {
    const out = execFileSync(process.execPath, [path.join(__dirname, 'workloads.js'), store, dir, String(N)], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: TIMEOUT_S * 1000, killSignal: 'SIGKILL'
    })
    return JSON.parse(out.trim().split('\n').pop())
  } catch (err) {
    const why = err.signal === 'SIGKILL' ? `killed after the ${TIMEOUT_S} s timeout` : `failed: ${err.message.split('\n')[0]}`
    process.stderr.write(`${store} pass ${why}\n`)
    return null
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

function main () {
  const results = Object.fromEntries(STORES.map((s) => [s, []]))
  const failed = Object.fromEntries(STORES.map((s) => [s, 0]))
  for (let run = 0; run < RUNS; run++) {
    const k = run % STORES.length
    const order = STORES.slice(k).concat(STORES.slice(0, k))
    for (const store of order) {
      process.stderr.write(`run ${run + 1}/${RUNS}: ${store}, N=${N}\n`)
      const r = pass(store)
      if (r) results[store].push(r)
      else failed[store]++
    }
  }
  const rows = report.summarize(results, STORES)
  const table = report.markdown(rows, STORES)

  const cpu = os.cpus()[0]
  const machine = `${os.cpus().length} x ${cpu ? cpu.model.trim() : 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`
  const date = new Date().toISOString().slice(0, 10)
  const failures = STORES.filter((s) => failed[s]).map((s) => `${stores.label(s)}: ${failed[s]} of ${RUNS} pass(es) failed or timed out`)
  const header = `N = ${N.toLocaleString('en-US')}, medians of ${RUNS} run(s), ${date}, ${machine}; ` +
    `${report.storesLine(STORES)}${failures.length ? `; ${failures.join('; ')}` : ''}`
  console.log(header + '\n\n' + table)

  const outDir = path.join(__dirname, 'results')
  fs.mkdirSync(outDir, { recursive: true })
  const versions = Object.fromEntries(STORES.map((s) => [s, stores.version(s)]))
  fs.writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify({ date, machine, n: N, runs: RUNS, stores: STORES, versions, targets: report.TARGETS, rows, results }, null, 2) + '\n')
  const cs = report.comparisons(STORES)
  const title = cs.length ? cs.map((c) => `todb / ${stores.label(c)}`).join(' and ') + ' (higher is better)' : 'no ratios: todb was not run with classic-level or lmdb'
  require('./chart').writeRatioChart(path.join(outDir, 'ratios.png'), report.chartRows(rows, STORES), { title, subtitle: header })
  if (updateReadme) {
    const readme = path.join(__dirname, '..', 'README.md')
    const text = fs.readFileSync(readme, 'utf8')
    const command = `npm run bench -- --n ${N} --runs ${RUNS}${arg('stores') ? ` --stores ${STORES.join(',')}` : ''}`
    const section = `<!-- bench:start -->\n${header}. Command: \`${command}\`.\n\n${table}\n\n![${title}](bench/results/ratios.png)\n<!-- bench:end -->`
    fs.writeFileSync(readme, text.replace(/<!-- bench:start -->[\s\S]*<!-- bench:end -->/, () => section))
  }
}

main()
