'use strict'

// Data written through the promise API survives close() and reopening the
// same directory: content, order, deletes, batches, large keys/values.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const os = require('node:os')

const { Todb, ClassicLevel } = require('..')
const { tmpDir, rmDir, pad, prng, randomBytes } = require('./helpers/util.js')

let root
let seq = 0
before(() => { root = tmpDir() })
after(() => { if (root) rmDir(root) })

function location () {
  return path.join(root, 'db' + seq++)
}

// Expected content, keyed by the hex of the key bytes.
class Model {
  constructor () { this.map = new Map() }
  put (key, value) {
    const k = Buffer.from(key)
    this.map.set(k.toString('hex'), { key: k, value: Buffer.from(value) })
  }

  del (key) { this.map.delete(Buffer.from(key).toString('hex')) }
  has (key) { return this.map.has(Buffer.from(key).toString('hex')) }
  get size () { return this.map.size }
  sorted () { return [...this.map.values()].sort((a, b) => Buffer.compare(a.key, b.key)) }
}

function short (buf) {
  const hex = buf.toString('hex')
  return hex.length > 40 ? `${hex.slice(0, 40)}... (${buf.length} bytes)` : hex
}

// Full forward and reverse scans, compared entry by entry with the model.
async function assertContent (db, model, label) {
  const entries = await db.iterator({ keyEncoding: 'buffer', valueEncoding: 'buffer' }).all()
  const expected = model.sorted()
  assert.equal(entries.length, expected.length, `${label}: number of entries`)
  for (let i = 0; i < expected.length; i++) {
    const [key, value] = entries[i]
    if (!key.equals(expected[i].key)) {
      assert.fail(`${label}: key #${i} is ${short(key)}, expected ${short(expected[i].key)}`)
    }
    if (!value.equals(expected[i].value)) {
      assert.fail(`${label}: value of key ${short(key)} is ${short(value)}, expected ${short(expected[i].value)}`)
    }
  }
  const reversed = await db.keys({ keyEncoding: 'buffer', reverse: true }).all()
  assert.equal(reversed.length, expected.length, `${label}: number of keys in reverse scan`)
  for (let i = 0; i < expected.length; i++) {
    const exp = expected[expected.length - 1 - i].key
    if (!reversed[i].equals(exp)) {
      assert.fail(`${label}: reverse key #${i} is ${short(reversed[i])}, expected ${short(exp)}`)
    }
  }
}

async function reopen (db, options) {
  await db.close()
  assert.equal(db.status, 'closed')
  const db2 = new Todb(db.location, options)
  await db2.open()
  assert.equal(db2.status, 'open')
  return db2
}

test('Todb and ClassicLevel are the same class', () => {
  assert.equal(typeof Todb, 'function')
  assert.equal(Todb, ClassicLevel)
})

test('utf8 keys and values survive close and reopen, in byte order', async () => {
  const keys = [
    'a', 'b', 'B', 'ab', 'a b', 'é', 'z', '\u00ff', '日本語', '😀', 'emoji😀tail', '\uffff',
    'tab\tkey', 'newline\nkey', 'nul\u0000inside', 'long-' + 'k'.repeat(300)
  ]
  const model = new Model()
  let db = new Todb(location())
  await db.open()
  for (const [i, key] of keys.entries()) {
    const value = `värde ${i} ✓ ${key}`
    await db.put(key, value)
    model.put(key, value)
  }
  await assertContent(db, model, 'before close')

  db = await reopen(db)
  await assertContent(db, model, 'after reopen')
  // utf8 reads with the default encodings
  for (const [i, key] of keys.entries()) {
    assert.equal(await db.get(key), `värde ${i} ✓ ${key}`, `get(${JSON.stringify(key)})`)
  }
  const expectedOrder = keys.slice().sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  assert.deepEqual(await db.keys().all(), expectedOrder)
  assert.equal(db.getSync('日本語'), `värde 8 ✓ 日本語`)
  await db.close()
})

test('binary keys containing 0x00 and 0xff and binary values survive reopen', async () => {
  const opts = { keyEncoding: 'buffer', valueEncoding: 'buffer' }
  const rand = prng(7)
  const keys = [
    [0x00], [0x00, 0x00], [0x00, 0xff], [0x01], [0x61], [0x61, 0x00], [0x61, 0x00, 0x62],
    [0x61, 0xff], [0x7f], [0x80], [0xfe, 0xff], [0xff], [0xff, 0x00], [0xff, 0xff, 0xff],
    Array(64).fill(0x00), Array(64).fill(0xff)
  ].map((bytes) => Buffer.from(bytes))
  for (let i = 0; i < 50; i++) keys.push(randomBytes(rand, 1 + Math.floor(rand() * 40)))

  const model = new Model()
  let db = new Todb(location(), opts)
  await db.open()
  for (const [i, key] of keys.entries()) {
    const value = Buffer.concat([Buffer.from([0x00, 0xff, i & 0xff]), randomBytes(rand, i % 37)])
    await db.put(key, value)
    model.put(key, value)
  }
  await assertContent(db, model, 'before close')

  db = await reopen(db, opts)
  await assertContent(db, model, 'after reopen')
  const first = await db.iterator({ limit: 1 }).all()
  assert.deepEqual(first[0][0], Buffer.from([0x00]), 'smallest key comes first')
  const last = await db.keys({ reverse: true, limit: 1 }).all()
  assert.deepEqual(last[0], model.sorted().at(-1).key, 'largest key comes last')
  // Range reads over binary boundaries
  const range = await db.keys({ gt: Buffer.from([0x61]), lt: Buffer.from([0x61, 0xff]) }).all()
  const lo = Buffer.from([0x61])
  const hi = Buffer.from([0x61, 0xff])
  const expectedRange = model.sorted().map((e) => e.key).filter((k) => Buffer.compare(k, lo) > 0 && Buffer.compare(k, hi) < 0)
  assert.ok(expectedRange.length >= 2)
  assert.deepEqual(range.map((k) => k.toString('hex')), expectedRange.map((k) => k.toString('hex')))
  await db.close()
})

test('empty values (and the empty key) survive reopen', async () => {
  let db = new Todb(location())
  await db.open()
  await db.put('empty-string', '')
  await db.put('empty-buffer', Buffer.alloc(0), { valueEncoding: 'buffer' })
  await db.put('', 'value of the empty key')
  await db.put('z', 'last')

  db = await reopen(db)
  assert.equal(await db.get('empty-string'), '')
  assert.deepEqual(await db.get('empty-buffer', { valueEncoding: 'buffer' }), Buffer.alloc(0))
  assert.equal(await db.get(''), 'value of the empty key')
  assert.equal(await db.has('empty-string'), true)
  assert.deepEqual(await db.getMany(['empty-string', 'missing', 'empty-buffer']), ['', undefined, ''])
  assert.deepEqual(await db.iterator().all(), [
    ['', 'value of the empty key'], ['empty-buffer', ''], ['empty-string', ''], ['z', 'last']
  ])
  await db.close()
})

test('a 1 MiB value and a 40 KiB key (spanning log blocks) survive reopen', async () => {
  const rand = prng(11)
  const bigValue = randomBytes(rand, 1024 * 1024)
  const bigKey = Buffer.concat([Buffer.from('k:'), randomBytes(rand, 40 * 1024)])
  const bigKeyValue = randomBytes(rand, 3000)
  const model = new Model()
  let db = new Todb(location())
  await db.open()

  // Small writes around the big ones so that records before and after them
  // are read back from the same log as well.
  await db.put('a-before', 'small')
  model.put('a-before', 'small')
  await db.put('big-value', bigValue, { valueEncoding: 'buffer' })
  model.put('big-value', bigValue)
  await db.put(bigKey, bigKeyValue, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  model.put(bigKey, bigKeyValue)
  await db.put('z-after', 'small too')
  model.put('z-after', 'small too')

  db = await reopen(db)
  await assertContent(db, model, 'after reopen')
  const got = await db.get('big-value', { valueEncoding: 'buffer' })
  assert.equal(got.length, bigValue.length)
  assert.ok(got.equals(bigValue), '1 MiB value is byte-identical')
  const gotKeyValue = await db.get(bigKey, { keyEncoding: 'buffer', valueEncoding: 'buffer' })
  assert.ok(Buffer.isBuffer(gotKeyValue) && gotKeyValue.equals(bigKeyValue), 'value under the 40 KiB key')
  assert.equal(await db.get('z-after'), 'small too')

  // Reopen a second time, after overwriting the big value with a small one.
  await db.put('big-value', 'now small')
  model.put('big-value', 'now small')
  db = await reopen(db)
  await assertContent(db, model, 'after second reopen')
  await db.close()
})

test('20,000 small writes, overwrites and deletes survive reopen in order', async () => {
  const N = 20000
  const model = new Model()
  let db = new Todb(location())
  await db.open()
  for (let start = 0; start < N; start += 1000) {
    const writes = []
    for (let i = start; i < start + 1000; i++) {
      const key = 'n:' + pad(i, 5)
      const value = `v${i}` + '.'.repeat(i % 50)
      writes.push(db.put(key, value))
      model.put(key, value)
    }
    await Promise.all(writes)
  }
  // Sequential overwrites: the last write must win.
  for (let i = 0; i < N; i += 10) {
    await db.put('n:' + pad(i, 5), `first-overwrite ${i}`)
    await db.put('n:' + pad(i, 5), `second-overwrite ${i}`)
    model.put('n:' + pad(i, 5), `second-overwrite ${i}`)
  }
  for (let i = 3; i < N; i += 7) {
    await db.del('n:' + pad(i, 5))
    model.del('n:' + pad(i, 5))
  }

  db = await reopen(db)
  await assertContent(db, model, 'after reopen')
  assert.equal(await db.get('n:00020'), 'second-overwrite 20')
  assert.equal(await db.get('n:00010'), undefined, 'overwritten, then deleted')
  assert.equal(await db.get('n:00003'), undefined)
  assert.equal(await db.has('n:00020'), true)
  assert.equal(await db.has('n:00017'), false)
  assert.deepEqual(
    await db.keys({ gte: 'n:00000', lt: 'n:00012' }).all(),
    ['n:00000', 'n:00001', 'n:00002', 'n:00004', 'n:00005', 'n:00006', 'n:00007', 'n:00008', 'n:00009', 'n:00011']
  )
  await db.close()
})

// Everything at once, reopened twice with writes in between. Run with a small
// write buffer (memtable flushes to table files and compactions happen) and
// without compression.
for (const [name, options] of [
  ['writeBufferSize 64 KiB', { writeBufferSize: 64 * 1024 }],
  ['compression false', { compression: false }]
]) {
  test(`mixed workload (${name}): puts, deletes, array and chained batches, clear; reopened twice`, async () => {
    const rand = prng(name.length)
    const model = new Model()
    let db = new Todb(location(), options)
    await db.open()

    // 1. Many puts, some with bigger values so that tables get written.
    for (let start = 0; start < 6000; start += 500) {
      const writes = []
      for (let i = start; i < start + 500; i++) {
        const key = 'm:' + pad(i, 5)
        const value = randomBytes(rand, i % 97 === 0 ? 5000 : 20 + (i % 60))
        writes.push(db.put(key, value, { valueEncoding: 'buffer' }))
        model.put(key, value)
      }
      await Promise.all(writes)
    }
    // 2. Array batch mixing puts and dels, including a put and a del of the
    //    same key in one batch (order inside the batch matters).
    await db.batch([
      { type: 'put', key: 'batch:a', value: 'A' },
      { type: 'put', key: 'batch:b', value: 'B' },
      { type: 'del', key: 'batch:b' },
      { type: 'del', key: 'batch:c' },
      { type: 'put', key: 'batch:c', value: 'C' },
      { type: 'del', key: 'm:00001' },
      { type: 'put', key: 'm:00002', value: 'replaced in batch' }
    ])
    model.put('batch:a', 'A')
    model.put('batch:c', 'C')
    model.del('m:00001')
    model.put('m:00002', 'replaced in batch')
    // 3. Chained batch.
    const chained = db.batch()
    for (let i = 0; i < 300; i++) chained.put('chained:' + pad(i, 3), 'c' + i)
    for (let i = 0; i < 300; i += 3) chained.del('chained:' + pad(i, 3))
    chained.del('m:00004')
    await chained.write()
    for (let i = 0; i < 300; i++) if (i % 3 !== 0) model.put('chained:' + pad(i, 3), 'c' + i)
    model.del('m:00004')
    // 4. Single deletes and a range clear.
    for (let i = 10; i < 6000; i += 13) {
      await db.del('m:' + pad(i, 5))
      model.del('m:' + pad(i, 5))
    }
    await db.clear({ gte: 'm:02000', lt: 'm:02500' })
    for (let i = 2000; i < 2500; i++) model.del('m:' + pad(i, 5))

    await assertContent(db, model, 'before close')
    db = await reopen(db, options)
    await assertContent(db, model, 'after first reopen')

    // 5. More changes on the reopened database: re-put some deleted keys,
    //    delete some surviving ones, a sync write.
    await db.put('m:00010', 'back again', { sync: true })
    model.put('m:00010', 'back again')
    await db.batch([
      { type: 'del', key: 'batch:a' },
      { type: 'put', key: 'm:02100', value: 'inside the cleared range' },
      { type: 'del', key: 'chained:001' }
    ])
    model.del('batch:a')
    model.put('m:02100', 'inside the cleared range')
    model.del('chained:001')

    db = await reopen(db, options)
    await assertContent(db, model, 'after second reopen')
    assert.equal(await db.get('m:00001'), undefined, 'deleted in a batch stays deleted')
    assert.equal(await db.get('m:00023'), undefined, 'single delete stays deleted')
    assert.equal(await db.get('m:02101'), undefined, 'cleared range stays cleared')
    assert.equal(await db.get('m:02100'), 'inside the cleared range')
    assert.equal(await db.get('m:00010'), 'back again')
    assert.equal(await db.get('batch:b'), undefined)
    assert.equal(await db.get('batch:c'), 'C')
    assert.deepEqual(await db.getMany(['chained:000', 'chained:001', 'chained:002']), [undefined, undefined, 'c2'])

    db = await reopen(db, options)
    await assertContent(db, model, 'after third reopen without writes')
    await db.close()
  })
}

test('createIfMissing: false on a missing directory fails with LEVEL_DATABASE_NOT_OPEN', async () => {
  const loc = location()
  const db = new Todb(loc, { createIfMissing: false })
  await assert.rejects(db.open(), (err) => {
    assert.equal(err.code, 'LEVEL_DATABASE_NOT_OPEN')
    assert.ok(err.cause instanceof Error, 'error has a cause')
    return true
  })
  assert.equal(db.status, 'closed')
  await assert.rejects(db.get('a'), { code: 'LEVEL_DATABASE_NOT_OPEN' })

  // open() options override the constructor's.
  await db.open({ createIfMissing: true })
  assert.equal(db.status, 'open')
  await db.put('a', '1')
  await db.close()

  // Same with the option given to open()
  const db2 = new Todb(location())
  await assert.rejects(db2.open({ createIfMissing: false }), { code: 'LEVEL_DATABASE_NOT_OPEN' })
  assert.equal(db2.status, 'closed')

  // An existing database opens fine with createIfMissing: false.
  const db3 = new Todb(loc, { createIfMissing: false })
  await db3.open()
  assert.equal(await db3.get('a'), '1')
  await db3.close()
})

test('errorIfExists: true on an existing database fails with LEVEL_DATABASE_NOT_OPEN', async () => {
  const loc = location()
  const fresh = new Todb(loc, { errorIfExists: true })
  await fresh.open() // does not exist yet: fine
  await fresh.put('kept', 'yes')
  await fresh.close()

  const db = new Todb(loc, { errorIfExists: true })
  await assert.rejects(db.open(), (err) => {
    assert.equal(err.code, 'LEVEL_DATABASE_NOT_OPEN')
    assert.ok(err.cause instanceof Error, 'error has a cause')
    return true
  })
  assert.equal(db.status, 'closed')

  // The failed open did not damage or wipe the database.
  const again = new Todb(loc)
  await again.open()
  assert.equal(await again.get('kept'), 'yes')
  await again.close()
  assert.ok(fs.existsSync(loc))
})

test('a database closed without writes reopens empty, and stays usable', async () => {
  let db = new Todb(location())
  await db.open()
  db = await reopen(db)
  assert.deepEqual(await db.iterator().all(), [])
  await db.put('x', 'y')
  db = await reopen(db)
  assert.deepEqual(await db.iterator().all(), [['x', 'y']])
  await db.close()
})

test('writes in flight together, chained batches and sync writes interleave without losing any', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'todb-coalesce-'))
  try {
    const db = new Todb(dir)
    await db.open()
    const expected = new Map()
    const pending = []
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 20; i++) {
        const k = `r${round}-k${i}`
        pending.push(db.put(k, `v${i}`))
        expected.set(k, `v${i}`)
      }
      pending.push(db.put(`r${round}-sync`, 's', { sync: true }))
      expected.set(`r${round}-sync`, 's')
      const chained = db.batch().put(`r${round}-chained`, 'c').del(`r${round}-k0`)
      expected.set(`r${round}-chained`, 'c')
      expected.delete(`r${round}-k0`)
      pending.push(chained.write())
      // Still pending when the chained batch closes itself, a microtask later.
      pending.push(db.batch([{ type: 'put', key: `r${round}-array`, value: 'a' }]))
      expected.set(`r${round}-array`, 'a')
      await new Promise((resolve) => setImmediate(resolve))
      // A read sees every write made before it.
      assert.equal(await db.get(`r${round}-k19`), 'v19')
      assert.equal(await db.get(`r${round}-array`), 'a')
    }
    await Promise.all(pending)
    await db.close()
    const reopened = new Todb(dir)
    const all = new Map(await reopened.iterator().all())
    assert.deepEqual(all, expected)
    await reopened.close()
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
