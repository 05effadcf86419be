'use strict'

// Turns the passes of `npm run bench` (bench/index.js) into its results: the median of each
// measure per store, the ratios of todb to classic-level and to lmdb against their targets, the
// markdown tables that are printed and written to the README, and the rows of the ratio chart.
//
// Ratios above 1 favour todb. For disk, RSS and reopen time (lower is better) the ratio is
// other / todb, so that it reads the same way. A target is a minimum ratio; a ratio is `met`
// when it is at least its target. A measure a store has no call for is null, shown as n/a.

const stores = require('./stores')

const WORKLOADS = [
  'fillseq', 'fillrandom', 'fillsync', 'fillbatch', 'putconcurrent', 'readrandom', 'readconcurrent',
  'readmissing', 'readseq', 'readreverse', 'seekrandom', 'readstream', 'deleterandom'
]
const LOWER_IS_BETTER = [['diskBytes', 'disk size'], ['peakRssBytes', 'peak RSS'], ['reopenMs', 'reopen time']]
const DELAYS = [['fillrandomMaxLoopDelayMs', 'max event-loop delay, fillrandom'], ['compactionMaxLoopDelayMs', 'max event-loop delay, compaction']]
const MAX_DELAY_MS = 10

// The stores todb is compared with, and the minimum ratio todb / store for each measure.
// classic-level's are the project's standing targets; lmdb's are issue 13's.
const TARGETS = {
  classic: {
    fillseq: 5, fillrandom: 5, fillsync: 1, fillbatch: 2, putconcurrent: 2, readrandom: 5, readconcurrent: 2,
    readmissing: 5, readseq: 2, readreverse: 2, seekrandom: 5, readstream: 2, deleterandom: 5,
    diskBytes: 1, peakRssBytes: 1, reopenMs: 1
  },
  lmdb: {
    fillseq: 1.5, fillrandom: 1.5, fillsync: 1.5, fillbatch: 1.5, putconcurrent: 1.5, deleterandom: 1.5,
    readrandom: 1, readmissing: 1, readconcurrent: 1, seekrandom: 1
  }
}

function median (xs) {
  const s = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b)
  if (s.length === 0) return null
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

// The comparisons this run can make: todb against each of classic-level and lmdb that ran.
const comparisons = (names) => names.includes('todb') ? Object.keys(TARGETS).filter((c) => names.includes(c)) : []

function compare (field, todb, other, comparison, lowerIsBetter) {
  const target = TARGETS[comparison][field] ?? null
  const ratio = todb === null || other === null ? null : lowerIsBetter ? other / todb : todb / other
  return { ratio, target, met: target === null || ratio === null ? null : ratio >= target }
}

// results: { store: [pass result, ...] }, names: the stores that ran, in table order.
function summarize (results, names) {
  const med = (store, field) => median((results[store] || []).map((r) => r[field]))
  const values = (field) => Object.fromEntries(names.map((s) => [s, med(s, field)]))
  const rows = []
  const add = (kind, field, name, lowerIsBetter) => {
    const v = values(field)
    const vs = {}
    for (const c of comparisons(names)) vs[c] = compare(field, v.todb, v[c], c, lowerIsBetter)
    rows.push({ kind, field, name, values: v, vs })
  }
  for (const w of WORKLOADS) add('ops', w, w, false)
  for (const [field, name] of LOWER_IS_BETTER) add('lower', field, name, true)
  for (const [field, name] of DELAYS) {
    const v = values(field)
    rows.push({ kind: 'delay', field, name, values: v, maxMs: MAX_DELAY_MS, met: v.todb === null || v.todb === undefined ? null : v.todb < MAX_DELAY_MS })
  }
  return rows
}

const fmtOps = (x) => x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(1)
const fmtMiB = (x) => `${(x / 1048576).toFixed(1)} MiB`
const fmtMs = (x) => `${x.toFixed(1)} ms`
const cell = (x, fmt) => x === null || x === undefined ? 'n/a' : fmt(x)
const verdict = (met) => met ? 'met' : 'not met'
const targetCell = ({ target, met }) => target === null ? '' : `≥ ${target}x${met === null ? '' : `, ${verdict(met)}`}`

function ratioCells (row, cs, digits) {
  return cs.flatMap((c) => [cell(row.vs[c].ratio, (r) => `${r.toFixed(digits)}x`), targetCell(row.vs[c])])
}

// Two tables, as the README has always shown them: ops/s per workload, then the lower-is-better
// measures with the event-loop delays.
function markdown (rows, names) {
  const cs = comparisons(names)
  const label = stores.label
  const line = (cells) => `| ${cells.join(' | ')} |`
  const rule = (n) => `|---|${Array(n - 1).fill('--:').join('|')}|`
  const opsHeader = ['workload', ...names.map((s) => `${label(s)} ops/s`), ...cs.flatMap((c) => [`todb / ${label(c)}`, 'target'])]
  const lowerHeader = ['measure', ...names.map(label), ...cs.flatMap((c) => [`${label(c)} / todb`, 'target'])]
  const out = [line(opsHeader), rule(opsHeader.length)]
  for (const row of rows.filter((r) => r.kind === 'ops')) {
    out.push(line([row.name, ...names.map((s) => cell(row.values[s], fmtOps)), ...ratioCells(row, cs, 1)]))
  }
  out.push('', line(lowerHeader), rule(lowerHeader.length))
  for (const row of rows.filter((r) => r.kind === 'lower')) {
    const fmt = row.field === 'reopenMs' ? fmtMs : fmtMiB
    out.push(line([row.name, ...names.map((s) => cell(row.values[s], fmt)), ...ratioCells(row, cs, 2)]))
  }
  for (const row of rows.filter((r) => r.kind === 'delay')) {
    // The bound is todb's own; the other stores' delays are shown for comparison.
    const bound = `< ${row.maxMs} ms${row.met === null ? '' : `, ${verdict(row.met)}`}`
    const ratioBlanks = cs.flatMap((c, i) => ['', i === 0 ? bound : ''])
    out.push(line([row.name, ...names.map((s) => cell(row.values[s], fmtMs)), ...ratioBlanks]))
  }
  return out.join('\n')
}

// The chart's rows: one bar per workload per comparison, grouped by workload.
function chartRows (rows, names) {
  const cs = comparisons(names)
  return rows.filter((r) => r.kind !== 'delay').flatMap((row) => cs.map((c) => ({
    name: row.name,
    series: `vs ${c === 'classic' ? 'classic' : stores.label(c)}`,
    ratio: row.vs[c].ratio,
    target: row.vs[c].target
  })))
}

// The stores and exact versions a run measured, for the header line.
function storesLine (names) {
  return names.map((s) => `${stores.label(s)} ${stores.version(s)}`).join(', ')
}

module.exports = { summarize, markdown, chartRows, storesLine, comparisons, TARGETS }
