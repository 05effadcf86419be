'use strict'

// Processes and temp dirs for bench/server.js: installs the Debian tools it needs, starts the
// servers under test on loopback ports, runs the load generators with a time limit, and makes
// sure that every process it started is gone and every temp dir removed when the bench ends,
// however it ends.

const { spawn, spawnSync } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')

const HOST = '127.0.0.1'
const children = new Set()
const tempDirs = new Set()

const log = (msg) => process.stderr.write(msg + '\n')

// Set on a signal, so that the bench stops at once instead of recording every remaining run as
// failed against servers that are gone.
let interrupted = null
const checkInterrupted = () => {
  if (interrupted) throw new Error(`interrupted by ${interrupted}`)
}

function onPath (cmd) {
  return (process.env.PATH || '').split(':').some((dir) => {
    try {
      fs.accessSync(path.join(dir, cmd), fs.constants.X_OK)
      return true
    } catch {
      return false
    }
  })
}

// The package lists may be stale or absent on a fresh machine, so `apt-get update` is tried
// only when a plain install fails, as it costs a minute or more. Synchronous, so that Ctrl-C
// cannot make the bench walk away from a half-done dpkg run.
function ensureCommand (cmd, pkg) {
  if (onPath(cmd)) return
  log(`${cmd} is missing: apt-get install -y ${pkg}`)
  const apt = (...args) => spawnSync('apt-get', args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  }).status === 0
  if (!apt('install', '-y', pkg)) {
    if (!apt('update') || !apt('install', '-y', pkg)) throw new Error(`could not install ${pkg} (apt-get install needs root)`)
  }
  if (!onPath(cmd)) throw new Error(`${pkg} is installed but ${cmd} is not on PATH`)
}

function tempDir (prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
  tempDirs.add(dir)
  return dir
}

// Asks the kernel for a free port instead of using the well-known ones, which a server already
// running on this machine may hold.
function freePort () {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.on('error', reject)
    srv.listen(0, HOST, () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

// Keeps the last lines of a child's output, to show with the error when the child fails.
function captureTail (child) {
  let tail = ''
  const keep = (chunk) => { tail = (tail + chunk).slice(-8192) }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  return () => tail.trim().split('\n').slice(-20).join('\n')
}

// A child that could not be spawned at all may never emit 'exit', so 'error' without a pid ends
// it too; otherwise cleanup() would wait for it forever.
function track (child) {
  children.add(child)
  child.exited = new Promise((resolve) => {
    const done = (status) => {
      if (child.exitStatus !== undefined) return
      child.exitStatus = status
      children.delete(child)
      resolve()
    }
    child.once('exit', (code, signal) => done(signal || code))
    child.once('error', (err) => { if (child.pid === undefined) done(err.code || 'error') })
  })
  return child
}

function portOpen (port) {
  return new Promise((resolve) => {
    const sock = net.connect({ host: HOST, port })
    sock.once('connect', () => { sock.destroy(); resolve(true) })
    sock.once('error', () => { sock.destroy(); resolve(false) })
  })
}

// A server: started once, left running for the whole bench, asked to stop at the end.
async function startServer (name, cmd, args, ports, { readyMs = 30_000 } = {}) {
  checkInterrupted()
  const child = track(spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] }))
  const output = captureTail(child)
  let reported = false
  const server = {
    name,
    child,
    alive: () => child.exitStatus === undefined,
    // What a dead server printed goes with the first failure it causes, not with every one after.
    died: () => {
      const words = reported ? '' : output()
      reported = true
      return `${name} exited (${child.exitStatus})${words ? ':\n' + words : ''}`
    }
  }
  const spawnError = new Promise((resolve) => child.once('error', resolve))
  const deadline = Date.now() + readyMs
  for (const port of ports) {
    while (!(await portOpen(port))) {
      const err = await Promise.race([spawnError, new Promise((resolve) => setTimeout(resolve, 100))])
      if (err) throw new Error(`${name}: ${err.message}`)
      if (!server.alive()) throw new Error(`${name} exited (${child.exitStatus}) before it listened on ${port}:\n${output()}`)
      if (Date.now() > deadline) throw new Error(`${name} did not listen on ${HOST}:${port} within ${readyMs / 1000} s:\n${output()}`)
    }
  }
  return server
}

// A command that ends by itself: a load generator run against `server`, or a build. It is
// killed when it takes too long and, as redis-benchmark retries forever when its server is
// gone, when `server` exits. Resolves to its stdout.
function run (cmd, args, { server = null, timeoutMs = 300_000, showStderr = false, cwd } = {}) {
  return new Promise((resolve, reject) => {
    checkInterrupted()
    if (server && !server.alive()) return reject(new Error(`not run: ${server.died()}`))
    const child = track(spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', showStderr ? 'inherit' : 'pipe'] }))
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => { stdout += chunk })
    if (child.stderr) child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-8192) })
    let why = null
    const stop = (reason) => {
      if (why) return
      why = reason
      child.kill('SIGKILL')
    }
    const timer = setTimeout(() => stop(`timed out after ${timeoutMs / 1000} s`), timeoutMs)
    const onServerExit = () => stop(`during the run, ${server.died()}`)
    if (server) server.child.once('exit', onServerExit)
    child.once('error', (err) => stop(err.message))
    child.exited.then(() => {
      clearTimeout(timer)
      if (server) server.child.removeListener('exit', onServerExit)
      if (why) reject(new Error(`${cmd}: ${why}`))
      else if (child.exitStatus !== 0) reject(new Error(`${cmd} exited (${child.exitStatus})${stderr.trim() ? ': ' + stderr.trim() : ''}`))
      else resolve(stdout)
    })
  })
}

// SIGTERM first, so that todb gets to shut down as it would in use; SIGKILL for any process
// still there after a few seconds.
let cleaning = null
function cleanup () {
  cleaning = cleaning || (async () => {
    const running = [...children]
    for (const child of running) child.kill('SIGTERM')
    const late = setTimeout(() => { for (const child of children) child.kill('SIGKILL') }, 5000)
    await Promise.all(running.map((child) => child.exited))
    clearTimeout(late)
    removeTempDirs()
  })()
  return cleaning
}

function removeTempDirs () {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true })
  tempDirs.clear()
}

// The last resort when the process exits without cleanup() having finished, e.g. on an
// exception thrown from a callback: no waiting is possible there, so SIGKILL.
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL')
  removeTempDirs()
})

for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]]) {
  process.on(signal, () => {
    if (interrupted) return
    interrupted = signal
    log(`\n${signal}: stopping the servers`)
    cleanup().finally(() => process.exit(code))
  })
}

module.exports = { HOST, log, onPath, ensureCommand, tempDir, freePort, startServer, run, checkInterrupted, cleanup }
