'use strict'

// A get() that would wait on the disk (a block neither cached nor in pages the OS holds) must not
// wait on the JavaScript thread: it is retried on the pool. The child runs with every table page
// counted as not in memory (a test-only switch), so every table read takes that path.

const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'todb-cold-'))
after(() => fs.rmSync(root, { recursive: true, force: true }))

test('reads that need the disk go to the pool and return the right values', () => {
  const out = execFileSync(process.execPath, [path.join(__dirname, 'helpers', 'cold-reader.js'), path.join(root, 'db')], {
    env: { ...process.env, TODB_TEST_COLD_READS: '1' },
    encoding: 'utf8'
  })
  const seen = JSON.parse(out.trim().split('\n').pop())
  assert.deepEqual(seen.gets, [{ i: 7 }, { i: 999 }, { i: 1500 }, 'missing'])
  assert.equal(seen.buffer, JSON.stringify({ i: 8 }))
  assert.deepEqual(seen.sync, { i: 1999 })
  assert.deepEqual(seen.many, [{ i: 1 }, { i: 2 }])
  // Keys 7, 999 and 1500 each needed a block from the disk. (The missing key is ruled out by the
  // table's index in memory; key 8 usually finds its block cached by key 7's read, but not
  // always, so the count is a lower bound.)
  assert.ok(seen.pooled >= 3, `the reads that needed the disk went to the pool (${seen.pooled} times)`)
})
