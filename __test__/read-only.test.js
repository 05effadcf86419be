'use strict'

// readOnly opens beside a writer in another process (Level/classic-level#64): the writer, a
// child (helpers/ro-writer.js) with tiny buffers that flushes and compacts all the time, writes
// batches that each overwrite one group of keys with the batch's id and reports each
// acknowledged id. Here, a read-only instance refreshes in a loop and checks after each refresh
// that the state is a prefix of the batches holding every batch acknowledged before the refresh
// began, each batch whole, and that iterators made refreshes ago still read their own state.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { spawn } = require('node:child_process')

const { Todb } = require('..')
const { scratch, viaCallback } = require('./helpers/util.js')

const WRITER = path.join(__dirname, 'helpers', 'ro-writer.js')
const GROUPS = 16
const KEYS = 8
const WRITER_SECONDS = 12

const { children, location } = scratch()

// Starts the writer; resolves once its first batch is written, with a handle whose `acked` is
// the newest batch id it has reported and whose `done` settles when it exits.
function startWriter (loc, seconds) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, loc, String(GROUPS), String(KEYS), String(seconds)], {
      stdio: ['pipe', 'pipe', 'pipe']
    })
    children.add(child)
    const writer = { child, acked: 0, finished: false, stderr: '' }
    writer.done = new Promise((resolve) => child.on('close', (code, signal) => {
      children.delete(child)
      writer.finished = true
      resolve({ code, signal })
    }))
    let pending = ''
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      pending += chunk
      const lines = pending.split('\n')
      pending = lines.pop()
      for (const line of lines) {
        if (line === 'ready') resolve(writer)
        else if (/^\d+$/.test(line)) writer.acked = Math.max(writer.acked, Number(line))
      }
    })
    child.stderr.setEncoding('utf8').on('data', (s) => { writer.stderr += s })
    child.on('error', reject)
    writer.done.then(({ code }) => reject(new Error(`writer exited (${code}) before it was ready: ${writer.stderr}`)))
  })
}

// Checks a state read after batch `acked` was acknowledged; returns the newest batch it holds.
function check (entries, acked, what) {
  const groups = new Map()
  for (const [key, value] of entries) {
    const group = Number(key.slice(1, 3))
    if (!groups.has(group)) groups.set(group, [])
    groups.get(group).push(Number(value.slice(0, 10)))
  }
  for (const [group, ids] of groups) {
    assert.ok(ids.length === KEYS && ids.every((id) => id === ids[0]), `${what}: torn group ${group}: ${ids}`)
  }
  const newest = Math.max(0, ...[...groups.values()].map((ids) => ids[0]))
  assert.ok(newest >= acked, `${what}: batch ${acked} was acknowledged before, the newest seen is ${newest}`)
  for (let group = 0; group < GROUPS; group++) {
    // The newest batch of this group at or before `newest`: a prefix holds exactly it.
    const want = newest >= group ? newest - ((newest - group) % GROUPS) : undefined
    const ids = groups.get(group)
    assert.equal(ids && ids[0], want, `${what}: group ${group} is not a prefix up to ${newest}`)
  }
  return newest
}

function tablesOf (db) {
  const listing = db.getProperty('leveldb.sstables')
  return [...listing.matchAll(/^ (\d+):/gm)].map((m) => Number(m[1]))
}

function assertReadOnly (err) {
  assert.equal(err.code, 'LEVEL_READONLY', `${err.code}: ${err.message}`)
  assert.match(err.message, /read-only/)
  return true
}

test('refreshes keep up with a writer in another process: whole batches, every acknowledged one', { timeout: 50000 }, async () => {
  const loc = location()
  const writer = await startWriter(loc, WRITER_SECONDS)

  await assert.rejects(new Todb(loc).open(), (err) => {
    assert.equal(err.code, 'LEVEL_DATABASE_NOT_OPEN')
    assert.equal(err.cause && err.cause.code, 'LEVEL_LOCKED')
    return true
  }, 'a normal open still finds the writer\'s LOCK')
  const db = new Todb(loc, { readOnly: true })
  await db.open()
  check(await db.iterator().all(), 0, 'at open')

  const seen = new Set()
  let refreshes = 0
  let heldChecked = 0
  let held = null
  while (!writer.finished) {
    const acked = writer.acked
    await db.refresh()
    refreshes++
    for (const table of tablesOf(db)) seen.add(table)
    const newest = check(await db.iterator().all(), acked, `refresh ${refreshes}`)
    if (held === null) {
      // Made now, read a few entries now and the rest five refreshes later, while the writer
      // compacts its tables away.
      const it = db.iterator()
      const first = await it.nextv(3)
      held = { it, first, acked, newest, at: refreshes }
    } else if (refreshes - held.at >= 5) {
      const rest = await held.it.all()
      const got = check(held.first.concat(rest), held.acked, `iterator from refresh ${held.at}`)
      assert.equal(got, held.newest, 'an iterator keeps the state it was made on')
      heldChecked++
      held = null
    }
  }
  if (held !== null) await held.it.close()
  const { code } = await writer.done
  assert.equal(code, 0, writer.stderr)

  // The writer closed: one last refresh sees everything it acknowledged.
  await db.refresh()
  check(await db.iterator().all(), writer.acked, 'after the writer closed')
  const live = new Set(tablesOf(db))
  const gone = [...seen].filter((t) => !live.has(t)).length
  console.log(`read-only: ${refreshes} refreshes against ${writer.acked} batches; ${gone} of the ${seen.size} ` +
    `tables seen were compacted away; ${heldChecked} iterators read across 5 refreshes`)
  assert.ok(refreshes >= 20, `refreshes: ${refreshes}`)
  assert.ok(gone >= 10, `tables compacted away under the reader: ${gone}`)
  assert.ok(heldChecked >= 2, `held iterators checked: ${heldChecked}`)
  await db.close()
})

test('writes on a readOnly database fail with LEVEL_READONLY; reads, snapshots and refresh work', { timeout: 20000 }, async () => {
  const loc = location()
  const owner = new Todb(loc)
  await owner.open()
  await owner.batch([{ type: 'put', key: 'a', value: '1' }, { type: 'put', key: 'b', value: '2' }])

  const db = new Todb(loc, { readOnly: true })
  await db.open()
  await assert.rejects(db.put('c', '3'), assertReadOnly)
  await assert.rejects(db.put('c', '3', { sync: true }), assertReadOnly)
  await assert.rejects(db.del('a'), assertReadOnly)
  await assert.rejects(db.batch([{ type: 'put', key: 'c', value: '3' }]), assertReadOnly)
  await assert.rejects(db.batch([{ type: 'del', key: 'a' }], { sync: true }), assertReadOnly)
  await assert.rejects(db.batch().put('c', '3').write(), assertReadOnly)
  await assert.rejects(db.clear(), assertReadOnly)
  await assert.rejects(db.compactRange('a', 'z'), assertReadOnly)
  await assert.rejects(db.serve({ port: 0 }), assertReadOnly)
  const [err] = await viaCallback((cb) => db.put('c', '3', cb))
  assertReadOnly(err)

  assert.equal(await db.get('a'), '1')
  assert.deepEqual(await db.getMany(['a', 'b', 'c']), ['1', '2', undefined])
  assert.equal(db.getSync('b'), '2')
  const snapshot = db.snapshot()
  await owner.put('a', 'new')
  await owner.del('b')
  assert.equal(await db.get('a'), '1', 'nothing changes before a refresh')
  assert.equal((await viaCallback((cb) => db.refresh(cb)))[0], null)
  assert.equal(await db.get('a'), 'new')
  assert.equal(await db.get('b'), undefined)
  assert.equal(await db.get('a', { snapshot }), '1', 'a snapshot keeps its state')
  assert.deepEqual(await db.keys({ snapshot }).all(), ['a', 'b'])
  await snapshot.close()
  assert.ok(await db.approximateSize('a', 'z') >= 0)
  await db.close()
  await assert.rejects(db.refresh(), (e) => e.code === 'LEVEL_DATABASE_NOT_OPEN')

  await owner.refresh() // a writer has nothing to catch up with
  await owner.close()
})

test('readOnly never creates a database', async () => {
  const loc = location()
  const db = new Todb(loc, { readOnly: true, createIfMissing: true })
  await assert.rejects(db.open(), (err) => {
    assert.equal(err.code, 'LEVEL_DATABASE_NOT_OPEN')
    assert.match(err.cause && err.cause.message, /does not exist \(a read-only open never creates a database\)/)
    return true
  })
  assert.equal(fs.existsSync(loc), false, 'nothing was created')
  fs.mkdirSync(loc)
  await assert.rejects(new Todb(loc, { readOnly: true }).open(), (err) => err.code === 'LEVEL_DATABASE_NOT_OPEN')
  assert.deepEqual(fs.readdirSync(loc), [], 'an empty directory stays empty')
})
