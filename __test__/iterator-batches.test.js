'use strict'

// How an iterator's batches reach JavaScript: a batch that fits is answered in the scratch Buffer
// that every database on the thread shares (lib/scratch.js), a larger one in a Buffer of its
// own. Whatever the path, each value handed out must be the right bytes and stay so after
// later reads reuse the scratch Buffer.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')

const { Todb } = require('..')
const { tmpDir, rmDir, pad } = require('./helpers/util.js')

let root
let db
let other
// Values differ in every byte position from their neighbours', so a value overwritten by
// another read is seen.
const valueOf = (i, size = 40) => Buffer.alloc(size, (i * 7 + 1) & 0xff)

before(async () => {
  root = tmpDir()
  db = new Todb(path.join(root, 'a'), { valueEncoding: 'buffer' })
  other = new Todb(path.join(root, 'b'), { valueEncoding: 'buffer' })
  await db.open()
  await other.open()
  const ops = []
  for (let i = 0; i < 300; i++) ops.push({ type: 'put', key: 'k' + pad(i, 4), value: valueOf(i) })
  // Values big enough that a batch of three passes the 64 KiB scratch Buffer.
  for (let i = 0; i < 3; i++) ops.push({ type: 'put', key: 'z' + i, value: valueOf(i, 30000) })
  await db.batch(ops)
  await other.batch(ops.map((op, i) => ({ ...op, value: valueOf(i + 100) })))
})

after(async () => {
  await db.close()
  await other.close()
  rmDir(root)
})

test('batches in the scratch Buffer hand out values that later reads do not overwrite', async () => {
  const it = db.iterator({ gte: 'k0010' })
  const first = await it.nextv(5)
  const keys = first.map(([key]) => key)
  assert.deepEqual(keys, ['k0010', 'k0011', 'k0012', 'k0013', 'k0014'])
  // Reads that answer in the scratch Buffer: another batch of this iterator, a seek and batch
  // elsewhere, another database's iterator, and a get.
  await it.nextv(5)
  const elsewhere = db.iterator({ gte: 'k0200' })
  await elsewhere.nextv(8)
  const onOther = other.iterator()
  await onOther.nextv(8)
  await db.get('k0299')
  for (let n = 0; n < first.length; n++) {
    assert.deepEqual(first[n][1], valueOf(10 + n), `value of ${keys[n]}`)
  }
  await Promise.all([it.close(), elsewhere.close(), onOther.close()])
})

test('next() and seek() read the right entries through the scratch Buffer', async () => {
  const it = db.iterator()
  it.seek('k0123')
  const [key, value] = await it.next()
  assert.equal(key, 'k0123')
  assert.deepEqual(value, valueOf(123))
  it.seek('k0050')
  const batch = await it.nextv(3)
  assert.deepEqual(batch.map(([k]) => k), ['k0050', 'k0051', 'k0052'])
  assert.deepEqual(batch.map(([, v]) => v), [valueOf(50), valueOf(51), valueOf(52)])
  await it.close()
})

test('long batches and batches larger than the scratch Buffer read every value', async () => {
  const all = await db.iterator({ lt: 'l' }).all()
  await db.iterator({ gte: 'k0100' }).nextv(500)
  assert.equal(all.length, 300)
  all.forEach(([key, value], i) => {
    assert.equal(key, 'k' + pad(i, 4))
    assert.deepEqual(value, valueOf(i), `value of ${key}`)
  })
  const big = await db.iterator({ gte: 'z', highWaterMarkBytes: 1 << 20 }).nextv(3)
  assert.deepEqual(big.map(([key]) => key), ['z0', 'z1', 'z2'])
  big.forEach(([, value], i) => assert.deepEqual(value, valueOf(i, 30000)))
})

test('utf8 values, view values and key-only iterators read the same bytes', async () => {
  const strings = await db.iterator({ gte: 'k0007', valueEncoding: 'hex' }).nextv(2)
  assert.deepEqual(strings, [['k0007', valueOf(7).toString('hex')], ['k0008', valueOf(8).toString('hex')]])
  const views = await db.values({ gte: 'k0007', valueEncoding: 'view' }).nextv(2)
  assert.ok(views[0] instanceof Uint8Array)
  assert.deepEqual(Buffer.from(views[1]), valueOf(8))
  const keys = await db.keys({ gte: 'k0298' }).nextv(4)
  assert.deepEqual(keys, ['k0298', 'k0299', 'z0', 'z1'])
})

test('Buffer keys beside string values stay intact after later reads', async () => {
  const entries = await db.iterator({ gte: 'k0020', keyEncoding: 'buffer', valueEncoding: 'hex' }).nextv(3)
  const bufferKeys = await db.keys({ gte: 'k0030', keyEncoding: 'buffer' }).nextv(3)
  await db.iterator({ gte: 'k0100' }).nextv(8)
  await other.iterator({ gte: 'k0200', keyEncoding: 'buffer' }).nextv(8)
  assert.deepEqual(entries.map(([key]) => key.toString()), ['k0020', 'k0021', 'k0022'])
  assert.equal(entries[2][1], valueOf(22).toString('hex'))
  assert.deepEqual(bufferKeys.map((key) => key.toString()), ['k0030', 'k0031', 'k0032'])
})

test('non-ASCII string keys and values read back exactly, beside ASCII ones', async () => {
  const mixed = new Todb(path.join(root, 'mixed'))
  await mixed.open()
  const entries = [['a-plain', 'ascii'], ['b-café', 'crème brûlée'], ['c-😀', '\u{1F600} and text'], ['d-plain', 'naïve']]
  await mixed.batch(entries.map(([key, value]) => ({ type: 'put', key, value })))
  // Short batches (the scratch Buffer) and a full one; keys alone; and a batch all ASCII.
  assert.deepEqual(await mixed.iterator().nextv(10), entries)
  assert.deepEqual(await mixed.iterator({ highWaterMarkBytes: 0 }).nextv(10), [entries[0]])
  assert.deepEqual(await mixed.keys().all(), entries.map(([key]) => key))
  assert.deepEqual(await mixed.values({ gte: 'b', lt: 'c' }).nextv(5), ['crème brûlée'])
  assert.deepEqual(await mixed.iterator({ lt: 'b' }).nextv(5), [entries[0]])
  const asBuffers = await mixed.iterator({ keyEncoding: 'buffer', valueEncoding: 'buffer' }).nextv(10)
  assert.deepEqual(asBuffers, entries.map(([key, value]) => [Buffer.from(key), Buffer.from(value)]))
  await mixed.close()
})
