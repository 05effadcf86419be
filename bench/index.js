'use strict'

// `npm run bench`: db_bench-style workloads through the public API of todb and of classic-level
// 3.0.0, the two alternating in one run, each pass in its own child process. Prints ops/s for
// both and the ratio todb / classic-level per workload (medians over the runs), then disk size,
// peak RSS, reopen time and the longest event-loop delays. Writes bench/results/latest.json, a
// PNG chart of the ratios, and the README's results section.
//
//   npm run bench -- [--n 1000000] [--runs 3] [--no-readme]

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const args = process.argv.slice(2)
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : fallback
}
const N = Number(arg('n', 1_000_000))
const RUNS = Number(arg('runs', 3))
const updateReadme = !args.includes('--no-readme')

// Ratios above 1 favour todb. For disk, RSS and reopen time (lower is better) the ratio is
// classic-level / todb, so that it reads the same way.
const WORKLOADS = [
  ['fillseq', 5], ['fillrandom', 5], ['fillsync', 1], ['fillbatch', 2], ['putconcurrent', 2],
  ['readrandom', 5], ['readconcurrent', 2], ['readmissing', 5], ['readseq', 2], ['readreverse', 2],
  ['seekrandom', 5], ['readstream', 2], ['deleterandom', 5]
]
const LOWER_IS_BETTER = [['diskBytes', 'disk size', 1], ['peakRssBytes', 'peak RSS', 1], ['reopenMs', 'reopen time', 1]]

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

function pass (store) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${store}-`))
  try {
    const out = execFileSync(process.execPath, [path.join(__dirname, 'workloads.js'), store, dir, String(N)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })
    return JSON.parse(out.trim().split('\n').pop())
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

const fmt = (x) => x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1)

function main () {
  const results = { todb: [], classic: [] }
  for (let run = 0; run < RUNS; run++) {
    const order = run % 2 === 0 ? ['todb', 'classic'] : ['classic', 'todb']
    for (const store of order) {
      process.stderr.write(`run ${run + 1}/${RUNS}: ${store}, N=${N}\n`)
      results[store].push(pass(store))
    }
  }
  const med = (store, field) => median(results[store].map((r) => r[field]))
  const rows = []
  const lines = ['| workload | todb ops/s | classic-level ops/s | ratio | target |', '|---|--:|--:|--:|--:|']
  for (const [name, target] of WORKLOADS) {
    const t = med('todb', name)
    const c = med('classic', name)
    rows.push({ name, ratio: t / c, target, todb: t, classic: c })
    lines.push(`| ${name} | ${fmt(t)} | ${fmt(c)} | ${(t / c).toFixed(1)}x | ${target}x |`)
  }
  lines.push('', '| measure | todb | classic-level | classic-level / todb | target |', '|---|--:|--:|--:|--:|')
  for (const [field, name, target] of LOWER_IS_BETTER) {
    const t = med('todb', field)
    const c = med('classic', field)
    rows.push({ name, ratio: c / t, target, todb: t, classic: c })
    const unit = field === 'reopenMs' ? (x) => `${x.toFixed(1)} ms` : (x) => `${(x / 1048576).toFixed(1)} MiB`
    lines.push(`| ${name} | ${unit(t)} | ${unit(c)} | ${(c / t).toFixed(2)}x | ≥ ${target}x |`)
  }
  for (const field of ['fillrandomMaxLoopDelayMs', 'compactionMaxLoopDelayMs']) {
    lines.push(`| max event-loop delay, ${field.startsWith('fill') ? 'fillrandom' : 'compaction'} | ${med('todb', field).toFixed(1)} ms | ${med('classic', field).toFixed(1)} ms | | < 10 ms |`)
  }
  const cpu = os.cpus()[0]
  const machine = `${os.cpus().length} x ${cpu ? cpu.model.trim() : 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`
  const date = new Date().toISOString().slice(0, 10)
  const header = `N = ${N.toLocaleString('en-US')}, medians of ${RUNS} run(s), ${date}, ${machine}`
  const table = lines.join('\n')
  console.log(header + '\n\n' + table)

  const outDir = path.join(__dirname, 'results')
  fs.mkdirSync(outDir, { recursive: true })
  fs.writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify({ date, machine, n: N, runs: RUNS, rows, results }, null, 2) + '\n')
  require('./chart').writeRatioChart(path.join(outDir, 'ratios.png'), rows, { title: 'todb / classic-level (higher is better)', subtitle: header })
  if (updateReadme) {
    const readme = path.join(__dirname, '..', 'README.md')
    const text = fs.readFileSync(readme, 'utf8')
    const section = `<!-- bench:start -->\n${header}. Command: \`npm run bench -- --n ${N} --runs ${RUNS}\`.\n\n${table}\n\n![todb / classic-level ratios](bench/results/ratios.png)\n<!-- bench:end -->`
    fs.writeFileSync(readme, text.replace(/<!-- bench:start -->[\s\S]*<!-- bench:end -->/, section))
  }
}

main()
