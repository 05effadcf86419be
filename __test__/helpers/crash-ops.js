'use strict'

// Deterministic workload for crash.test.js: unit(mode, seed, cycle, i) is a
// pure function, so the parent can regenerate exactly what the killed child
// issued. A unit is one acknowledged write: a single put/del or one batch.

const { prng, pad } = require('./util.js')

const MODES = ['sync-put', 'put', 'batch', 'put-del']
const KEYSPACE = 24 // keys of the put-del mode, shared by all its cycles

function mix (seed, i) {
  let h = (seed ^ Math.imul(i + 1, 0x9E3779B1)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85EBCA6B) >>> 0
  h = Math.imul(h ^ (h >>> 13), 0xC2B2AE35) >>> 0
  return (h ^ (h >>> 16)) >>> 0
}

function rng (seed, i) {
  return prng(mix(seed, i))
}

// Keys of the cycle-scoped modes start with this prefix (and sort before
// 'd:', the put-del keyspace).
function cyclePrefix (cycle) {
  return 'c' + pad(cycle, 4) + ':'
}

// A unique, recognisable value: mostly small, sometimes large enough to span
// 32 KiB log blocks.
function value (r, tag, largeProbability) {
  const large = r() < largeProbability
  const length = large ? 2048 + Math.floor(r() * 38000) : Math.floor(r() * 120)
  const ch = String.fromCharCode(97 + Math.floor(r() * 26))
  return tag + '|' + ch.repeat(length)
}

function unit (mode, seed, cycle, i) {
  const r = rng(seed, i)
  const p = cyclePrefix(cycle)
  switch (mode) {
    case 'sync-put':
      return { sync: true, ops: [{ type: 'put', key: p + 'p' + pad(i, 7), value: value(r, `${cycle}.${i}`, 0.03) }] }
    case 'put':
      return { sync: false, ops: [{ type: 'put', key: p + 'p' + pad(i, 7), value: value(r, `${cycle}.${i}`, 0.03) }] }
    case 'batch': {
      const n = 1 + Math.floor(r() * r() * 100) // 1..100, skewed to small batches
      const ops = []
      for (let j = 0; j < n; j++) {
        ops.push({ type: 'put', key: p + 'b' + pad(i, 7) + ':' + pad(j, 3), value: value(r, `${cycle}.${i}.${j}`, 0.003) })
      }
      // Sometimes delete the first key of the previous batch, in the same batch.
      if (i > 0 && r() < 0.3) ops.push({ type: 'del', key: p + 'b' + pad(i - 1, 7) + ':000' })
      return { sync: r() < 0.1, chained: r() < 0.5, ops }
    }
    case 'put-del': {
      const key = 'd:k' + pad(Math.floor(r() * KEYSPACE), 2)
      if (r() < 0.6) return { sync: false, ops: [{ type: 'put', key, value: value(r, `${cycle}.${i}`, 0.05) }] }
      return { sync: false, ops: [{ type: 'del', key }] }
    }
    default:
      throw new Error('unknown mode ' + mode)
  }
}

module.exports = { MODES, unit, cyclePrefix }
