'use strict'

// Operations answered from memory settle at once; a loop awaiting them must still let the event
// loop turn (lib/pace.js), or timers and I/O would wait for the whole loop. These tests check the
// order of events, not durations: a timer and an immediate scheduled before a long loop of
// awaited writes, reads and iterator steps fire while the loop is still running.

const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Todb } = require('..')

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'todb-loop-'))
after(() => fs.rmSync(root, { recursive: true, force: true }))

const N = 30000
const key = (i) => String(i).padStart(8, '0')

async function firesDuring (loop) {
  let immediate = -1
  let timer = -1
  let step = 0
  setImmediate(() => { immediate = step })
  setTimeout(() => { timer = step }, 1)
  await loop(() => step++)
  return { immediate, timer, steps: step }
}

test('awaited puts, gets and iterator steps let timers and immediates run mid-loop', async () => {
  const db = new Todb(path.join(root, 'db'))
  await db.open()
  const puts = await firesDuring(async (tick) => { for (let i = 0; i < N; i++) { await db.put(key(i), 'v'); tick() } })
  const gets = await firesDuring(async (tick) => { for (let i = 0; i < N; i++) { await db.get(key(i)); tick() } })
  const iterates = await firesDuring(async (tick) => { for await (const entry of db.iterator()) { assert.ok(entry); tick() } })
  for (const [name, r] of Object.entries({ puts, gets, iterates })) {
    assert.equal(r.steps, N, `${name}: every step ran`)
    assert.ok(r.immediate >= 0 && r.immediate < N, `${name}: the immediate fired during the loop (at step ${r.immediate})`)
    assert.ok(r.timer >= 0 && r.timer < N, `${name}: the timer fired during the loop (at step ${r.timer})`)
  }
  await db.close()
})
