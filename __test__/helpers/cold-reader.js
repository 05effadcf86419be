'use strict'

// Child for cold-read.test.js, run with TODB_TEST_COLD_READS=1 (every table page counts as not in
// memory). Writes keys into tables, reopens, reads them with get() (which must go to the pool),
// getSync() and getMany(), and prints what it saw as JSON.

const { Todb } = require('../..')

async function main () {
  const dir = process.argv[2]
  const key = (i) => String(i).padStart(6, '0')
  let db = new Todb(dir, { valueEncoding: 'json' })
  await db.open()
  const batch = db.batch()
  for (let i = 0; i < 2000; i++) batch.put(key(i), { i })
  await batch.write()
  await db.compactRange(key(0), key(2000))
  await db.close()

  db = new Todb(dir, { valueEncoding: 'json' })
  await db.open()
  const native = db[Object.getOwnPropertySymbols(db).find((s) => s.description === 'native')]
  let pooled = 0
  const getAsync = native.getAsync.bind(native)
  native.getAsync = (...args) => { pooled++; return getAsync(...args) }
  const gets = (await Promise.all([7, 999, 1500, 4242].map((i) => db.get(key(i))))).map((v) => v === undefined ? 'missing' : v)
  const buffers = await db.get(key(8), { valueEncoding: 'buffer' })
  const sync = db.getSync(key(1999))
  const many = await db.getMany([key(1), key(2)])
  await db.close()
  process.stdout.write(JSON.stringify({ gets, buffer: buffers.toString(), sync, many, pooled }) + '\n')
}

main().catch((err) => { console.error(err); process.exit(1) })
