'use strict'

// The benchmark adapter for the stores with an abstract-level API: todb, classic-level 3 and
// @nxtedition/rocksdb. All three are driven by the same calls, the ones a classic-level user
// writes: awaited db.put / db.get / db.del, db.batch(array), db.iterator() with seek() and
// nextv(), and level-read-stream's EntryStream. The contract is in bench/stores/index.js.
//
// Where @nxtedition/rocksdb is driven differently it is because its API differs, not because the
// benchmark asks it less:
// - It implements abstract-level 1, whose get() rejects a missing key with LEVEL_NOT_FOUND
//   (abstract-level 3 resolves undefined), so readmissing catches that error, as its users must.
// - Its put() writes through a chained batch without the put's options, so { sync: true } on a
//   put does not sync (measured here: such puts ran at 10,000-14,000/s, synced batches at
//   2,400/s). fillsync writes a one-entry db.batch(ops, { sync: true }), its call that syncs.
// - It has no compactRange(), so the compaction measure is n/a.
// - A second thread cannot open it at the same location (its only sharing is a raw native
//   handle, which crashed the process here when a worker closed it), so bench/scale.js skips it.

const { EntryStream } = require('level-read-stream')

const CONSTRUCTORS = {
  todb: () => require('../..').Todb,
  classic: () => require('classic-level').ClassicLevel,
  rocksdb: () => require('@nxtedition/rocksdb').RocksLevel
}

function create (name) {
  const Ctor = CONSTRUCTORS[name]()
  const throwsNotFound = name === 'rocksdb'
  const dropsPutOptions = name === 'rocksdb'

  return {
    multithreaded: name !== 'rocksdb',

    // sync is a per-write option in this API (fillsync passes { sync: true } to put), so the
    // database it writes to opens like any other.
    async open (location, { multithreading = false } = {}) {
      if (multithreading && name === 'rocksdb') throw new Error('@nxtedition/rocksdb: no multithreading')
      const db = new Ctor(location, { valueEncoding: 'buffer', ...(multithreading ? { multithreading: true } : {}) })
      await db.open()
      return db
    },

    close: (db) => db.close(),

    async fill (db, w) {
      for (let i = 0; i < w.n; i++) await db.put(w.key(i), w.value(i))
    },

    fillsync: dropsPutOptions
      ? async (db, w) => {
        for (let i = 0; i < w.n; i++) await db.batch([{ type: 'put', key: w.key(i), value: w.value(i) }], { sync: true })
      }
      : async (db, w) => {
        for (let i = 0; i < w.n; i++) await db.put(w.key(i), w.value(i), { sync: true })
      },

    async fillbatch (db, w) {
      for (let b = 0; b < w.n; b += w.batchSize) {
        const ops = []
        for (let i = b; i < Math.min(w.n, b + w.batchSize); i++) ops.push({ type: 'put', key: w.key(i), value: w.value(i) })
        await db.batch(ops)
      }
    },

    putconcurrent: (db, w) => w.inFlight(w.n, w.depth, (i) => db.put(w.key(i), w.value(i))),

    async readrandom (db, w) {
      let found = 0
      for (let i = 0; i < w.n; i++) if (await db.get(w.key(i)) !== undefined) found++
      return found
    },

    readconcurrent: (db, w) => w.inFlight(w.n, w.depth, (i) => db.get(w.key(i))),

    readmissing: throwsNotFound
      ? async (db, w) => {
        let found = 0
        for (let i = 0; i < w.n; i++) {
          try {
            await db.get(w.key(i))
            found++
          } catch (err) {
            if (err.code !== 'LEVEL_NOT_FOUND') throw err
          }
        }
        return found
      }
      : async (db, w) => {
        let found = 0
        for (let i = 0; i < w.n; i++) if (await db.get(w.key(i)) !== undefined) found++
        return found
      },

    readseq: (db) => scan(db.iterator()),

    readreverse: (db) => scan(db.iterator({ reverse: true })),

    // One iterator for all the seeks, as a classic-level user keeps one open for many lookups.
    async seekrandom (db, w) {
      const it = db.iterator()
      let found = 0
      try {
        for (let i = 0; i < w.n; i++) {
          it.seek(w.key(i))
          found += (await it.nextv(w.seekLength)).length
        }
      } finally {
        await it.close()
      }
      return found
    },

    readstream: (db) => new Promise((resolve, reject) => {
      let found = 0
      new EntryStream(db).on('data', () => { found++ }).on('end', () => resolve(found)).on('error', reject)
    }),

    async deleterandom (db, w) {
      for (let i = 0; i < w.n; i++) await db.del(w.key(i))
    },

    compact: name === 'rocksdb' ? null : (db, start, end) => db.compactRange(start, end)
  }
}

async function scan (it) {
  let found = 0
  for await (const entry of it) if (entry !== undefined) found++
  return found
}

module.exports = { create }
