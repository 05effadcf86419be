'use strict'

// Gets made in one tick are answered together by one native call that helper threads share
// (index.js #flushReads, src/binding/crew.rs). Each must still get its own key's value, in its
// own encoding, whatever else the batch holds: missing keys, values too big for the scratch
// Buffer, more gets than one call takes, and writes made before or after it in the same tick.
// Callers that await one get at a time are answered at once, without gathering; callers with
// gets in flight together must stay in step and keep being answered in batches.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')

const { Todb } = require('..')
const { tmpDir, rmDir } = require('./helpers/util.js')

let root
let db
const key = (i) => `k${String(i).padStart(6, '0')}`
const value = (i) => `value of ${i} `.repeat(1 + (i % 7))
const N = 5000

before(async () => {
  root = tmpDir()
  db = new Todb(`${root}/db`, { writeBufferSize: 64 * 1024 })
  await db.open()
  for (let b = 0; b < N; b += 500) {
    const ops = []
    for (let i = b; i < b + 500; i++) ops.push({ type: 'put', key: key(i), value: value(i) })
    await db.batch(ops)
  }
  // Most entries now sit in tables on disk, some in the memtable.
  await db.compactRange(key(0), key(N))
  await db.put(key(N + 1), value(N + 1))
})

after(async () => {
  await db.close()
  rmDir(root)
})

test('a tick of gets: each answer is its own key, present or missing, in its own encoding', async () => {
  const wanted = []
  for (let i = 0; i < 1000; i++) wanted.push((i * 7919) % (N + 2))
  const answers = await Promise.all(wanted.map((i, n) => db.get(key(i), { valueEncoding: n % 3 === 0 ? 'buffer' : 'utf8' })))
  wanted.forEach((i, n) => {
    const expected = i === N ? undefined : value(i)
    const got = answers[n]
    if (expected === undefined) assert.equal(got, undefined, `key ${i} is missing`)
    else if (n % 3 === 0) assert.ok(Buffer.isBuffer(got) && got.toString() === expected, `key ${i} as a Buffer`)
    else assert.equal(got, expected, `key ${i} as a string`)
  })
})

test('values too big for the scratch Buffer, between small ones, are read one by one', async () => {
  const big = (c) => c.repeat(50 * 1024)
  await db.batch([{ type: 'put', key: 'big1', value: big('a') }, { type: 'put', key: 'big2', value: big('b') }])
  const answers = await Promise.all(['big1', key(1), 'big2', key(2), 'big1'].map((k) => db.get(k)))
  assert.deepEqual(answers, [big('a'), value(1), big('b'), value(2), big('a')])
})

test('a get sees the writes made before it in the same tick, and not those made after', async () => {
  const before = db.get('order')
  const put = db.put('order', 'new')
  const afterPut = db.get('order')
  const del = db.del('order')
  const afterDel = db.get('order')
  assert.deepEqual(await Promise.all([before, put, afterPut, del, afterDel]), [undefined, undefined, 'new', undefined, undefined])
})

test('gets on a closed database fail with LEVEL_DATABASE_NOT_OPEN, as a group', async () => {
  const other = new Todb(`${root}/closing`)
  await other.open()
  await other.put('a', '1')
  const pending = [other.get('a'), other.get('b')]
  const closing = other.close()
  assert.deepEqual(await Promise.all(pending), ['1', undefined], 'gets made before close() are answered')
  await closing
  await assert.rejects(other.get('a'), { code: 'LEVEL_DATABASE_NOT_OPEN' })
})

function nativeOf (db) {
  return db[Object.getOwnPropertySymbols(db).find((s) => s.description === 'native')]
}

// Microtask passes (turns of an `await null` loop) until `promise` settles, up to `limit`: a
// promise that waits for the event loop (a read sent to the pool) never settles inside such a
// loop, which starves the event loop, so the count stops there instead of spinning for ever.
async function passesUntil (promise, limit = 1000) {
  let done = false
  promise.then(() => { done = true }, () => { done = true })
  let passes = 0
  while (!done && passes < limit) {
    passes++
    await null
  }
  return passes
}

test('64 callers awaiting gets in a loop stay in step, answered in batches', async () => {
  const native = nativeOf(db)
  const getBatch = native.getBatch
  let calls = 0
  let batched = 0
  native.getBatch = function (data, layout, count, fillCache) {
    calls++
    batched += count
    return getBatch.call(this, data, layout, count, fillCache)
  }
  try {
    let next = 0
    const total = 64 * 3000
    const worker = async () => {
      while (next < total) {
        const i = (next++ * 7919) % N
        assert.equal(await db.get(key(i)), value(i))
      }
    }
    await Promise.all(Array.from({ length: 64 }, worker))
    assert.ok(batched >= total * 0.9, `gets answered in batches: ${batched} of ${total}`)
    assert.ok(calls <= total / 32, `batches: ${calls}`)
  } finally {
    native.getBatch = getBatch
  }
})

test('a get made alone is answered without waiting for others to gather', async () => {
  // Warm up: a batch, then lone gets (the first lone get after a batch gathers to learn that
  // gets now come one at a time). The batch reads key 4 too, so that the get measured finds
  // its table open and its block cached, and needs no thread hop.
  await Promise.all([db.get(key(4)), db.get(key(2))])
  await db.get(key(3))
  // One get in 32 may be the one that lets the event loop turn (lib/pace.js) and settles only
  // after it: the median of nine lone gets is the one to judge.
  const passes = []
  for (let i = 0; i < 9; i++) {
    const got = db.get(key(4))
    passes.push(await passesUntil(got))
    assert.equal(await got, value(4))
  }
  const median = passes.sort((a, b) => a - b)[4]
  assert.ok(median <= 4, `settled after ${passes} microtask passes`)
})
