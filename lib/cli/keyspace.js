'use strict'

// Cutting the whole key space into slices of similar size on disk, so that a full compaction
// can run one slice at a time and report progress between them. Slicing is sound because the
// slices cover every key: the first starts at the empty key (the smallest there is), each one
// starts where the previous ended (compactRange takes both ends inclusive), and the last ends at
// a key above every key in any table. Compacting a range only ever merges whole tables, so
// compacting the slices in turn leaves the same data as one call over everything; only the
// tables may be cut differently (at slice ends).
//
// Sizes come from db.approximateSize (a table-index lookup per call, no key is read). Slice
// bounds are found by bisection: the heaviest slice is split at a bytewise midpoint until there
// are MAX_SLICES, or every slice is below MIN_SLICE_BYTES or cannot be split. A database
// smaller than MIN_SLICE_BYTES is compacted in one slice, exactly as one compactRange would.

const EMPTY = Buffer.alloc(0)
const MAX_SLICES = 32
// A slice smaller than this is not split: a slice's compaction cuts its output tables at the
// slice's ends, so small slices would leave more, smaller tables than one call over everything
// (2 MiB is the default table size, maxFileSize).
const MIN_SLICE_BYTES = 4 * 1024 * 1024
// Bytes past the common prefix that a midpoint looks at: enough to split any real key range,
// and the midpoint stays short.
const MIDPOINT_WIDTH = 16

// The bytes of `key` from `at`, `width` of them (zeros past its end), as one big-endian number.
function window (key, at, width) {
  let n = 0n
  for (let i = 0; i < width; i++) n = (n << 8n) | BigInt(key[at + i] ?? 0)
  return n
}

// A key strictly between `low` and `high` (low < high), or undefined when none is found, as for
// 'a' and 'a\x00', between which no key exists.
function midpoint (low, high) {
  let prefix = 0
  while (prefix < low.length && prefix < high.length && low[prefix] === high[prefix]) prefix++
  const width = Math.min(Math.max(low.length, high.length) - prefix + 1, MIDPOINT_WIDTH)
  let mid = (window(low, prefix, width) + window(high, prefix, width)) >> 1n
  const tail = Buffer.alloc(width)
  for (let i = width - 1; i >= 0; i--) {
    tail[i] = Number(mid & 0xffn)
    mid >>= 8n
  }
  const full = Buffer.concat([high.subarray(0, prefix), tail])
  let end = full.length
  while (end > prefix && full[end - 1] === 0) end--
  for (const candidate of [full.subarray(0, end), full]) {
    if (Buffer.compare(low, candidate) < 0 && Buffer.compare(candidate, high) < 0) return Buffer.from(candidate)
  }
  return undefined
}

// Slices [{ start, end, bytes }] covering every key from EMPTY to `upper`, in key order.
// `first` and `last` are the database's first and last live keys (or undefined): a slice is cut
// at the midpoint of its part of [first, last] when it has one, so that bisection goes straight
// to where the keys are instead of halving empty byte ranges ('' to 0xff...) first.
async function planSlices (db, upper, first, last) {
  const size = (start, end) => db.approximateSize(start, end)
  const slices = [{ start: EMPTY, end: upper, bytes: await size(EMPTY, upper), whole: false }]
  while (slices.length < MAX_SLICES) {
    let heaviest = -1
    for (let i = 0; i < slices.length; i++) {
      if (!slices[i].whole && (heaviest === -1 || slices[i].bytes > slices[heaviest].bytes)) heaviest = i
    }
    if (heaviest === -1 || slices[heaviest].bytes < MIN_SLICE_BYTES) break
    const { start, end } = slices[heaviest]
    const mid = cut(start, end, first, last)
    if (mid === undefined) {
      slices[heaviest].whole = true
      continue
    }
    slices.splice(heaviest, 1,
      { start, end: mid, bytes: await size(start, mid), whole: false },
      { start: mid, end, bytes: await size(mid, end), whole: false })
  }
  return slices.map(({ start, end, bytes }) => ({ start, end, bytes }))
}

// Where to cut [start, end]: strictly inside it, or undefined.
function cut (start, end, first, last) {
  if (first !== undefined && last !== undefined) {
    const low = Buffer.compare(first, start) > 0 ? first : start
    const high = Buffer.compare(last, end) < 0 ? last : end
    const mid = Buffer.compare(low, high) < 0 ? midpoint(low, high) : undefined
    if (mid !== undefined) return mid
  }
  return midpoint(start, end)
}

module.exports = { EMPTY, midpoint, planSlices }
