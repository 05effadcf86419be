'use strict'

// The database directory is locked while open: a second instance (same
// process or another process) fails to open with LEVEL_DATABASE_NOT_OPEN and
// cause LEVEL_LOCKED; the lock is free after close() and after the holder is
// killed with SIGKILL.

const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawn } = require('node:child_process')

const { Todb } = require('..')
const { scratch } = require('./helpers/util.js')

const CHILD = path.join(__dirname, 'helpers', 'lock-child.js')

const { children, location } = scratch()

function assertLocked (err) {
  assert.ok(err instanceof Error, 'rejects with an Error')
  assert.equal(err.code, 'LEVEL_DATABASE_NOT_OPEN')
  assert.ok(err.cause, 'error has a cause')
  assert.equal(err.cause.code, 'LEVEL_LOCKED')
  return true
}

// Runs lock-child.js to completion; resolves with exit code, signal and the
// parsed JSON line it printed.
function runChild (loc, mode = 'try') {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, loc, mode], { stdio: ['ignore', 'pipe', 'pipe'] })
    children.add(child)
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (s) => { stdout += s })
    child.stderr.setEncoding('utf8').on('data', (s) => { stderr += s })
    child.on('error', reject)
    child.on('close', (code, signal) => {
      children.delete(child)
      let result = null
      try {
        result = JSON.parse(stdout.trim().split('\n').pop())
      } catch {
        return reject(new Error(`child printed no JSON (code ${code}, signal ${signal}): ${stdout}\n${stderr}`))
      }
      resolve({ code, signal, result, stderr })
    })
  })
}

// Starts a child that opens the database and keeps it open.
function startHolder (loc) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, loc, 'hold'], { stdio: ['ignore', 'pipe', 'pipe'] })
    children.add(child)
    let stdout = ''
    let stderr = ''
    const exited = new Promise((resolve) => child.on('close', (code, signal) => {
      children.delete(child)
      resolve({ code, signal })
    }))
    child.stderr.setEncoding('utf8').on('data', (s) => { stderr += s })
    child.stdout.setEncoding('utf8').on('data', (s) => {
      stdout += s
      if (!stdout.includes('\n')) return
      const result = JSON.parse(stdout.split('\n')[0])
      if (result.ready) resolve({ child, exited, result })
      else reject(new Error('holder could not open: ' + stdout))
    })
    child.on('error', reject)
    exited.then(({ code, signal }) => reject(new Error(`holder exited early (${code}, ${signal}): ${stderr}`)))
  })
}

test('a second instance in the same process cannot open a locked directory', async () => {
  const loc = location()
  const db1 = new Todb(loc)
  await db1.open()
  await db1.put('a', 'from db1')

  const db2 = new Todb(loc)
  await assert.rejects(db2.open(), assertLocked)
  assert.equal(db2.status, 'closed')
  await assert.rejects(db2.get('a'), { code: 'LEVEL_DATABASE_NOT_OPEN' })

  // The failed attempt did not disturb the holder.
  assert.equal(db1.status, 'open')
  await db1.put('b', 'still writable')
  assert.equal(await db1.get('a'), 'from db1')

  // Lock is free after close(): the same (previously failed) instance opens.
  await db1.close()
  await db2.open()
  assert.equal(db2.status, 'open')
  assert.equal(await db2.get('b'), 'still writable')

  // Roles reversed: now db1 is locked out.
  await assert.rejects(db1.open(), assertLocked)
  assert.equal(db1.status, 'closed')
  await db2.close()
})

test('databases in different directories can be open at the same time', async () => {
  const a = new Todb(location())
  const b = new Todb(location())
  await a.open()
  await b.open()
  await a.put('k', 'a')
  await b.put('k', 'b')
  assert.equal(await a.get('k'), 'a')
  assert.equal(await b.get('k'), 'b')
  await a.close()
  await b.close()
})

test('the lock is free after close(): open/close cycles with fresh instances and the same instance', async () => {
  const loc = location()
  for (let i = 0; i < 5; i++) {
    const db = new Todb(loc)
    await db.open()
    await db.put('round', String(i))
    await db.close()
  }
  const db = new Todb(loc)
  for (let i = 0; i < 3; i++) {
    await db.open()
    assert.equal(await db.get('round'), i === 0 ? '4' : 'again')
    await db.put('round', 'again')
    await db.close()
  }
})

test('another process gets LEVEL_DATABASE_NOT_OPEN with cause LEVEL_LOCKED, and can open after close()', async () => {
  const loc = location()
  const db = new Todb(loc)
  await db.open()
  await db.put('written-by-parent', 'hello child')

  const locked = await runChild(loc)
  assert.equal(locked.code, 0, 'child exits with code 0: ' + locked.stderr)
  assert.equal(locked.signal, null, 'child was not killed by a signal')
  assert.equal(locked.result.opened, false, 'child could not open')
  assert.equal(locked.result.code, 'LEVEL_DATABASE_NOT_OPEN')
  assert.equal(locked.result.causeCode, 'LEVEL_LOCKED')

  // The parent is unaffected by the child's attempt.
  assert.equal(await db.get('written-by-parent'), 'hello child')
  await db.close()

  const free = await runChild(loc)
  assert.equal(free.code, 0, free.stderr)
  assert.equal(free.signal, null)
  assert.deepEqual(free.result, { opened: true, value: 'hello child' })

  // The child's write and its clean close are visible to the parent.
  await db.open()
  assert.equal(await db.get('written-by-child'), 'yes')
  await db.close()
})

test('a process holding the lock that is killed with SIGKILL does not leave the lock held', async () => {
  const loc = location()
  const { child, exited, result } = await startHolder(loc)
  assert.equal(result.pid, child.pid)

  // While the holder lives, the directory is locked for this process and others.
  const db = new Todb(loc)
  await assert.rejects(db.open(), assertLocked)
  const other = await runChild(loc)
  assert.equal(other.code, 0, other.stderr)
  assert.equal(other.result.code, 'LEVEL_DATABASE_NOT_OPEN')
  assert.equal(other.result.causeCode, 'LEVEL_LOCKED')

  assert.equal(child.kill('SIGKILL'), true)
  const { code, signal } = await exited
  assert.equal(code, null)
  assert.equal(signal, 'SIGKILL')

  // The lock died with the process; the acknowledged write survived.
  await db.open()
  assert.equal(db.status, 'open')
  assert.equal(await db.get('held-by-child'), String(child.pid))
  await db.close()

  const afterwards = await runChild(loc)
  assert.equal(afterwards.code, 0, afterwards.stderr)
  assert.equal(afterwards.result.opened, true)
})
