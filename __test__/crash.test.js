'use strict'

// kill -9 test. A child (helpers/crash-writer.js) opens the database and
// writes units (single puts/dels or batches) that are a pure function of
// (mode, seed, cycle, i), one at a time, printing i after each
// acknowledgement. The parent SIGKILLs it after a random delay - sometimes
// before it printed 'ready', so that kills also land during open/recovery -
// then reopens the database and checks that the recovered state is the state
// after a prefix of the issued units that includes every acknowledged unit:
// no acknowledged write lost, batches all-or-nothing, deletes stay deleted.
// Cycles run cumulatively on one directory, each continuing from the state
// the previous one recovered.
//
// TODB_CRASH_CYCLES (default 40) and TODB_CRASH_SEED override the defaults.

const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawn } = require('node:child_process')
const { performance } = require('node:perf_hooks')

const { Todb } = require('..')
const { tmpDir, rmDir, prng } = require('./helpers/util.js')
const { MODES, unit, cyclePrefix } = require('./helpers/crash-ops.js')
const { verifyCycle } = require('./helpers/crash-verify.js')

const WRITER = path.join(__dirname, 'helpers', 'crash-writer.js')
const CYCLES = Number(process.env.TODB_CRASH_CYCLES || 40)
const SEED = Number(process.env.TODB_CRASH_SEED || (Date.now() % 1000000000))
const WRITE_BUFFER_SIZE = 64 * 1024

const dirs = []
const children = new Set()
after(() => {
  for (const child of children) child.kill('SIGKILL')
  for (const dir of dirs) rmDir(dir)
})

const put = (key, value) => ({ type: 'put', key, value })
const del = (key) => ({ type: 'del', key })

test('the crash verifier itself detects lost writes, torn batches, resurrected deletes and non-prefix states', () => {
  const before = new Map([['old', 'o'], ['gone', 'g']])
  const deleted = new Set(['was-deleted'])
  const units = [
    { ops: [put('a', '1')] },
    { ops: [put('b', '2'), put('c', '3'), del('gone')] },
    { ops: [put('a', '4')] },
    { ops: [put('d', '5')] } // in flight
  ]
  const acked = 3
  const afterAll = new Map([['old', 'o'], ['a', '4'], ['b', '2'], ['c', '3'], ['d', '5']])
  const afterAcked = new Map([['old', 'o'], ['a', '4'], ['b', '2'], ['c', '3']])
  const check = (actual) => verifyCycle({ before, units, acked, actual, deleted })

  let r = check(afterAll)
  assert.deepEqual([r.prefix, r.lostAcked, r.torn, r.resurrected, r.phantom], [4, 0, 0, 0, 0], 'in-flight unit applied')
  assert.equal(r.ackedOps, 5)
  r = check(afterAcked)
  assert.deepEqual([r.prefix, r.lostAcked, r.torn, r.resurrected, r.phantom], [3, 0, 0, 0, 0], 'in-flight unit lost: fine')

  r = check(new Map([['old', 'o'], ['a', '1'], ['b', '2'], ['c', '3']])) // last acked unit lost
  assert.equal(r.lostAcked, 1)
  assert.equal(r.prefix, 2)
  r = check(new Map([['a', '4'], ['b', '2'], ['c', '3']])) // older data lost
  assert.equal(r.lostAcked, 1)
  assert.equal(r.prefix, -1)
  r = check(new Map([['old', 'o'], ['a', '4'], ['b', '2'], ['gone', 'g']])) // batch half applied
  assert.ok(r.torn === 1 && r.lostAcked > 0 && r.prefix === -1)
  r = check(new Map([['old', 'o'], ['a', '4'], ['b', '2'], ['c', '3'], ['was-deleted', 'x']]))
  assert.ok(r.resurrected === 1 && r.prefix === -1)
  r = check(new Map([['old', 'o'], ['a', '4'], ['b', '2'], ['c', '3'], ['gone', 'g']])) // acked del undone
  assert.ok(r.resurrected === 1 && r.prefix === -1)
  r = check(new Map([['old', 'o'], ['a', '1'], ['d', '5']])) // later unit without the earlier ones
  assert.ok(r.prefix === -1 && r.lostAcked > 0)
  r = check(new Map([...afterAll, ['zzz', '?']]))
  assert.ok(r.phantom === 1 && r.prefix === -1)
  // The in-flight batch half applied: each key alone looks fine, the batch is torn.
  const mixed = verifyCycle({
    before: new Map(),
    units: [{ ops: [put('z', '1')] }, { ops: [put('x', '1'), put('y', '1')] }],
    acked: 1,
    actual: new Map([['z', '1'], ['x', '1']]),
    deleted: new Set()
  })
  assert.deepEqual([mixed.prefix, mixed.torn, mixed.lostAcked], [-1, 1, 0])
  // An acknowledged unit missing while its successor is present.
  const gap = verifyCycle({
    before: new Map(),
    units: [{ ops: [put('x', '1')] }, { ops: [put('y', '1')] }, { ops: [del('x')] }],
    acked: 2,
    actual: new Map(),
    deleted: new Set()
  })
  assert.deepEqual([gap.prefix, gap.lostAcked], [0, 1])
})

function median (values) {
  const sorted = values.slice().sort((a, b) => a - b)
  return sorted.length ? sorted[Math.floor(sorted.length / 2)] : NaN
}

// Runs one child until it is killed. plan: { afterReady, delay } - kill
// `delay` ms after 'ready' was seen, or `delay` ms after spawning.
function runWriter (loc, mode, seed, cycle, plan) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, loc, mode, String(seed), String(cycle), String(WRITE_BUFFER_SIZE)], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    children.add(child)
    const spawnedAt = performance.now()
    let stdout = ''
    let stderr = ''
    let readyAfter = null
    let killTimer = null
    let killed = false
    const kill = () => {
      killed = true
      child.kill('SIGKILL')
    }
    const safety = setTimeout(kill, 30000) // never hang the suite
    if (!plan.afterReady) killTimer = setTimeout(kill, plan.delay)
    child.stdout.setEncoding('utf8').on('data', (s) => {
      stdout += s
      if (readyAfter === null && stdout.startsWith('ready\n')) {
        readyAfter = performance.now() - spawnedAt
        if (plan.afterReady) killTimer = setTimeout(kill, plan.delay)
      }
    })
    child.stderr.setEncoding('utf8').on('data', (s) => { stderr += s })
    child.on('error', reject)
    child.on('close', (code, signal) => {
      children.delete(child)
      clearTimeout(safety)
      clearTimeout(killTimer)
      resolve({ code, signal, stdout, stderr, readyAfter, killed })
    })
  })
}

test(`kill -9 at random points loses no acknowledged write (${CYCLES} cycles)`, { timeout: 600000 }, async (t) => {
  const dir = tmpDir()
  dirs.push(dir)
  const loc = path.join(dir, 'db')
  const rand = prng(SEED)

  let model = new Map() // verified state after the previous cycle
  const deleted = new Set()
  const readyTimes = []
  const reopenTimes = []
  const modeCycles = Object.fromEntries(MODES.map((m) => [m, 0]))
  const modeAcked = Object.fromEntries(MODES.map((m) => [m, 0]))
  const totals = { killsBeforeReady: 0, ackedUnits: 0, ackedOps: 0, inFlightRecovered: 0, lostAcked: 0, prefixViolations: 0, torn: 0, resurrected: 0, phantom: 0 }
  const problems = []

  for (let cycle = 0; cycle < CYCLES; cycle++) {
    const mode = MODES[cycle % MODES.length]
    modeCycles[mode]++
    const seed = (SEED + cycle * 7919) >>> 0
    const readyEstimate = readyTimes.length ? median(readyTimes) : 0
    const early = readyEstimate > 0 && rand() < 0.3
    const plan = early
      ? { afterReady: false, delay: (0.1 + rand() * 0.9) * readyEstimate }
      : { afterReady: true, delay: 5 + rand() * 250 }

    const run = await runWriter(loc, mode, seed, cycle, plan)
    const context = `cycle ${cycle} (${mode}, seed ${SEED})`
    assert.equal(run.signal, 'SIGKILL', `${context}: writer must die by SIGKILL, got code ${run.code} signal ${run.signal}\n${run.stderr}`)
    assert.ok(run.killed, `${context}: killed by the test`)
    if (run.readyAfter !== null) readyTimes.push(run.readyAfter)

    // Parse the protocol: 'ready', then 0, 1, 2, ... (complete lines only).
    const lines = run.stdout.split('\n').slice(0, -1)
    const sawReady = lines[0] === 'ready'
    if (!sawReady) {
      totals.killsBeforeReady++
      assert.deepEqual(lines, [], `${context}: no output expected before 'ready'`)
    }
    const acks = sawReady ? lines.slice(1) : []
    acks.forEach((line, i) => assert.equal(line, String(i), `${context}: acknowledgement #${i}`))
    const acked = acks.length

    // Reopen in this process and read everything back.
    const db = new Todb(loc, { writeBufferSize: WRITE_BUFFER_SIZE })
    const t0 = performance.now()
    try {
      await db.open()
    } catch (err) {
      assert.fail(`${context}: reopening after the kill failed: ${err.code} ${err.message} / ${err.cause && err.cause.code} ${err.cause && err.cause.message}`)
    }
    reopenTimes.push(performance.now() - t0)
    const actual = new Map(await db.iterator().all())

    // Units the child may have issued: all acknowledged ones plus the one in
    // flight (none at all if it never got to 'ready').
    const units = []
    const issued = sawReady ? acked + 1 : 0
    for (let i = 0; i < issued; i++) units.push(unit(mode, seed, cycle, i))
    const result = verifyCycle({ before: model, units, acked, actual, deleted })

    totals.ackedUnits += acked
    modeAcked[mode] += acked
    totals.ackedOps += result.ackedOps
    totals.lostAcked += result.lostAcked
    totals.torn += result.torn
    totals.resurrected += result.resurrected
    totals.phantom += result.phantom
    if (result.prefix < 0) totals.prefixViolations++
    if (result.prefix > acked) totals.inFlightRecovered++
    for (const p of result.problems) problems.push(`${context}: ${p}`)
    if (process.env.TODB_CRASH_VERBOSE) {
      t.diagnostic(`${context}: ${early ? 'early' : 'after ready'} kill at ${plan.delay.toFixed(0)} ms, ` +
        `ready=${sawReady} acked=${acked} recovered prefix=${result.prefix} keys=${actual.size}`)
    }

    // Continue from what was recovered.
    for (const k of result.touched) if (!actual.has(k)) deleted.add(k)
    for (const k of model.keys()) if (!actual.has(k)) deleted.add(k)
    for (const k of actual.keys()) deleted.delete(k)
    model = actual

    // Housekeeping, which also exercises range deletes and compaction: drop
    // the keys of the cycle before last; sometimes compact.
    if (cycle >= 2) {
      const gte = cyclePrefix(cycle - 2)
      const lt = gte.slice(0, -1) + ';'
      await db.clear({ gte, lt })
      for (const k of [...model.keys()]) {
        if (k >= gte && k < lt) {
          model.delete(k)
          deleted.add(k)
        }
      }
    }
    if (cycle % 7 === 6) await db.compactRange('c', 'e')
    await db.close()
  }

  // Final clean reopen: everything verified so far, housekeeping included.
  const db = new Todb(loc, { writeBufferSize: WRITE_BUFFER_SIZE })
  await db.open()
  const final = new Map(await db.iterator().all())
  await db.close()
  let finalDiffs = 0
  for (const k of new Set([...final.keys(), ...model.keys()])) {
    if (final.get(k) !== model.get(k)) {
      finalDiffs++
      if (finalDiffs <= 5) problems.push(`final reopen: ${k} is ${final.get(k)}, expected ${model.get(k)}`)
    }
  }

  const summary = `crash summary: seed=${SEED} cycles=${CYCLES} (` +
    MODES.map((m) => `${m} ${modeCycles[m]}`).join(', ') + `) ` +
    `acked units per mode (` + MODES.map((m) => `${m} ${modeAcked[m]}`).join(', ') + `) ` +
    `kills before ready=${totals.killsBeforeReady} acked units checked=${totals.ackedUnits} ` +
    `acked ops checked=${totals.ackedOps} in-flight unit recovered=${totals.inFlightRecovered} ` +
    `lost acked=${totals.lostAcked} prefix violations=${totals.prefixViolations} ` +
    `torn batches=${totals.torn} resurrected deletes=${totals.resurrected} phantom values=${totals.phantom} ` +
    `final diffs=${finalDiffs} reopen ms median=${median(reopenTimes).toFixed(1)} ` +
    `max=${Math.max(...reopenTimes).toFixed(1)} final keys=${final.size}`
  t.diagnostic(summary)
  for (const p of problems.slice(0, 20)) t.diagnostic(p)

  const detail = '\n' + problems.slice(0, 20).join('\n')
  assert.equal(totals.lostAcked, 0, 'lost acknowledged writes' + detail)
  assert.equal(totals.prefixViolations, 0, 'states that are no prefix of the issued writes' + detail)
  assert.equal(totals.torn, 0, 'torn batches' + detail)
  assert.equal(totals.resurrected, 0, 'resurrected deletes' + detail)
  assert.equal(totals.phantom, 0, 'phantom values' + detail)
  assert.equal(finalDiffs, 0, 'final state differs from the verified state' + detail)
  assert.ok(totals.ackedOps > 0, 'the writers got acknowledged writes in')
  if (CYCLES >= 20) {
    assert.ok(totals.killsBeforeReady >= 1, 'some kills landed before the writer was ready (during open/recovery)')
  }
})
