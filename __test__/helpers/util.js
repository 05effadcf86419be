'use strict'

// Shared utilities for the todb test suites. Not a test file itself.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

function tmpDir () {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'todb-'))
}

function rmDir (dir) {
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 })
}

// For a test file whose tests start child processes: `location()` gives a fresh database path
// under one temp dir made before the file's tests, and whatever is still in `children` when they
// end is SIGKILLed before that dir is removed, so a failed test leaves no process behind. Call it
// at the top level of the file (it registers node:test's before/after hooks).
function scratch () {
  const { before, after } = require('node:test')
  let root
  let seq = 0
  const children = new Set()
  before(() => { root = tmpDir() })
  after(() => {
    for (const child of children) child.kill('SIGKILL')
    if (root) rmDir(root)
  })
  return { children, location: () => path.join(root, 'db' + seq++) }
}

// Calls `invoke(callback)` and resolves with the arguments the callback got.
// Rejects if the method throws, returns anything but undefined, calls back
// synchronously (before the method returned), calls back more than once, or
// never calls back.
function viaCallback (invoke, { timeout = 20000 } = {}) {
  return new Promise((resolve, reject) => {
    let returned = false
    let calls = 0
    const timer = setTimeout(() => {
      reject(new Error(`callback was not called within ${timeout} ms`))
    }, timeout)

    const callback = function (...args) {
      calls++
      if (calls !== 1) return
      const sync = !returned
      // Give a second (erroneous) call a chance to happen before settling.
      setImmediate(() => {
        clearTimeout(timer)
        if (sync) return reject(new Error('callback was called synchronously'))
        if (calls !== 1) return reject(new Error(`callback was called ${calls} times`))
        resolve(args)
      })
    }

    let ret
    try {
      ret = invoke(callback)
    } catch (err) {
      clearTimeout(timer)
      reject(new Error(`method threw instead of calling back: ${err && err.message}`, { cause: err }))
      return
    }
    returned = true

    if (ret !== undefined) {
      clearTimeout(timer)
      if (ret && typeof ret.then === 'function') ret.then(() => {}, () => {})
      reject(new Error(`method called with a callback returned ${Object.prototype.toString.call(ret)} instead of undefined`))
    }
  })
}

// Collects everything a readable stream emits; rejects on 'error'.
function collect (stream) {
  return new Promise((resolve, reject) => {
    const items = []
    stream.on('data', (item) => items.push(item))
    stream.on('error', reject)
    stream.on('end', () => resolve(items))
  })
}

// Wraps db.attachResource / db.detachResource (public abstract-level methods)
// to count the resources (iterators) a database has open.
function trackResources (db) {
  const open = new Set()
  let attached = 0
  const origAttach = db.attachResource
  const origDetach = db.detachResource
  db.attachResource = function (resource) {
    attached++
    open.add(resource)
    return origAttach.call(this, resource)
  }
  db.detachResource = function (resource) {
    open.delete(resource)
    return origDetach.call(this, resource)
  }
  return {
    get attached () { return attached },
    get open () { return open.size }
  }
}

function pad (n, width) {
  return String(n).padStart(width, '0')
}

// Small deterministic PRNG (mulberry32).
function prng (seed) {
  let a = seed >>> 0
  return function () {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function randomBytes (rand, length) {
  const buf = Buffer.alloc(length)
  for (let i = 0; i < length; i++) buf[i] = Math.floor(rand() * 256)
  return buf
}

module.exports = { tmpDir, rmDir, scratch, viaCallback, collect, trackResources, pad, prng, randomBytes }
