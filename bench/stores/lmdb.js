'use strict'

// The benchmark adapter for lmdb-js (the `lmdb` package), driven through its own API the way
// its users write it, not through an abstract-level shim. The contract is in
// bench/stores/index.js.
//
// How it is opened: open(location, { noSync: true, encoding: 'binary' }). noSync, because the
// other stores' ordinary writes reach the OS but are not fsynced either. encoding 'binary' stores
// the 100-byte Buffer values as they are and returns Buffers, so that nothing is msgpack-encoded
// (lmdb's default value encoding) and every store moves the same bytes. Keys are the same
// 16-byte decimal strings as for the other stores, under lmdb's default key encoding
// (ordered-binary), which orders them as the others do; readseq's and seekrandom's counts check
// that. No `cache` option: lmdb's object cache is off by default, and the other stores' caches
// are their defaults too. No compression, which is lmdb's default.
//
// How each workload differs from the abstract-level stores, and why:
// - Reads are synchronous in lmdb-js (db.get returns the value), so readrandom and readmissing
//   are plain loops with no await. readconcurrent keeps the same 64 callers in flight through
//   the harness's inFlight, each of which gets synchronously: the await per call is the
//   harness's, paid by every store alike.
// - Writes are db.put / db.remove, whose promises settle when lmdb's write thread has committed
//   the transaction that the writes of one event turn share.
// - fillbatch is db.batch(callback) with 1,000 db.put calls inside: one asynchronous
//   transaction per batch, the call lmdb's documentation gives for writing many entries at once.
// - fillsync opens a second env without noSync (lmdb's default, overlappingSync on Linux), where
//   an awaited db.put settles only after the commit is flushed: measured here, it runs at the
//   same rate as awaiting db.flushed after each put.
// - readseq, readreverse and seekrandom use db.getRange({ start, reverse, limit }), a
//   synchronous iterable over a cursor. lmdb has no Node stream, so readstream iterates getRange
//   too, the nearest thing its users write; it measures the same thing as readseq.
// - LMDB is a B+tree that does not compact: compact is null and that measure is n/a.
// - Peak RSS counts the pages of the memory-mapped file that the process touched, which is how
//   lmdb reads: its cache is the OS page cache, mapped.
// - Many threads: each worker thread calls open() on the same path and lmdb-js shares one env.

const { open } = require('lmdb')

function create () {
  return {
    multithreaded: true,

    async open (location, { sync = false } = {}) {
      return open(location, sync ? { encoding: 'binary' } : { noSync: true, encoding: 'binary' })
    },

    close: (db) => db.close(),

    async fill (db, w) {
      for (let i = 0; i < w.n; i++) await db.put(w.key(i), w.value(i))
    },

    async fillsync (db, w) {
      for (let i = 0; i < w.n; i++) await db.put(w.key(i), w.value(i))
    },

    async fillbatch (db, w) {
      for (let b = 0; b < w.n; b += w.batchSize) {
        const end = Math.min(w.n, b + w.batchSize)
        await db.batch(() => {
          for (let i = b; i < end; i++) db.put(w.key(i), w.value(i))
        })
      }
    },

    putconcurrent: (db, w) => w.inFlight(w.n, w.depth, (i) => db.put(w.key(i), w.value(i))),

    async readrandom (db, w) {
      let found = 0
      for (let i = 0; i < w.n; i++) if (db.get(w.key(i)) !== undefined) found++
      return found
    },

    readconcurrent: (db, w) => w.inFlight(w.n, w.depth, (i) => db.get(w.key(i))),

    async readmissing (db, w) {
      let found = 0
      for (let i = 0; i < w.n; i++) if (db.get(w.key(i)) !== undefined) found++
      return found
    },

    readseq: async (db) => scan(db.getRange()),

    readreverse: async (db) => scan(db.getRange({ reverse: true })),

    async seekrandom (db, w) {
      let found = 0
      for (let i = 0; i < w.n; i++) found += scan(db.getRange({ start: w.key(i), limit: w.seekLength }))
      return found
    },

    readstream: async (db) => scan(db.getRange()),

    async deleterandom (db, w) {
      for (let i = 0; i < w.n; i++) await db.remove(w.key(i))
    },

    compact: null
  }
}

function scan (range) {
  let found = 0
  for (const entry of range) if (entry.value !== undefined) found++
  return found
}

module.exports = { create }
