'use strict'

// The stores that `npm run bench` and `npm run bench:scale` compare, by the short name used on the
// command line (--stores) and in the results, and the contract every store's adapter keeps.
//
// An adapter drives one store through that store's own public API, the way its users write it:
// bench/stores/level.js for the abstract-level stores (todb, classic-level, @nxtedition/rocksdb),
// bench/stores/lmdb.js for lmdb-js. bench/workloads.js owns the keys, the values, the orders and
// the clock; an adapter owns only the loop of calls inside each timed workload, so that what is
// timed is the store's API and nothing that one store gets and another does not.
//
// The contract, for an adapter made by create(name):
//   open(location, { sync, multithreading }) -> Promise<db>
//     sync: this database takes fillsync's durable writes (lmdb opens an env without noSync);
//     multithreading: other worker threads of this process open the same location (scale.js).
//   close(db) -> Promise
//   A workload is workload(db, w) -> Promise<number | undefined>, where w is
//   { n, key(i), value(i), depth, batchSize, seekLength, inFlight(n, depth, fn) } and i runs over
//   0..n-1; inFlight keeps depth calls of fn(i) awaited at once and resolves to how many of them
//   gave something other than undefined. Reads resolve to how many entries they found, so that the harness can check that
//   every store answered the same question:
//     fill (awaited puts, one at a time; fillseq and fillrandom differ only in w.key),
//     fillsync (awaited durable puts), fillbatch (w.batchSize puts per batch),
//     putconcurrent (w.depth puts in flight), readrandom, readconcurrent (w.depth in flight),
//     readmissing, readseq and readreverse (the whole store), seekrandom (w.n seeks, then
//     w.seekLength entries from each), readstream (the whole store), deleterandom.
//   compact(db, start, end) -> Promise, or null where the store has no such call.
//   multithreaded: whether open() accepts { multithreading: true }.

const fs = require('node:fs')
const path = require('node:path')

const STORES = {
  todb: { label: 'todb', adapter: './level', pkg: null },
  classic: { label: 'classic-level', adapter: './level', pkg: 'classic-level' },
  lmdb: { label: 'lmdb', adapter: './lmdb', pkg: 'lmdb' },
  rocksdb: { label: '@nxtedition/rocksdb', adapter: './level', pkg: '@nxtedition/rocksdb' }
}

const NAMES = Object.keys(STORES)

// Parses --stores: a comma-separated subset of NAMES, kept in NAMES's order; throws on a name
// that is not a store, so that a typo does not silently measure less.
function parseStores (list) {
  if (list === undefined) return NAMES
  const wanted = String(list).split(',').map((s) => s.trim()).filter(Boolean)
  for (const name of wanted) {
    if (!STORES[name]) throw new Error(`unknown store '${name}' (stores: ${NAMES.join(', ')})`)
  }
  return NAMES.filter((name) => wanted.includes(name))
}

function load (name) {
  if (!STORES[name]) throw new Error(`unknown store '${name}'`)
  return require(STORES[name].adapter).create(name)
}

// The installed version of the store's package (todb's own for todb), so that a table names
// exactly what it measured. Read from the file, since lmdb's "exports" hide its package.json.
function version (name) {
  const pkg = STORES[name].pkg
  if (!pkg) return require('../../package.json').version
  for (const dir of require.resolve.paths(pkg)) {
    const file = path.join(dir, pkg, 'package.json')
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')).version
  }
  return 'unknown'
}

const label = (name) => STORES[name].label

module.exports = { NAMES, parseStores, load, version, label }
