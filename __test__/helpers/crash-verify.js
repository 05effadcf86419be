'use strict'

// Checks the state recovered after a crash against the units the killed
// child issued (see crash-ops.js). Used by crash.test.js.
//
// verifyCycle({ before, units, acked, actual, deleted })
//   before   Map key -> value: the (verified) state before the cycle
//   units    the units the child may have issued: 0..acked-1 were acknowledged,
//            unit `acked` (if present) may have been in flight when killed
//   acked    number of acknowledged units
//   actual   Map key -> value read back after the crash
//   deleted  Set of keys deleted before this cycle (and not re-created)
//
// The recovered state must equal the state after some prefix 0..P of the
// units with acked <= P <= units.length. Returns counts of:
//   lostAcked     keys whose acknowledged value is missing or older
//   resurrected   keys that were deleted (acknowledged) but have a value again
//   phantom       keys with a value no prefix can explain
//   torn          batches applied partially
//   prefix        the largest P whose state equals `actual`, or -1 (violation)

function show (v) {
  if (v === undefined) return '<absent>'
  return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '...' : v)
}

function verifyCycle ({ before, units, acked, actual, deleted }) {
  const problems = []
  const note = (msg) => { if (problems.length < 12) problems.push(msg) }
  let lostAcked = 0
  let resurrected = 0
  let phantom = 0
  let torn = 0

  const touched = new Set()
  for (const u of units) for (const op of u.ops) touched.add(op.key)

  // Replay the units over `before`, restricted to touched keys, counting the
  // touched keys whose replayed value differs from `actual`.
  const cur = new Map()
  let mismatch = 0
  for (const k of touched) {
    cur.set(k, before.get(k))
    if (before.get(k) !== actual.get(k)) mismatch++
  }
  const matches = mismatch === 0 ? [0] : []
  const lastWriter = new Map()
  const prevValues = []
  const deletedInCycle = new Set()
  let atAcked = acked === 0 ? new Map(cur) : null
  for (let u = 0; u < units.length; u++) {
    const prev = []
    for (const op of units[u].ops) {
      const a = actual.get(op.key)
      const old = cur.get(op.key)
      const next = op.type === 'put' ? op.value : undefined
      prev.push(old)
      if (old === a) mismatch++
      if (next === a) mismatch--
      cur.set(op.key, next)
      lastWriter.set(op.key, u)
      if (op.type === 'del' && u < acked) deletedInCycle.add(op.key)
    }
    prevValues.push(prev)
    if (mismatch === 0) matches.push(u + 1)
    if (u + 1 === acked) atAcked = new Map(cur)
  }
  if (atAcked === null) throw new Error(`verifyCycle: ${units.length} units given for ${acked} acknowledged`)
  const atEnd = cur

  // Keys no unit touched must be exactly as before.
  let untouchedBad = 0
  for (const k of new Set([...before.keys(), ...actual.keys()])) {
    if (touched.has(k)) continue
    const e = before.get(k)
    const a = actual.get(k)
    if (e === a) continue
    untouchedBad++
    if (e !== undefined) {
      lostAcked++
      note(`lost: ${k} (acknowledged before this cycle) is ${show(a)}, expected ${show(e)}`)
    } else if (deleted.has(k)) {
      resurrected++
      note(`resurrected: ${k} was deleted before this cycle but is ${show(a)}`)
    } else {
      phantom++
      note(`phantom: ${k} = ${show(a)} was never written`)
    }
  }

  // Touched keys: the acknowledged value, or the in-flight unit's value.
  for (const k of touched) {
    const a = actual.get(k)
    const e1 = atAcked.get(k)
    const e2 = atEnd.get(k)
    if (a === e1 || a === e2) continue
    if (e1 !== undefined) {
      lostAcked++
      note(`lost acknowledged write: ${k} is ${show(a)}, expected ${show(e1)}`)
    } else if (deleted.has(k) || deletedInCycle.has(k)) {
      resurrected++
      note(`resurrected: ${k} was deleted (acknowledged) but is ${show(a)}`)
    } else {
      phantom++
      note(`phantom: ${k} = ${show(a)} is not the value of any prefix`)
    }
  }

  // Batches: all or nothing. Only ops whose key no later unit rewrote, and
  // whose effect differs from the value before the batch, tell anything.
  for (let u = 0; u < units.length; u++) {
    const ops = units[u].ops
    if (ops.length < 2) continue
    let applied = 0
    let notApplied = 0
    ops.forEach((op, j) => {
      if (lastWriter.get(op.key) !== u) return
      const effect = op.type === 'put' ? op.value : undefined
      const prev = prevValues[u][j]
      if (effect === prev) return
      const a = actual.get(op.key)
      if (a === effect) applied++
      else if (a === prev) notApplied++
    })
    if (applied > 0 && notApplied > 0) {
      torn++
      note(`torn batch #${u}: ${applied} ops applied, ${notApplied} not`)
    }
  }

  const prefix = untouchedBad === 0 && matches.length > 0 ? matches[matches.length - 1] : -1
  if (prefix < 0) note(`state is not the result of any prefix of the ${units.length} issued units (${acked} acknowledged)`)
  else if (prefix < acked) {
    note(`state is the prefix of ${prefix} units, but ${acked} were acknowledged`)
    if (lostAcked === 0) lostAcked = 1
  }

  let ackedOps = 0
  for (let u = 0; u < acked; u++) ackedOps += units[u].ops.length

  return { prefix, lostAcked, resurrected, phantom, torn, ackedOps, touched, problems }
}

module.exports = { verifyCycle }
