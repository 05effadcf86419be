'use strict'

// The JavaScript-side batch encoding (lib/write-batch.js): strings are encoded together with one
// UTF-8 pass and fall back to one at a time when any is not ASCII. Every key and value must be
// stored exactly as Buffer.from() encodes it on its own, whatever mix of strings, Buffers and
// Uint8Arrays a batch holds, and however large it grows.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')

const { Todb } = require('..')
const { WriteBatch } = require('../lib/write-batch.js')
const { tmpDir, rmDir } = require('./helpers/util.js')

let root
before(() => { root = tmpDir() })
after(() => rmDir(root))

const bytes = (item) => (typeof item === 'string' ? Buffer.from(item) : Buffer.from(item.buffer, item.byteOffset, item.byteLength))

// Decodes `batch` the way native code frames it: three numbers per operation over the data.
function decode (batch) {
  batch.seal()
  const ops = []
  let at = 0
  for (let slot = 0; slot < batch.layoutSize; slot += 3) {
    const [kind, keyLength, valueLength] = batch.layout.subarray(slot, slot + 3)
    const key = batch.data.subarray(at, at + keyLength)
    const value = batch.data.subarray(at + keyLength, at + keyLength + valueLength)
    at += keyLength + valueLength
    ops.push(kind === 1 ? ['put', Buffer.from(key), Buffer.from(value)] : ['del', Buffer.from(key), valueLength])
  }
  assert.equal(at, batch.size, 'the layout covers the data exactly')
  return ops
}

// Strings that must each be encoded on their own: a key ending in a lone high surrogate followed
// by a value starting with a lone low one would otherwise become one valid four-byte character.
const tricky = [
  ['plain', 'ascii value'],
  ['\uD800', '\uDC00'],
  ['é', 'ü'.repeat(50)],
  ['😀', Buffer.from([0, 255, 1])],
  [new Uint8Array([9, 8, 7]), 'after bytes: ñ'],
  ['x'.repeat(200), 'y'.repeat(5000)],
  [Buffer.from('buf'), new Uint8Array(new ArrayBuffer(8), 2, 3)]
]

test('the encoder frames mixed strings and bytes exactly as Buffer.from encodes each', () => {
  const batch = new WriteBatch()
  for (const [key, value] of tricky) {
    batch.put(key, value)
    batch.del(key)
  }
  const ops = decode(batch)
  assert.equal(ops.length, tricky.length * 2)
  assert.equal(batch.length, tricky.length * 2)
  tricky.forEach(([key, value], i) => {
    assert.deepEqual(ops[2 * i], ['put', bytes(key), bytes(value)], `put ${i}`)
    assert.deepEqual(ops[2 * i + 1], ['del', bytes(key), 0], `del ${i}`)
  })
})

test('the encoder grows past its first arrays, and is empty and reusable after clear()', () => {
  const batch = new WriteBatch()
  const value = 'v'.repeat(3000)
  for (let i = 0; i < 1000; i++) batch.put(`key-${i}`, i % 2 ? value : Buffer.from(value))
  const ops = decode(batch)
  assert.equal(ops.length, 1000)
  assert.deepEqual(ops[999], ['put', Buffer.from('key-999'), Buffer.from(value)])
  assert.ok(batch.data.length >= 3000 * 1000, 'data grew to hold the batch')
  batch.clear()
  assert.equal(batch.length, 0)
  assert.ok(batch.data.length < 1024 * 1024, 'a large buffer is given back on clear()')
  batch.put('é', 'ok')
  assert.deepEqual(decode(batch), [['put', Buffer.from('é'), Buffer.from('ok')]])
})

test('batch(), chained batches and grouped puts store every key and value byte for byte', async () => {
  const db = new Todb(`${root}/db`, { keyEncoding: 'view', valueEncoding: 'view' })
  await db.open()
  const expected = new Map()
  const remember = (key, value) => expected.set(bytes(key).toString('hex'), bytes(value))

  // Strings go through the utf8 encoding, bytes through view: both in one batch.
  const utf8 = { keyEncoding: 'utf8', valueEncoding: 'utf8' }
  const ops = tricky.map(([key, value], i) => ({
    type: 'put',
    key: typeof key === 'string' ? `b${i}${key}` : key,
    value,
    ...(typeof key === 'string' && typeof value === 'string' ? utf8 : {})
  }))
  await db.batch(ops)
  for (const op of ops) remember(op.key, op.value)

  const chained = db.batch()
  chained.put('c\uD83D', '\uDE00c', utf8)
  chained.put(new Uint8Array([1, 2, 3]), new Uint8Array([4]))
  chained.del(new Uint8Array([1, 2, 3]))
  await chained.write()
  remember('c\uD83D', '\uDE00c')

  // Puts made in one tick share one native write.
  await Promise.all([
    db.put('g\uDBFF', '\uDC00g', utf8),
    db.put(Buffer.from('g2'), Buffer.from('v2')),
    db.del('b0plain', utf8)
  ])
  remember('g\uDBFF', '\uDC00g')
  remember('g2', 'v2')
  expected.delete(Buffer.from('b0plain').toString('hex'))

  const stored = new Map()
  for await (const [key, value] of db.iterator()) stored.set(Buffer.from(key).toString('hex'), Buffer.from(value))
  assert.deepEqual(stored, expected)
  await db.close()
})

// batch() encodes plain operations itself rather than through abstract-level (index.js); what it
// does must be what abstract-level's path does, and an encoding that throws must leave nothing
// of the batch written.
test('batch() encodes with the database encodings, atomically, and leaves the rest to abstract-level', async () => {
  const refuse = {
    name: 'refuse-bad',
    format: 'utf8',
    encode: (data) => {
      if (data === 'bad') throw new Error('cannot encode bad')
      return 'x:' + data
    },
    decode: (data) => data.slice(2)
  }
  const db = new Todb(root + '/encodings', { keyEncoding: refuse, valueEncoding: 'json' })
  await db.open()
  await db.batch([{ type: 'put', key: 'a', value: { n: 1 } }, { type: 'put', key: 'b', value: [2] }])
  await assert.rejects(db.batch([{ type: 'put', key: 'c', value: 3 }, { type: 'del', key: 'a' }, { type: 'put', key: 'bad', value: 4 }]), /cannot encode bad/)
  // Nothing of the refused batch was written, not even by a later write in the same tick.
  await db.put('d', 5)
  const stored = await db.iterator({ keyEncoding: 'utf8', valueEncoding: 'utf8' }).all()
  assert.deepEqual(stored, [['x:a', '{"n":1}'], ['x:b', '[2]'], ['x:d', '5']])
  // Per-operation encodings, write listeners and prewrite hooks take abstract-level's path.
  await db.batch([{ type: 'put', key: 'e', value: 'raw', valueEncoding: 'utf8', keyEncoding: 'utf8' }])
  assert.equal(await db.get('e', { keyEncoding: 'utf8', valueEncoding: 'utf8' }), 'raw')
  const seen = []
  const onWrite = (ops) => seen.push(...ops.map((op) => op.key))
  db.on('write', onWrite)
  await db.batch([{ type: 'del', key: 'd' }])
  db.off('write', onWrite)
  assert.deepEqual(seen, ['d'])
  db.hooks.prewrite.add((op) => { if (op.type === 'put') op.value = { hooked: op.value } })
  await db.batch([{ type: 'put', key: 'f', value: 6 }])
  assert.deepEqual(await db.get('f'), { hooked: 6 })
  await assert.rejects(db.batch([{ type: 'put', key: 'g' }]), { code: 'LEVEL_INVALID_VALUE' })
  await assert.rejects(db.batch([{ type: 'put', value: 1 }]), { code: 'LEVEL_INVALID_KEY' })
  await assert.rejects(db.batch([{ type: 'nope', key: 'h' }]), TypeError)
  await db.close()
  await assert.rejects(db.batch([{ type: 'put', key: 'i', value: 1 }]), { code: 'LEVEL_DATABASE_NOT_OPEN' })
})
