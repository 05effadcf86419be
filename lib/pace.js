'use strict'

// Operations answered from memory settle at once, and a loop of such awaits never lets the event
// loop turn: timers and I/O would starve for as long as the loop runs. So after PACE_MS of
// back-to-back settled operations, the next one settles through setImmediate instead, and the
// loop turns once. The check is a counter on the hot path and a clock read every CHECK_EVERY
// operations; a batch (an iterator's nextv) counts as the entries it carries.

const { performance } = require('node:perf_hooks')

const PACE_MS = 2
const CHECK_EVERY = 32

let since = performance.now()
let count = 0

function pace (value) {
  if (++count < CHECK_EVERY) return value
  return turn(value)
}

// An iterator batch counts as the entries it carries.
function paceBatch (items) {
  count += items.length
  if (count < CHECK_EVERY) return items
  return turn(items)
}

function turn (value) {
  count = 0
  const now = performance.now()
  if (now - since < PACE_MS) return value
  since = now
  return new Promise((resolve) => setImmediate(resolve, value))
}

exports.pace = pace
exports.paceBatch = paceBatch
