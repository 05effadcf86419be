'use strict'

// leveldown/levelup-style Node callbacks, accepted by every async method as
// an optional trailing argument. With a callback a method returns undefined,
// calls back asynchronously exactly once, and delivers errors to the callback
// (never throws, never leaves an unhandled rejection).
//
// viaCallback() (helpers/util.js) enforces those four rules on every call
// below: it rejects if the method throws, returns something other than
// undefined, calls back synchronously, or calls back twice.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const { Todb } = require('..')
const { tmpDir, rmDir, viaCallback: cb, pad } = require('./helpers/util.js')

const unhandled = []
const onUnhandled = (reason) => { unhandled.push(reason) }
process.on('unhandledRejection', onUnhandled)

let root
let seq = 0
const opened = []
before(() => { root = tmpDir() })
after(async () => {
  process.removeListener('unhandledRejection', onUnhandled)
  for (const db of opened) if (db.status === 'open') await db.close()
  if (root) rmDir(root)
})

function location () {
  return path.join(root, 'db' + seq++)
}

async function openDb (options) {
  const db = new Todb(location(), options)
  opened.push(db)
  await db.open()
  return db
}

function assertOk (args) {
  assert.ok(args[0] === null || args[0] === undefined, `expected no error, got ${args[0] && args[0].stack}`)
}

function assertError (args, code) {
  assert.ok(args[0] instanceof Error, `expected an Error, got ${args[0]}`)
  assert.equal(args[0].code, code, `error code (message: ${args[0].message})`)
  return args[0]
}

async function ticks () {
  // Let pending rejections surface as 'unhandledRejection'.
  await new Promise((resolve) => setImmediate(resolve))
  await new Promise((resolve) => setTimeout(resolve, 20))
  await new Promise((resolve) => setImmediate(resolve))
}

test('constructor callback: called with (err, db) once the database is open', async () => {
  let instance
  const args = await cb((done) => { instance = new Todb(location(), done) })
  opened.push(instance)
  assertOk(args)
  assert.equal(args[1], instance, 'second argument is the database')
  assert.equal(instance.status, 'open', 'open when the callback runs')
  await instance.put('a', '1')
  assert.equal(await instance.get('a'), '1')

  let withOptions
  const args2 = await cb((done) => { withOptions = new Todb(location(), { valueEncoding: 'json' }, done) })
  opened.push(withOptions)
  assertOk(args2)
  assert.equal(args2[1], withOptions)
  assert.equal(withOptions.status, 'open')
  await withOptions.put('obj', { nested: [1, 2] })
  assert.deepEqual(await withOptions.get('obj'), { nested: [1, 2] }, 'options are honoured')
})

test('constructor callback receives open errors (missing directory, locked directory)', async () => {
  let missing
  const args = await cb((done) => { missing = new Todb(location(), { createIfMissing: false }, done) })
  assertError(args, 'LEVEL_DATABASE_NOT_OPEN')
  assert.equal(missing.status, 'closed')

  const holder = await openDb()
  let second
  const args2 = await cb((done) => { second = new Todb(holder.location, done) })
  const err = assertError(args2, 'LEVEL_DATABASE_NOT_OPEN')
  assert.equal(err.cause && err.cause.code, 'LEVEL_LOCKED')
  assert.equal(second.status, 'closed')
  await ticks()
  assert.deepEqual(unhandled, [])
})

test('open(cb), open(options, cb), close(cb)', async () => {
  const db = new Todb(location())
  opened.push(db)
  assertOk(await cb((done) => db.open(done)))
  assert.equal(db.status, 'open')
  assertOk(await cb((done) => db.open(done))) // already open: still calls back
  assertOk(await cb((done) => db.close(done)))
  assert.equal(db.status, 'closed')
  assertOk(await cb((done) => db.close(done))) // already closed: fine
  assertOk(await cb((done) => db.open({ createIfMissing: false }, done)))
  assert.equal(db.status, 'open')

  const locked = new Todb(db.location)
  const err = assertError(await cb((done) => locked.open(done)), 'LEVEL_DATABASE_NOT_OPEN')
  assert.equal(err.cause && err.cause.code, 'LEVEL_LOCKED')

  const missing = new Todb(location())
  assertError(await cb((done) => missing.open({ createIfMissing: false }, done)), 'LEVEL_DATABASE_NOT_OPEN')
  assertOk(await cb((done) => db.close(done)))
})

test('put, get, del with callbacks (with and without options)', async () => {
  const db = await openDb()
  assertOk(await cb((done) => db.put('a', 'apple', done)))
  assertOk(await cb((done) => db.put('b', 'banana', { sync: true }, done)))
  assert.equal(await db.get('a'), 'apple', 'put(cb) wrote')
  assert.equal(await db.get('b'), 'banana', 'put(options, cb) wrote')

  let args = await cb((done) => db.get('a', done))
  assertOk(args)
  assert.equal(args[1], 'apple')
  args = await cb((done) => db.get('b', { valueEncoding: 'buffer' }, done))
  assertOk(args)
  assert.ok(Buffer.isBuffer(args[1]), 'valueEncoding option is honoured')
  assert.equal(args[1].toString(), 'banana')

  assertOk(await cb((done) => db.del('a', done)))
  assertOk(await cb((done) => db.del('b', { sync: true }, done)))
  assertOk(await cb((done) => db.del('never-existed', done)))
  assert.equal(await db.get('a'), undefined)
  assert.equal(await db.get('b'), undefined)
})

test('get of a missing key: callback gets a LEVEL_NOT_FOUND error; the promise resolves undefined', async () => {
  const db = await openDb()
  await db.put('present', 'x')
  const args = await cb((done) => db.get('missing', done))
  const err = assertError(args, 'LEVEL_NOT_FOUND')
  assert.equal(err.notFound, true)
  assert.equal(err.status, 404)
  assert.equal(args[1], undefined, 'no value')

  const args2 = await cb((done) => db.get('missing', { valueEncoding: 'buffer' }, done))
  assertError(args2, 'LEVEL_NOT_FOUND')

  const promise = db.get('missing')
  assert.ok(promise instanceof Promise, 'without a callback get() returns a promise')
  assert.equal(await promise, undefined)
  // A deleted key is missing too
  await db.del('present')
  const args3 = await cb((done) => db.get('present', done))
  assert.equal(assertError(args3, 'LEVEL_NOT_FOUND').notFound, true)
})

test('getMany, has, hasMany with callbacks', async () => {
  const db = await openDb()
  await db.batch([{ type: 'put', key: 'a', value: '1' }, { type: 'put', key: 'c', value: '3' }])

  let args = await cb((done) => db.getMany(['a', 'b', 'c'], done))
  assertOk(args)
  assert.deepEqual(args[1], ['1', undefined, '3'])
  args = await cb((done) => db.getMany(['c', 'a'], { valueEncoding: 'buffer' }, done))
  assertOk(args)
  assert.deepEqual(args[1], [Buffer.from('3'), Buffer.from('1')])
  args = await cb((done) => db.getMany([], done))
  assertOk(args)
  assert.deepEqual(args[1], [])

  args = await cb((done) => db.has('a', done))
  assertOk(args)
  assert.equal(args[1], true)
  args = await cb((done) => db.has('b', done))
  assertOk(args)
  assert.equal(args[1], false)
  args = await cb((done) => db.has('c', {}, done))
  assertOk(args)
  assert.equal(args[1], true)

  args = await cb((done) => db.hasMany(['a', 'b', 'c'], done))
  assertOk(args)
  assert.deepEqual(args[1], [true, false, true])
  args = await cb((done) => db.hasMany(['b'], {}, done))
  assertOk(args)
  assert.deepEqual(args[1], [false])
})

test('batch(ops, cb) and batch(ops, options, cb)', async () => {
  const db = await openDb()
  assertOk(await cb((done) => db.batch([
    { type: 'put', key: 'a', value: '1' },
    { type: 'put', key: 'b', value: '2' },
    { type: 'put', key: 'c', value: '3' }
  ], done)))
  assertOk(await cb((done) => db.batch([
    { type: 'del', key: 'b' },
    { type: 'put', key: 'd', value: '4' }
  ], { sync: true }, done)))
  assert.deepEqual(await db.iterator().all(), [['a', '1'], ['c', '3'], ['d', '4']])

  // Invalid operation: error to the callback, nothing applied.
  const args = await cb((done) => db.batch([
    { type: 'put', key: 'e', value: '5' },
    { type: 'put', key: null, value: 'x' }
  ], done))
  assertError(args, 'LEVEL_INVALID_KEY')
  assert.equal(await db.get('e'), undefined, 'a failed batch applies nothing')
})

test('chained batch: write(cb), write(options, cb), close(cb)', async () => {
  const db = await openDb()
  const batch = db.batch()
  batch.put('a', '1').put('b', '2').del('a')
  assertOk(await cb((done) => batch.write(done)))
  assert.deepEqual(await db.iterator().all(), [['b', '2']])

  // Writing again: the batch is no longer open.
  assertError(await cb((done) => batch.write(done)), 'LEVEL_BATCH_NOT_OPEN')

  const batch2 = db.batch()
  batch2.put('c', '3').del('b')
  assertOk(await cb((done) => batch2.write({ sync: true }, done)))
  assert.deepEqual(await db.iterator().all(), [['c', '3']])

  const batch3 = db.batch()
  batch3.put('discarded', 'x')
  assertOk(await cb((done) => batch3.close(done)))
  assert.equal(await db.get('discarded'), undefined, 'closed batch was not written')
  assertError(await cb((done) => batch3.write(done)), 'LEVEL_BATCH_NOT_OPEN')
  assertOk(await cb((done) => batch3.close(done))) // closing twice is fine
})

test('clear(cb) and clear(options, cb)', async () => {
  const db = await openDb()
  const ops = []
  for (let i = 0; i < 20; i++) ops.push({ type: 'put', key: 'k' + pad(i, 2), value: String(i) })
  await db.batch(ops)
  assertOk(await cb((done) => db.clear({ gte: 'k05', lt: 'k15' }, done)))
  assert.deepEqual(await db.keys().all(), ['k00', 'k01', 'k02', 'k03', 'k04', 'k15', 'k16', 'k17', 'k18', 'k19'])
  assertOk(await cb((done) => db.clear({ reverse: true, limit: 2 }, done)))
  assert.deepEqual(await db.keys().all(), ['k00', 'k01', 'k02', 'k03', 'k04', 'k15', 'k16', 'k17'])
  assertOk(await cb((done) => db.clear(done)))
  assert.deepEqual(await db.keys().all(), [])
})

test('iterator.next(cb) calls back (err, key, value), with both undefined at the end', async () => {
  const db = await openDb()
  await db.batch([
    { type: 'put', key: 'a', value: 'A' },
    { type: 'put', key: 'b', value: 'B' },
    { type: 'put', key: 'c', value: 'C' }
  ])
  const it = db.iterator()
  const seen = []
  for (let i = 0; i < 10; i++) {
    const args = await cb((done) => it.next(done))
    assertOk(args)
    if (args[1] === undefined) {
      assert.equal(args[2], undefined, 'value is undefined at the end')
      break
    }
    seen.push([args[1], args[2]])
  }
  assert.deepEqual(seen, [['a', 'A'], ['b', 'B'], ['c', 'C']])
  // Still at the end
  const end = await cb((done) => it.next(done))
  assertOk(end)
  assert.equal(end[1], undefined)
  assert.equal(end[2], undefined)
  assertOk(await cb((done) => it.close(done)))
  assertError(await cb((done) => it.next(done)), 'LEVEL_ITERATOR_NOT_OPEN')
  assertOk(await cb((done) => it.close(done))) // closing twice is fine

  // Options and seek
  const rev = db.iterator({ reverse: true, lt: 'c', valueEncoding: 'buffer' })
  let args = await cb((done) => rev.next(done))
  assertOk(args)
  assert.equal(args[1], 'b')
  assert.deepEqual(args[2], Buffer.from('B'))
  rev.seek('a')
  args = await cb((done) => rev.next(done))
  assertOk(args)
  assert.deepEqual([args[1], args[2].toString()], ['a', 'A'])
  assertOk(await cb((done) => rev.close(done)))
})

test('key and value iterators call back (err, key) and (err, value)', async () => {
  const db = await openDb()
  await db.batch([{ type: 'put', key: 'a', value: 'A' }, { type: 'put', key: 'b', value: 'B' }])

  const keys = db.keys()
  let args = await cb((done) => keys.next(done))
  assertOk(args)
  assert.equal(args[1], 'a')
  assert.equal(args[2], undefined, 'no value argument')
  args = await cb((done) => keys.next(done))
  assert.equal(args[1], 'b')
  args = await cb((done) => keys.next(done))
  assertOk(args)
  assert.equal(args[1], undefined, 'undefined key at the end')
  assertOk(await cb((done) => keys.close(done)))

  const values = db.values({ reverse: true })
  args = await cb((done) => values.next(done))
  assertOk(args)
  assert.equal(args[1], 'B')
  assert.equal(args[2], undefined)
  args = await cb((done) => values.next(done))
  assert.equal(args[1], 'A')
  args = await cb((done) => values.next(done))
  assertOk(args)
  assert.equal(args[1], undefined, 'undefined value at the end')
  assertOk(await cb((done) => values.close(done)))
})

test('iterator nextv(size, cb), nextv(size, options, cb), all(cb), all(options, cb)', async () => {
  const db = await openDb()
  const ops = []
  for (let i = 0; i < 10; i++) ops.push({ type: 'put', key: 'k' + i, value: 'v' + i })
  await db.batch(ops)

  const it = db.iterator()
  let args = await cb((done) => it.nextv(3, done))
  assertOk(args)
  assert.deepEqual(args[1], [['k0', 'v0'], ['k1', 'v1'], ['k2', 'v2']])
  args = await cb((done) => it.nextv(2, {}, done))
  assertOk(args)
  assert.deepEqual(args[1], [['k3', 'v3'], ['k4', 'v4']])
  args = await cb((done) => it.all(done))
  assertOk(args)
  assert.deepEqual(args[1], [['k5', 'v5'], ['k6', 'v6'], ['k7', 'v7'], ['k8', 'v8'], ['k9', 'v9']])
  // all() closes the iterator
  assertError(await cb((done) => it.nextv(1, done)), 'LEVEL_ITERATOR_NOT_OPEN')

  const it2 = db.iterator({ gte: 'k8' })
  args = await cb((done) => it2.nextv(5, done))
  assertOk(args)
  assert.deepEqual(args[1], [['k8', 'v8'], ['k9', 'v9']])
  args = await cb((done) => it2.nextv(5, done))
  assertOk(args)
  assert.deepEqual(args[1], [], 'empty array at the end')
  assertOk(await cb((done) => it2.close(done)))

  args = await cb((done) => db.keys({ limit: 3 }).all({}, done))
  assertOk(args)
  assert.deepEqual(args[1], ['k0', 'k1', 'k2'])
  args = await cb((done) => db.values({ reverse: true }).nextv(2, done))
  assertOk(args)
  assert.deepEqual(args[1], ['v9', 'v8'])
  args = await cb((done) => db.iterator({ gt: 'k9' }).all(done))
  assertOk(args)
  assert.deepEqual(args[1], [])
})

test('iterator callbacks are asynchronous even when entries are already buffered', async () => {
  const db = await openDb()
  const ops = []
  for (let i = 0; i < 200; i++) ops.push({ type: 'put', key: 'k' + pad(i, 3), value: 'v' })
  await db.batch(ops)
  const it = db.iterator()
  for (let i = 0; i < 200; i++) {
    const args = await cb((done) => it.next(done)) // rejects if called back synchronously
    assertOk(args)
    assert.equal(args[1], 'k' + pad(i, 3))
  }
  await it.close()
})

test('operations deferred until open take callbacks', async () => {
  const first = await openDb()
  await first.put('existing', 'before')
  await first.close()

  const db = new Todb(first.location)
  opened.push(db)
  assert.equal(db.status, 'opening')
  const get = cb((done) => db.get('existing', done))
  const next = cb((done) => db.iterator().next(done))
  const put = cb((done) => db.put('new', 'after', done))
  const missing = cb((done) => db.get('missing', done))
  const got = await get
  assertOk(got)
  assert.equal(got[1], 'before')
  const entry = await next
  assertOk(entry)
  assert.deepEqual([entry[1], entry[2]], ['existing', 'before'])
  assertOk(await put)
  assert.equal(await db.get('new'), 'after')
  assertError(await missing, 'LEVEL_NOT_FOUND')
})

test('approximateSize and compactRange with callbacks', async () => {
  const db = await openDb()
  const ops = []
  for (let i = 0; i < 3000; i++) ops.push({ type: 'put', key: 'k' + pad(i, 5), value: 'x'.repeat(100) + i })
  for (let i = 0; i < ops.length; i += 500) await db.batch(ops.slice(i, i + 500))

  assertOk(await cb((done) => db.compactRange('k', 'l', done)))
  assertOk(await cb((done) => db.compactRange('k', 'l', {}, done)))
  let args = await cb((done) => db.approximateSize('k', 'l', done))
  assertOk(args)
  assert.equal(typeof args[1], 'number')
  // After compaction the ~300 KB of data lives in table files.
  assert.ok(args[1] > 10000, `approximateSize after compactRange is ${args[1]}`)
  const whole = args[1]
  args = await cb((done) => db.approximateSize('k', 'l', { keyEncoding: 'utf8' }, done))
  assertOk(args)
  assert.equal(args[1], whole)
  args = await cb((done) => db.approximateSize('x', 'y', done))
  assertOk(args)
  assert.ok(args[1] < whole, 'an empty range is smaller')

  await db.close()
  assertError(await cb((done) => db.approximateSize('k', 'l', done)), 'LEVEL_DATABASE_NOT_OPEN')
  assertError(await cb((done) => db.compactRange('k', 'l', done)), 'LEVEL_DATABASE_NOT_OPEN')
})

test('Todb.destroy(location, cb) and Todb.repair(location, cb)', async () => {
  const db = await openDb()
  await db.put('a', '1')
  await db.put('b', '2')
  const loc = db.location

  // Destroying an open (locked) database fails, through the callback.
  const locked = await cb((done) => Todb.destroy(loc, done))
  assert.ok(locked[0] instanceof Error, 'destroy of an open database fails')
  assert.equal(locked[0].code, 'LEVEL_LOCKED')
  await db.close()

  assertOk(await cb((done) => Todb.repair(loc, done)))
  const repaired = new Todb(loc)
  await repaired.open()
  assert.deepEqual(await repaired.iterator().all(), [['a', '1'], ['b', '2']], 'data intact after repair')
  await repaired.close()

  assertOk(await cb((done) => Todb.destroy(loc, done)))
  assert.equal(fs.existsSync(path.join(loc, 'CURRENT')), false, 'database files removed')
  const gone = new Todb(loc, { createIfMissing: false })
  await assert.rejects(gone.open(), { code: 'LEVEL_DATABASE_NOT_OPEN' })

  // Destroying something that does not exist is not an error.
  assertOk(await cb((done) => Todb.destroy(path.join(root, 'never-created'), done)))
})

test('errors are delivered to callbacks: invalid keys and values', async () => {
  const db = await openDb()
  assertError(await cb((done) => db.put(null, 'x', done)), 'LEVEL_INVALID_KEY')
  assertError(await cb((done) => db.put(undefined, 'x', {}, done)), 'LEVEL_INVALID_KEY')
  assertError(await cb((done) => db.put('k', null, done)), 'LEVEL_INVALID_VALUE')
  assertError(await cb((done) => db.get(null, done)), 'LEVEL_INVALID_KEY')
  assertError(await cb((done) => db.del(null, done)), 'LEVEL_INVALID_KEY')
  assertError(await cb((done) => db.has(null, done)), 'LEVEL_INVALID_KEY')
  assertError(await cb((done) => db.getMany([null], done)), 'LEVEL_INVALID_KEY')
  const notArray = await cb((done) => db.getMany('nope', done))
  assert.ok(notArray[0] instanceof Error, 'getMany with a non-array fails')
  assert.equal(await db.get('k'), undefined)
  await ticks()
  assert.deepEqual(unhandled, [])
})

test('errors are delivered to callbacks: operations after close give LEVEL_DATABASE_NOT_OPEN', async () => {
  const db = await openDb()
  await db.put('a', '1')
  const it = db.iterator()
  const batch = db.batch().put('b', '2')
  await db.close()

  const code = 'LEVEL_DATABASE_NOT_OPEN'
  assertError(await cb((done) => db.put('a', '2', done)), code)
  assertError(await cb((done) => db.get('a', done)), code)
  assertError(await cb((done) => db.getMany(['a'], done)), code)
  assertError(await cb((done) => db.has('a', done)), code)
  assertError(await cb((done) => db.hasMany(['a'], done)), code)
  assertError(await cb((done) => db.del('a', done)), code)
  assertError(await cb((done) => db.batch([{ type: 'put', key: 'a', value: '3' }], done)), code)
  assertError(await cb((done) => db.clear(done)), code)
  // Iterators and chained batches were closed along with the database.
  assertError(await cb((done) => it.next(done)), 'LEVEL_ITERATOR_NOT_OPEN')
  const writeArgs = await cb((done) => batch.write(done))
  assert.ok(writeArgs[0] instanceof Error, 'writing a batch of a closed database fails')
  assertOk(await cb((done) => db.close(done)))

  await db.open()
  assert.equal(await db.get('a'), '1')
  assert.equal(await db.get('b'), undefined)
  await ticks()
  assert.deepEqual(unhandled, [])
})

test('snapshots can be used with callback reads', async () => {
  const db = await openDb()
  await db.put('k', 'old')
  const snapshot = db.snapshot()
  await db.put('k', 'new')
  let args = await cb((done) => db.get('k', { snapshot }, done))
  assertOk(args)
  assert.equal(args[1], 'old')
  args = await cb((done) => db.iterator({ snapshot }).all(done))
  assertOk(args)
  assert.deepEqual(args[1], [['k', 'old']])
  args = await cb((done) => db.get('k', done))
  assert.equal(args[1], 'new')
  await snapshot.close()
})

test('sublevels take callbacks', async () => {
  const db = await openDb()
  await db.put('outside', 'o')
  const sub = db.sublevel('sub', { valueEncoding: 'json' })

  assertOk(await cb((done) => sub.put('a', { n: 1 }, done)))
  assertOk(await cb((done) => sub.put('b', { n: 2 }, {}, done)))
  assert.equal(await db.get('!sub!a'), '{"n":1}', 'stored under the prefix')

  let args = await cb((done) => sub.get('a', done))
  assertOk(args)
  assert.deepEqual(args[1], { n: 1 })
  const notFound = assertError(await cb((done) => sub.get('zzz', done)), 'LEVEL_NOT_FOUND')
  assert.equal(notFound.notFound, true)
  assert.equal(notFound.status, 404)
  args = await cb((done) => sub.getMany(['a', 'zzz', 'b'], done))
  assertOk(args)
  assert.deepEqual(args[1], [{ n: 1 }, undefined, { n: 2 }])
  args = await cb((done) => sub.has('b', done))
  assert.equal(args[1], true)
  args = await cb((done) => sub.hasMany(['a', 'outside'], done))
  assert.deepEqual(args[1], [true, false])

  assertOk(await cb((done) => sub.batch([
    { type: 'put', key: 'c', value: { n: 3 } },
    { type: 'del', key: 'a' }
  ], done)))
  const chained = sub.batch().put('d', { n: 4 })
  assertOk(await cb((done) => chained.write(done)))

  const it = sub.iterator()
  args = await cb((done) => it.next(done))
  assertOk(args)
  assert.equal(args[1], 'b', 'keys come back without the prefix')
  assert.deepEqual(args[2], { n: 2 })
  args = await cb((done) => it.all(done))
  assertOk(args)
  assert.deepEqual(args[1], [['c', { n: 3 }], ['d', { n: 4 }]])
  args = await cb((done) => sub.keys().all(done))
  assert.deepEqual(args[1], ['b', 'c', 'd'])

  assertOk(await cb((done) => sub.del('b', done)))
  const inner = sub.sublevel('inner')
  assertOk(await cb((done) => inner.put('x', 'y', done)))
  args = await cb((done) => inner.get('x', done))
  assert.equal(args[1], 'y')
  assert.equal(await db.get('!sub!!inner!x'), 'y')

  assertOk(await cb((done) => sub.clear(done)))
  assert.deepEqual(await db.iterator().all(), [['outside', 'o']], 'clear() on the sublevel leaves other keys')
})

test('without a callback the methods still return promises', async () => {
  const db = await openDb()
  const put = db.put('a', '1')
  assert.ok(put instanceof Promise)
  assert.equal(await put, undefined)
  const get = db.get('a')
  assert.ok(get instanceof Promise)
  assert.equal(await get, '1')
  const it = db.iterator()
  const next = it.next()
  assert.ok(next instanceof Promise)
  assert.deepEqual(await next, ['a', '1'])
  await it.close()
  const close = db.close()
  assert.ok(close instanceof Promise)
  await close
})

test('a burst of failing callback calls leaves no unhandled rejection', async () => {
  const db = await openDb()
  const closed = await openDb()
  await closed.close()
  const results = await Promise.all([
    cb((done) => db.put(null, 'x', done)),
    cb((done) => db.get('missing', done)),
    cb((done) => db.get(undefined, done)),
    cb((done) => db.batch([{ type: 'del', key: null }], done)),
    cb((done) => closed.get('a', done)),
    cb((done) => closed.put('a', 'b', done)),
    cb((done) => closed.approximateSize('a', 'b', done)),
    cb((done) => Todb.destroy(db.location, done))
  ])
  for (const [i, args] of results.entries()) {
    assert.ok(args[0] instanceof Error, `call #${i} got an error`)
  }
  await ticks()
  assert.deepEqual(unhandled, [], 'no unhandled rejections in this file')
})
