'use strict'

// What every benchmark pass feeds the stores, shared by bench/workloads.js and
// bench/scale-pass.js so that the single-thread and the multi-thread figures measure the same
// operations: the keys, the values, random orders and the driver that keeps calls in flight.
//
// Keys are 16-byte zero-padded decimal strings; values are 100 bytes, random and about half
// compressible, as in LevelDB's db_bench. Each process (and each worker thread) draws its own
// 1,024 values, so that no store is handed bytes another store's pass already touched.

const key = (i) => String(i).padStart(16, '0')

const values = []
for (let v = 0; v < 1024; v++) {
  const buf = Buffer.alloc(100, 0x61 + (v % 26))
  for (let j = 50; j < 100; j++) buf[j] = Math.floor(Math.random() * 256)
  values.push(buf)
}
const value = (i) => values[i & 1023]

// A random permutation of 0..n-1; with shared, in a SharedArrayBuffer that worker threads see
// without a copy.
function shuffled (n, { shared = false } = {}) {
  const order = new Uint32Array(shared ? new SharedArrayBuffer(4 * n) : n)
  for (let i = 0; i < n; i++) order[i] = i
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    const t = order[i]; order[i] = order[j]; order[j] = t
  }
  return order
}

// Keeps `limit` calls of fn awaited at once until n have been made; resolves to how many gave
// something other than undefined (for reads, how many found their key). fn may return a plain
// value (lmdb's synchronous get), which is awaited all the same.
async function inFlight (n, limit, fn) {
  let next = 0
  let defined = 0
  async function worker () {
    while (next < n) if (await fn(next++) !== undefined) defined++
  }
  await Promise.all(Array.from({ length: limit }, worker))
  return defined
}

module.exports = { key, value, shuffled, inFlight }
