'use strict'

// levelup-style read streams: db.createReadStream / createKeyStream /
// createValueStream return object-mode Readable streams with levelup's
// options (gt/gte/lt/lte/reverse/limit/keys/values and encodings).

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const stream = require('node:stream')
const { promisify } = require('node:util')

const { Todb } = require('..')
const { tmpDir, rmDir, collect, trackResources, pad } = require('./helpers/util.js')

const pipeline = promisify(stream.pipeline)

let root
let seq = 0
let db // shared database with keys k000..k099
const KEYS = []
before(async () => {
  root = tmpDir()
  db = new Todb(location())
  await db.open()
  const ops = []
  for (let i = 0; i < 100; i++) {
    KEYS.push('k' + pad(i, 3))
    ops.push({ type: 'put', key: 'k' + pad(i, 3), value: 'v' + pad(i, 3) })
  }
  await db.batch(ops)
})
after(async () => {
  if (db && db.status === 'open') await db.close()
  if (root) rmDir(root)
})

function location () {
  return path.join(root, 'db' + seq++)
}

// What a range query over KEYS must return, computed independently.
function expectedKeys (opts) {
  let keys = KEYS.filter((k) =>
    (opts.gt === undefined || k > opts.gt) &&
    (opts.gte === undefined || k >= opts.gte) &&
    (opts.lt === undefined || k < opts.lt) &&
    (opts.lte === undefined || k <= opts.lte))
  if (opts.reverse) keys = keys.reverse()
  if (opts.limit !== undefined && opts.limit >= 0) keys = keys.slice(0, opts.limit)
  return keys
}
const valueOf = (k) => 'v' + k.slice(1)

const RANGES = [
  {},
  { gt: 'k010' },
  { gte: 'k010' },
  { lt: 'k090' },
  { lte: 'k090' },
  { gt: 'k010', lt: 'k020' },
  { gte: 'k010', lte: 'k020' },
  { gt: 'k010', lte: 'k020' },
  { gte: 'k0105', lt: 'k0155' }, // bounds between existing keys
  { gte: 'a', lt: 'k003' }, // bound below the first key
  { gt: 'k098', lte: 'z' }, // bound above the last key
  { lt: 'k' }, // empty
  { gt: 'k050', lt: 'k040' }, // inverted: empty
  { limit: 5 },
  { limit: 0 },
  { limit: -1 },
  { limit: 1000 },
  { reverse: true },
  { reverse: true, limit: 7 },
  { reverse: true, gte: 'k030', lt: 'k060' },
  { reverse: true, gt: 'k030', lte: 'k060', limit: 10 },
  { gte: 'k095', limit: 3 }
]

test('the factories return object-mode readable streams that work with stream.pipeline', async () => {
  for (const factory of ['createReadStream', 'createKeyStream', 'createValueStream']) {
    const s = db[factory]()
    assert.equal(typeof s.pipe, 'function', `${factory} returns a stream`)
    assert.equal(typeof s.on, 'function')
    assert.equal(s.readableObjectMode, true, `${factory} is in object mode`)
    const received = []
    await pipeline(s, new stream.Writable({
      objectMode: true,
      write (chunk, enc, done) { received.push(chunk); done() }
    }))
    assert.equal(received.length, 100, `${factory} emits every entry`)
  }
})

test('createReadStream emits { key, value } for every range option', async () => {
  for (const opts of RANGES) {
    const label = JSON.stringify(opts)
    const got = await collect(db.createReadStream(opts))
    const expected = expectedKeys(opts).map((k) => ({ key: k, value: valueOf(k) }))
    assert.deepEqual(got, expected, `createReadStream(${label})`)
    const viaIterator = await db.iterator(opts).all()
    assert.deepEqual(got, viaIterator.map(([key, value]) => ({ key, value })), `createReadStream(${label}) equals iterator().all()`)
  }
})

test('createKeyStream and createValueStream emit keys and values for every range option', async () => {
  for (const opts of RANGES) {
    const label = JSON.stringify(opts)
    const keys = await collect(db.createKeyStream(opts))
    assert.deepEqual(keys, expectedKeys(opts), `createKeyStream(${label})`)
    assert.deepEqual(keys, await db.keys(opts).all(), `createKeyStream(${label}) equals keys().all()`)
    const values = await collect(db.createValueStream(opts))
    assert.deepEqual(values, expectedKeys(opts).map(valueOf), `createValueStream(${label})`)
    assert.deepEqual(values, await db.values(opts).all(), `createValueStream(${label}) equals values().all()`)
  }
})

test('createReadStream with keys: false emits values, with values: false emits keys', async () => {
  const opts = { gte: 'k020', lt: 'k025' }
  assert.deepEqual(await collect(db.createReadStream({ ...opts, keys: false })), ['v020', 'v021', 'v022', 'v023', 'v024'])
  assert.deepEqual(await collect(db.createReadStream({ ...opts, values: false })), ['k020', 'k021', 'k022', 'k023', 'k024'])
  assert.deepEqual(
    await collect(db.createReadStream({ ...opts, keys: true, values: true, reverse: true, limit: 2 })),
    [{ key: 'k024', value: 'v024' }, { key: 'k023', value: 'v023' }]
  )
  assert.deepEqual(await collect(db.createReadStream({ reverse: true, limit: 3, values: false })), ['k099', 'k098', 'k097'])
})

test('stream encodings: per-stream keyEncoding/valueEncoding and database defaults', async () => {
  const jdb = new Todb(location(), { valueEncoding: 'json' })
  await jdb.open()
  await jdb.batch([
    { type: 'put', key: 'a', value: { n: 1, tags: ['x'] } },
    { type: 'put', key: 'b', value: [1, 2, 3] },
    { type: 'put', key: 'c', value: 'string' }
  ])
  assert.deepEqual(await collect(jdb.createReadStream()), [
    { key: 'a', value: { n: 1, tags: ['x'] } },
    { key: 'b', value: [1, 2, 3] },
    { key: 'c', value: 'string' }
  ], 'the database default valueEncoding (json) applies')
  assert.deepEqual(await collect(jdb.createValueStream({ valueEncoding: 'utf8' })), ['{"n":1,"tags":["x"]}', '[1,2,3]', '"string"'])

  const buffered = await collect(jdb.createReadStream({ keyEncoding: 'buffer', valueEncoding: 'buffer', lt: 'b' }))
  assert.equal(buffered.length, 1)
  assert.ok(Buffer.isBuffer(buffered[0].key) && Buffer.isBuffer(buffered[0].value))
  assert.deepEqual(buffered[0].key, Buffer.from('a'))
  assert.deepEqual(JSON.parse(buffered[0].value), { n: 1, tags: ['x'] })

  const keyBufs = await collect(jdb.createKeyStream({ keyEncoding: 'buffer', gt: Buffer.from('a') }))
  assert.deepEqual(keyBufs, [Buffer.from('b'), Buffer.from('c')])
  await jdb.close()

  // Binary keys (0x00 / 0xff) through a buffer-encoded database.
  const bdb = new Todb(location(), { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  await bdb.open()
  const bkeys = [Buffer.from([0x00]), Buffer.from([0x00, 0xff]), Buffer.from([0x7f]), Buffer.from([0xff]), Buffer.from([0xff, 0x00])]
  await bdb.batch(bkeys.map((key, i) => ({ type: 'put', key, value: Buffer.from([i, 0x00, 0xff]) })))
  const bentries = await collect(bdb.createReadStream({ gt: Buffer.from([0x00]), lte: Buffer.from([0xff]) }))
  assert.deepEqual(bentries, [
    { key: bkeys[1], value: Buffer.from([1, 0x00, 0xff]) },
    { key: bkeys[2], value: Buffer.from([2, 0x00, 0xff]) },
    { key: bkeys[3], value: Buffer.from([3, 0x00, 0xff]) }
  ])
  assert.deepEqual(await collect(bdb.createKeyStream({ reverse: true, limit: 2 })), [bkeys[4], bkeys[3]])
  await bdb.close()
})

test('backpressure: a slow consumer receives all 5,000 entries in order', async () => {
  const sdb = new Todb(location())
  await sdb.open()
  const N = 5000
  const ops = []
  for (let i = 0; i < N; i++) ops.push({ type: 'put', key: 's' + pad(i, 5), value: 'value ' + i })
  await sdb.batch(ops)

  const received = []
  let maxBuffered = 0
  const source = sdb.createReadStream()
  let n = 0
  await pipeline(source, new stream.Writable({
    objectMode: true,
    highWaterMark: 1,
    write (entry, enc, done) {
      received.push(entry)
      maxBuffered = Math.max(maxBuffered, source.readableLength)
      // Slow: every entry waits a turn of the event loop, some wait a timer.
      if (++n % 500 === 0) setTimeout(done, 5)
      else setImmediate(done)
    }
  }))
  assert.equal(received.length, N)
  for (let i = 0; i < N; i++) {
    if (received[i].key !== 's' + pad(i, 5) || received[i].value !== 'value ' + i) {
      assert.fail(`entry #${i} is ${JSON.stringify(received[i])}`)
    }
  }
  assert.ok(maxBuffered < N, `the stream did not buffer everything at once (max ${maxBuffered} buffered)`)
  await sdb.close()
})

test('backpressure: an unconsumed stream stops reading well before the end', async () => {
  const sdb = new Todb(location())
  await sdb.open()
  const N = 20000
  for (let start = 0; start < N; start += 5000) {
    const ops = []
    for (let i = start; i < start + 5000; i++) ops.push({ type: 'put', key: 'b' + pad(i, 5), value: 'x' })
    await sdb.batch(ops)
  }
  const s = sdb.createKeyStream()
  // A 'readable' listener starts filling the buffer; nothing is consumed.
  await new Promise((resolve) => s.once('readable', resolve))
  // Give a stream that ignores backpressure ample time to read everything.
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  assert.ok(s.readableLength > 0, 'entries were buffered')
  assert.ok(s.readableLength < N / 2, `an unconsumed stream buffered ${s.readableLength} of ${N} entries`)

  // Now consume: everything arrives, in order.
  let count = 0
  let prev = ''
  for await (const key of s) {
    assert.ok(key > prev, 'ascending order')
    prev = key
    count++
  }
  assert.equal(count, N)
  await sdb.close()
})

test('destroying a stream early closes its iterator without an error', async (t) => {
  const ddb = new Todb(location())
  await ddb.open()
  const ops = []
  for (let i = 0; i < 5000; i++) ops.push({ type: 'put', key: 'd' + pad(i, 5), value: 'v' })
  await ddb.batch(ops)
  const resources = trackResources(ddb)

  for (const factory of ['createReadStream', 'createKeyStream', 'createValueStream']) {
    const s = ddb[factory]()
    const errors = []
    s.on('error', (err) => errors.push(err))
    const first = []
    await new Promise((resolve) => {
      s.on('data', function onData (item) {
        first.push(item)
        if (first.length === 10) {
          s.removeListener('data', onData)
          s.destroy()
          resolve()
        }
      })
    })
    await new Promise((resolve) => s.once('close', resolve))
    assert.deepEqual(errors, [], `${factory}: no error after destroy()`)
    assert.equal(s.destroyed, true)
    assert.equal(first.length, 10)
  }

  // A stream destroyed before it read anything (and before its first _read).
  const early = ddb.createReadStream()
  const earlyErrors = []
  early.on('error', (err) => earlyErrors.push(err))
  early.destroy()
  await new Promise((resolve) => early.once('close', resolve))
  assert.deepEqual(earlyErrors, [])

  // Breaking out of for-await destroys the stream.
  let seen = 0
  for await (const entry of ddb.createReadStream({ reverse: true })) {
    assert.equal(typeof entry.key, 'string')
    if (++seen === 3) break
  }

  // destroy(err) emits that error (only).
  const failing = ddb.createValueStream()
  const boom = new Error('consumer gave up')
  const failed = new Promise((resolve) => failing.once('error', resolve))
  failing.destroy(boom)
  assert.equal(await failed, boom)
  await new Promise((resolve) => setImmediate(resolve))

  // Let the iterators' close() settle, then check that none is left open.
  for (let i = 0; i < 10 && resources.open > 0; i++) await new Promise((resolve) => setTimeout(resolve, 10))
  if (resources.attached > 0) {
    assert.equal(resources.open, 0, `${resources.open} of ${resources.attached} iterators still open after the streams were destroyed`)
  } else {
    t.diagnostic('streams did not attach abstract-level iterators; relying on close()')
  }

  // Nothing left that would hold close() up.
  await ddb.close()
  assert.equal(ddb.status, 'closed')
})

test('a stream created before the database finished opening still reads everything', async () => {
  const loc = location()
  const first = new Todb(loc)
  await first.open()
  await first.batch([{ type: 'put', key: 'x', value: '1' }, { type: 'put', key: 'y', value: '2' }])
  await first.close()

  const odb = new Todb(loc)
  assert.equal(odb.status, 'opening')
  const got = await collect(odb.createReadStream())
  assert.deepEqual(got, [{ key: 'x', value: '1' }, { key: 'y', value: '2' }])
  await odb.close()
})

test('a stream reads a consistent view of the data present when it started', async () => {
  const cdb = new Todb(location())
  await cdb.open()
  const ops = []
  for (let i = 0; i < 2000; i++) ops.push({ type: 'put', key: 'c' + pad(i, 4), value: 'before' })
  await cdb.batch(ops)
  const s = cdb.createReadStream()
  const got = []
  let wrote = false
  await pipeline(s, new stream.Writable({
    objectMode: true,
    highWaterMark: 1,
    write (entry, enc, done) {
      got.push(entry)
      if (!wrote && got.length === 10) {
        wrote = true
        // Overwrite everything and add keys while the stream is mid-way.
        const later = []
        for (let i = 0; i < 2000; i++) later.push({ type: 'put', key: 'c' + pad(i, 4), value: 'after' })
        later.push({ type: 'put', key: 'c9999', value: 'after' })
        cdb.batch(later).then(() => done(), done)
      } else {
        setImmediate(done)
      }
    }
  }))
  assert.equal(got.length, 2000, 'keys added after the stream started are not seen')
  assert.ok(got.every((e) => e.value === 'before'), 'values overwritten after the stream started are not seen')
  await cdb.close()
})
