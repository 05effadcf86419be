'use strict'

// The `multithreading` open option (classic-level's): instances that open one location with it,
// in this thread or in worker threads, share one database; without it (or when instances mix it)
// a second open fails with LEVEL_DATABASE_NOT_OPEN, cause LEVEL_LOCKED. Closing one sharer leaves
// the others working, the last close frees the directory's lock, and a worker terminated in the
// middle of writing gives its share back without a close, keeping every write it had
// acknowledged. Modelled on classic-level's test/multithreading-test.js, plus the termination.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { Worker } = require('node:worker_threads')

const { Todb } = require('..')
const { tmpDir, rmDir } = require('./helpers/util.js')

const WORKER = path.join(__dirname, 'helpers', 'mt-worker.js')
const MT = { multithreading: true }

let root
let seq = 0
const workers = new Set()
before(() => { root = tmpDir() })
after(async () => {
  await Promise.all([...workers].map((w) => w.terminate()))
  if (root) rmDir(root)
})

function location () {
  return path.join(root, 'db' + seq++)
}

function key (prefix, i) {
  return prefix + String(i).padStart(6, '0')
}

// A worker running helpers/mt-worker.js: call(op, ...args) resolves with the command's result or
// rejects with an Error carrying the worker's code and cause; onAck(fn) hears writeLoop's acks.
function spawn () {
  const worker = new Worker(WORKER)
  workers.add(worker)
  worker.once('exit', () => workers.delete(worker))
  const waiting = new Map()
  const ackListeners = []
  let nextId = 0
  let failure = null
  const failAll = (err) => {
    failure = err
    for (const { reject } of waiting.values()) reject(err)
    waiting.clear()
  }
  worker.on('error', failAll)
  worker.on('exit', (code) => failAll(new Error(`worker exited (${code})`)))
  worker.on('message', (msg) => {
    if (msg.ack !== undefined) return ackListeners.forEach((fn) => fn(msg.ack))
    if (msg.loopError) return ackListeners.forEach((fn) => fn(null, msg.loopError))
    const { resolve, reject } = waiting.get(msg.id)
    waiting.delete(msg.id)
    if (!msg.error) return resolve(msg.result)
    const err = new Error(msg.error.message)
    err.code = msg.error.code
    if (msg.error.causeCode || msg.error.causeMessage) {
      err.cause = { code: msg.error.causeCode, message: msg.error.causeMessage }
    }
    reject(err)
  })
  return {
    worker,
    call (op, ...args) {
      if (failure) return Promise.reject(failure)
      const id = nextId++
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject })
        worker.postMessage({ id, op, args })
      })
    },
    onAck (fn) { ackListeners.push(fn) }
  }
}

function assertLocked (err) {
  assert.equal(err.code, 'LEVEL_DATABASE_NOT_OPEN')
  assert.ok(err.cause, 'error has a cause')
  assert.equal(err.cause.code, 'LEVEL_LOCKED')
  return true
}

// Opens `loc` without the option and closes it again: proves no instance holds its lock.
async function assertFree (loc) {
  const db = new Todb(loc)
  await db.open()
  await db.close()
}

test('instances in several worker threads share one database', { timeout: 60000 }, async () => {
  const loc = location()
  const N = 4
  const PER = 300
  const main = new Todb(loc)
  await main.open(MT)
  const threads = Array.from({ length: N }, spawn)
  assert.deepEqual(await Promise.all(threads.map((t) => t.call('open', loc, MT))), Array(N).fill('open'))

  // Each thread writes its own keys, at the same time as the others and the main thread.
  await Promise.all([
    ...threads.map((t, n) => t.call('write', `w${n}:`, PER)),
    main.batch(Array.from({ length: PER }, (_, i) => ({ type: 'put', key: key('main:', i), value: 'm' + i })))
  ])

  // Each reads everyone's keys, by key and by range.
  const everyKey = []
  const everyValue = []
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < PER; i += 37) {
      everyKey.push(key(`w${n}:`, i))
      everyValue.push(`w${n}::${i}`)
    }
  }
  for (const [n, t] of threads.entries()) {
    assert.deepEqual(await t.call('getMany', everyKey), everyValue, `thread ${n} reads every thread's keys`)
    assert.equal(await t.call('count', 'w', 'x'), N * PER)
    assert.equal(await t.call('count', 'main:', 'main;'), PER)
  }
  assert.equal(await main.get(key('w3:', PER - 1)), `w3::${PER - 1}`)
  assert.equal((await main.keys({ gte: 'w', lt: 'x' }).all()).length, N * PER)

  for (const t of threads) assert.equal(await t.call('close'), 'closed')
  // The threads' closes left the main thread's instance open.
  await main.put('after', 'workers closed')
  assert.equal(await main.get('after'), 'workers closed')
  await main.close()

  // The last close freed the lock; everything was kept.
  const fresh = new Todb(loc)
  await fresh.open()
  assert.equal((await fresh.keys({ gte: 'w', lt: 'x' }).all()).length, N * PER)
  assert.equal(await fresh.get('after'), 'workers closed')
  await fresh.close()
})

test('without the option a second open of the location fails with LEVEL_LOCKED', { timeout: 30000 }, async () => {
  const loc = location()
  const db = new Todb(loc)
  await db.open()
  await assert.rejects(new Todb(loc).open(), assertLocked)
  const t = spawn()
  await assert.rejects(t.call('open', loc, {}), assertLocked)
  await db.close()
  assert.equal(await t.call('open', loc, {}), 'open')
  await assert.rejects(db.open(), assertLocked)
  await t.call('close')
})

test('instances that mix the option fail with LEVEL_LOCKED, whichever opened first', { timeout: 30000 }, async () => {
  const loc = location()
  const shared = new Todb(loc)
  await shared.open(MT)
  await assert.rejects(new Todb(loc).open(), assertLocked)
  await assert.rejects(new Todb(loc).open({ multithreading: false }), assertLocked)
  const t = spawn()
  await assert.rejects(t.call('open', loc, {}), assertLocked)
  await shared.close()

  const plain = new Todb(loc)
  await plain.open()
  await assert.rejects(new Todb(loc).open(MT), assertLocked)
  await assert.rejects(t.call('open', loc, MT), assertLocked)
  await plain.close()
  await assertFree(loc)
})

test('two instances in one thread share too, and the lock is held until the last closes', { timeout: 30000 }, async () => {
  const loc = location()
  const a = new Todb(loc, MT)
  const b = new Todb(loc, MT)
  await a.open(MT)
  await b.open(MT)
  await a.put('k', 'from a')
  assert.equal(await b.get('k'), 'from a')
  assert.equal(b.getSync('k'), 'from a')

  await a.close()
  assert.equal(a.status, 'closed')
  assert.equal(b.status, 'open')
  await assert.rejects(a.get('k'), { code: 'LEVEL_DATABASE_NOT_OPEN' })
  await assert.rejects(new Todb(loc).open(), assertLocked)

  // a opens again, sharing b's database.
  await a.open(MT)
  await b.put('k2', 'from b')
  assert.equal(await a.get('k2'), 'from b')
  await b.close()
  await a.close()
  await assertFree(loc)
})

test("closing one instance leaves the others' iterators, snapshots and reads working", { timeout: 30000 }, async () => {
  const loc = location()
  const a = new Todb(loc, MT)
  const b = new Todb(loc, MT)
  await a.open(MT)
  await b.open(MT)
  await a.batch(Array.from({ length: 2000 }, (_, i) => ({ type: 'put', key: key('k', i), value: 'v'.repeat(100) })))

  const it = b.iterator({ highWaterMarkBytes: 1024 })
  const first = await it.nextv(10)
  assert.equal(first.length, 10)
  const snapshot = b.snapshot()
  const pendingRead = b.getMany([key('k', 0), key('k', 1999)])

  // The other instance's close is in the middle of all that.
  await a.close()
  assert.equal(a.status, 'closed')

  assert.deepEqual(await pendingRead, ['v'.repeat(100), 'v'.repeat(100)])
  await b.put(key('k', 0), 'changed')
  assert.equal(await b.get(key('k', 0), { snapshot }), 'v'.repeat(100), 'the snapshot still reads')
  assert.equal(await b.get(key('k', 0)), 'changed')
  let n = first.length
  for (let entries = await it.nextv(100); entries.length > 0; entries = await it.nextv(100)) n += entries.length
  assert.equal(n, 2000, 'the iterator read to the end')
  await it.close()
  await snapshot.close()

  // The same with the other instance in a worker, closing while this thread iterates.
  const t = spawn()
  await t.call('open', loc, MT)
  const it2 = b.iterator()
  await it2.next()
  await t.call('close')
  assert.equal((await it2.all()).length, 1999)
  await b.close()
  await assertFree(loc)
})

test('destroy() and repair() of a shared open location fail with LEVEL_LOCKED', { timeout: 30000 }, async () => {
  const loc = location()
  const db = new Todb(loc)
  await db.open(MT)
  const t = spawn()
  await t.call('open', loc, MT)
  await db.put('k', 'v')
  await db.close()
  // Still open in the worker.
  await assert.rejects(Todb.destroy(loc), { code: 'LEVEL_LOCKED' })
  await assert.rejects(Todb.repair(loc), { code: 'LEVEL_LOCKED' })
  await t.call('close')
  await Todb.repair(loc)
  const check = new Todb(loc)
  await check.open(MT)
  assert.equal(await check.get('k'), 'v')
  await check.close()
  await Todb.destroy(loc)
})

test('a later sharer: its tuning options are ignored and errorIfExists fails', { timeout: 30000 }, async () => {
  const loc = location()
  const first = new Todb(loc)
  await first.open({ ...MT, errorIfExists: true, writeBufferSize: 1 << 20 })
  const second = new Todb(loc)
  await assert.rejects(second.open({ ...MT, errorIfExists: true }), (err) => {
    assert.equal(err.code, 'LEVEL_DATABASE_NOT_OPEN')
    assert.match(err.cause.message, /exists \(error_if_exists is true\)/)
    return true
  })
  // createIfMissing: false is satisfied, and other tuning options are accepted and ignored.
  await second.open({ ...MT, createIfMissing: false, writeBufferSize: 64 << 20, compression: false })
  await second.put('k', 'v')
  assert.equal(await first.get('k'), 'v')
  await second.close()
  await first.close()
  await assertFree(loc)
})

test('spellings of one location share one database', { timeout: 30000 }, async () => {
  const loc = location()
  const a = new Todb(loc, MT)
  const b = new Todb(path.relative(process.cwd(), loc), MT)
  const c = new Todb(path.join(loc, '..', path.basename(loc)) + '/', MT)
  await a.open(MT)
  await b.open(MT)
  await c.open(MT)
  await c.put('k', 'from c')
  assert.equal(await a.get('k'), 'from c')
  assert.equal(await b.get('k'), 'from c')
  await Promise.all([a.close(), b.close(), c.close()])
  await assertFree(loc)
})

test('racing opens and closes in many threads all succeed, and the last close frees the lock', { timeout: 60000 }, async () => {
  const loc = location()
  const N = 8
  const ROUNDS = 10
  const threads = Array.from({ length: N }, spawn)
  // No instance holds the database across the race: it is opened and closed over and over.
  const rounds = await Promise.all(threads.map((t, n) => t.call('cycle', loc, MT, ROUNDS, `t${n}-`)))
  assert.deepEqual(rounds, Array(N).fill(ROUNDS))
  const db = new Todb(loc)
  await db.open()
  assert.equal((await db.keys().all()).length, N * ROUNDS)
  await db.close()
})

// Resolves once `t` has acknowledged at least `count` writes; `acked` collects their keys.
function acknowledged (t, acked, count) {
  return new Promise((resolve, reject) => {
    t.onAck((key, err) => {
      if (err) return reject(Object.assign(new Error(err.message), err))
      acked.add(key)
      if (acked.size === count) resolve()
    })
  })
}

test('a worker terminated mid-write gives its share back and keeps its acknowledged writes', { timeout: 60000 }, async () => {
  const loc = location()
  const main = new Todb(loc)
  await main.open(MT)
  const t = spawn()
  await t.call('open', loc, MT)
  const acked = new Set()
  const enough = acknowledged(t, acked, 500)
  assert.equal(await t.call('writeLoop', 'w', 8), 'started')
  await enough
  // Writes are in flight (on this thread and on the pool) when the worker is stopped.
  assert.equal(await t.worker.terminate(), 1)
  const kept = [...acked]

  // The main thread's instance is unaffected.
  await main.put('main', 'still here')
  assert.equal(await main.get('main'), 'still here')
  const some = kept.slice(0, 10)
  assert.deepEqual(await main.getMany(some), some.map((k) => 'v' + Number(k.split('-')[1])))
  await main.close()

  // Its close was the last: the lock is free, and every acknowledged write is there.
  const fresh = new Todb(loc)
  await fresh.open()
  const values = await fresh.getMany(kept)
  const missing = kept.filter((k, i) => values[i] === undefined)
  assert.deepEqual(missing, [], 'no acknowledged write is lost')
  assert.equal(await fresh.get('main'), 'still here')
  await fresh.close()
})

test('a terminated worker that held the last share closes the database', { timeout: 60000 }, async () => {
  const loc = location()
  const t = spawn()
  await t.call('open', loc, MT)
  const acked = new Set()
  const enough = acknowledged(t, acked, 200)
  await t.call('writeLoop', 'w', 4)
  await enough
  await t.worker.terminate()
  const kept = [...acked]

  const fresh = new Todb(loc)
  await fresh.open()
  const values = await fresh.getMany(kept)
  assert.deepEqual(kept.filter((k, i) => values[i] === undefined), [])
  await fresh.close()
})
