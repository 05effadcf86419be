'use strict'

// `todb serve` as a user runs it: a child process, its start and stop lines, a clean shutdown on
// SIGTERM, and every write acknowledged over the network present after a SIGKILL.

const { test, after } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawn } = require('node:child_process')
const Redis = require('ioredis')
const { Todb } = require('..')
const { tmpDir, rmDir } = require('./helpers/util.js')

const BIN = path.join(__dirname, '..', 'bin', 'todb.js')
const dirs = []
after(() => { for (const d of dirs) rmDir(d) })

// Starts `todb serve` and resolves once it says where it listens.
function serve (args) {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`todb serve did not start: ${out}`)), 10000)
    child.stdout.on('data', (d) => {
      out += d
      const m = out.match(/redis listening on 127\.0\.0\.1:(\d+)/)
      if (m) { clearTimeout(timer); resolve(Number(m[1])) }
    })
    child.stderr.on('data', (d) => { out += d })
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`todb serve exited ${code}: ${out}`)) })
  })
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, out })))
  return { child, ready, exited, output: () => out }
}

test('writes acknowledged over the network survive SIGKILL of todb serve', async () => {
  const dir = tmpDir()
  dirs.push(dir)
  const s = serve([dir, '--port', '0'])
  const port = await s.ready
  const r = new Redis({ port, maxRetriesPerRequest: 0, retryStrategy: () => null })
  r.on('error', () => {})
  const acked = []
  let killed = false
  const writing = (async () => {
    for (let i = 0; !killed; i++) {
      try {
        await r.set(`key:${i}`, `value:${i}`)
        acked.push(i)
        if (i % 10 === 0) await r.multi().incr('count').set(`multi:${i}`, 'x').exec()
      } catch {
        return
      }
    }
  })()
  await new Promise((resolve) => setTimeout(resolve, 400))
  s.child.kill('SIGKILL')
  const { signal } = await s.exited
  killed = true
  await writing
  r.disconnect()
  assert.equal(signal, 'SIGKILL')
  assert.ok(acked.length > 50, `acknowledged ${acked.length} writes before the kill`)

  const db = new Todb(dir)
  await db.open()
  try {
    for (const i of acked) assert.equal(await db.get(`key:${i}`), `value:${i}`, `acknowledged key:${i}`)
    const multis = (await db.keys({ gte: 'multi:', lt: 'multi;' }).all()).length
    const count = Number(await db.get('count') ?? 0)
    assert.equal(count, multis, 'each transaction is there whole or not at all')
  } finally {
    await db.close()
  }
})

test('SIGTERM closes todb serve cleanly, logging each stop', async () => {
  const dir = tmpDir()
  dirs.push(dir)
  const s = serve([dir, '--port', '0', '--memcache-port', '0'])
  const port = await s.ready
  const r = new Redis({ port })
  await r.set('kept', 'yes')
  r.disconnect()
  s.child.kill('SIGTERM')
  const { code, out } = await s.exited
  assert.equal(code, 0, out)
  assert.match(out, /redis stopping \(SIGTERM\)\n/)
  assert.match(out, /memcache listening on 127\.0\.0\.1:\d+/)
  assert.match(out, /todb: closed\n$/)
  const db = new Todb(dir)
  assert.equal(await db.get('kept'), 'yes')
  await db.close()
})

test('bad command lines get a clear message and exit code 2', async () => {
  for (const args of [['--port', 'abc', 'x'], [], ['a', 'b'], ['x', '--cache-size', '1.5'], ['x', '--cache-size', '0']]) {
    const s = serve(args)
    s.ready.catch(() => {})
    const { code, out } = await s.exited
    assert.equal(code, 2, out)
    assert.match(out, /Usage: todb serve/)
    if (args.includes('--cache-size')) assert.match(out, /--cache-size takes a whole number of MiB/)
  }
})
