'use strict'

// The memcache front door, driven by a real client (the `memcached` package, text protocol) and
// by a raw socket as a person types in telnet: storage commands, flags, cas, counters, the
// one-line `set`, the `watch` change feed (network and JavaScript writes), authentication and
// limits.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')
const { promisify } = require('node:util')
const Memcached = require('memcached')
const { Todb } = require('..')
const { tmpDir, rmDir } = require('./helpers/util.js')

const dirs = []
let db, server, port

function raw (bytes, { ms = 400, p = port } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(p, '127.0.0.1')
    const chunks = []
    sock.on('data', (d) => chunks.push(d))
    sock.on('error', reject)
    let closed = false
    sock.on('close', () => { closed = true; clearTimeout(timer); resolve({ text: Buffer.concat(chunks).toString('latin1'), closed }) })
    const timer = setTimeout(() => { sock.destroy(); resolve({ text: Buffer.concat(chunks).toString('latin1'), closed }) }, ms)
    sock.write(bytes)
  })
}

function client () {
  const mc = new Memcached(`127.0.0.1:${port}`, { retries: 0, timeout: 2000, poolSize: 4 })
  for (const m of ['get', 'gets', 'getMulti', 'set', 'add', 'replace', 'append', 'prepend', 'cas', 'del', 'incr', 'decr', 'touch', 'flush']) {
    mc[m + 'P'] = promisify(mc[m].bind(mc))
  }
  return mc
}

before(async () => {
  const dir = tmpDir()
  dirs.push(dir)
  db = new Todb(dir)
  server = await db.serve({ port: 0, protocol: 'memcache', maxItemSize: 64 * 1024 })
  port = server.address().port
})

after(async () => {
  await db.close()
  for (const d of dirs) rmDir(d)
})

test('a real client: set, get, add, replace, append, prepend, del, getMulti, flags', async () => {
  const mc = client()
  try {
    assert.equal(await mc.setP('mc:a', 'hello', 0), true)
    assert.equal(await mc.getP('mc:a'), 'hello')
    assert.equal(await db.get('mc:a'), 'hello', 'JavaScript reads the value as stored')
    assert.equal(await mc.addP('mc:a', 'x', 0).catch(() => false), false)
    assert.equal(await mc.addP('mc:b', 'bee', 0), true)
    assert.equal(await mc.replaceP('mc:nope', 'x', 0).catch(() => false), false)
    assert.equal(await mc.replaceP('mc:b', 'B', 0), true)
    assert.equal(await mc.appendP('mc:a', '!'), true)
    assert.equal(await mc.prependP('mc:a', '>'), true)
    assert.equal(await mc.getP('mc:a'), '>hello!')
    assert.deepEqual(await mc.getMultiP(['mc:a', 'mc:b', 'mc:missing']), { 'mc:a': '>hello!', 'mc:b': 'B' })
    // The client marks JSON with a flag: it must come back for the object to be rebuilt.
    await mc.setP('mc:obj', { n: 1, s: 'x' }, 0)
    assert.deepEqual(await mc.getP('mc:obj'), { n: 1, s: 'x' })
    await mc.setP('mc:obj', 'plain', 0)
    assert.equal(await mc.getP('mc:obj'), 'plain', 'flags 0 replace the old flags')
    assert.equal(await mc.delP('mc:b'), true)
    assert.equal(await mc.getP('mc:b'), undefined)
    await db.put('mc:js', 'from js')
    assert.equal(await mc.getP('mc:js'), 'from js')
  } finally {
    mc.end()
  }
})

test('a real client: cas, incr, decr, touch, flush; expiry is refused clearly', async () => {
  const mc = client()
  try {
    await mc.setP('mc:c', 'one', 0)
    const { cas } = await mc.getsP('mc:c')
    assert.ok(cas)
    assert.equal(await mc.casP('mc:c', 'two', cas, 0), true)
    assert.equal(await mc.casP('mc:c', 'three', cas, 0).catch(() => false), false, 'a stale cas is refused')
    assert.equal(await mc.getP('mc:c'), 'two')
    await mc.setP('mc:n', '10', 0)
    assert.equal(await mc.incrP('mc:n', 5), 15)
    assert.equal(await mc.decrP('mc:n', 20), 0)
    assert.equal(await mc.touchP('mc:n', 0), true)
    await assert.rejects(mc.setP('mc:ttl', 'x', 60), /exptime/)
    assert.equal(await mc.flushP().then(() => true), true)
    assert.equal(await mc.getP('mc:c'), undefined)
  } finally {
    mc.end()
  }
})

test('telnet: the one-line set, noreply, errors, version, quit', async () => {
  const r = await raw('set tel bar\r\nget tel\r\nset t2 0 0 3 noreply\r\nabc\r\nget t2\r\nbogus\r\nincr tel 1\r\nversion\r\nquit\r\n')
  assert.equal(r.text, [
    'STORED', 'VALUE tel 0 3', 'bar', 'END',
    'VALUE t2 0 3', 'abc', 'END',
    'ERROR',
    'CLIENT_ERROR cannot increment or decrement non-numeric value',
    'VERSION todb-0.1.0', ''
  ].join('\r\n'))
  assert.equal(r.closed, true)
  const big = await raw(`set big 0 0 ${70 * 1024}\r\n${'x'.repeat(70 * 1024)}\r\nget big\r\n`)
  assert.match(big.text, /^SERVER_ERROR object too large for cache\r\nEND\r\n$/)
  const chunk = await raw('set k 0 0 3\r\nabcdef\r\n')
  assert.match(chunk.text, /^CLIENT_ERROR bad data chunk\r\n$/)
  assert.equal(chunk.closed, true)
})

test('watch: every change, from the network or JavaScript, as it happens', async () => {
  const sock = net.connect(port, '127.0.0.1')
  let text = ''
  sock.on('data', (d) => { text += d.toString('latin1') })
  sock.write('watch\r\n')
  const until = async (pattern) => {
    for (let i = 0; i < 200 && !pattern.test(text); i++) await new Promise((resolve) => setTimeout(resolve, 10))
    assert.match(text, pattern)
  }
  await until(/^OK\r\n/)
  const mc = client()
  try {
    await mc.setP('w:a', 'net', 0)
    await db.put('w:b', 'js')
    await db.del('w:a')
    await db.put('w key%', 'odd')
    await until(/CHANGE del w:a\r\n/)
    await until(/w%20key%25/)
    assert.equal(text, 'OK\r\nCHANGE set w:a 3\r\nnet\r\nCHANGE set w:b 2\r\njs\r\nCHANGE del w:a\r\nCHANGE set w%20key%25 3\r\nodd\r\n')
  } finally {
    mc.end()
    sock.destroy()
  }
})

// memcache's cas unique (src/server/memcache/items.rs cas_of): FNV-1a 64 over the value, then the
// flags as 4 little-endian bytes; never 0.
function casOf (value, flags) {
  let h = 0xcbf29ce484222325n
  for (const b of [...Buffer.from(value), flags & 255, (flags >> 8) & 255, (flags >> 16) & 255, flags >>> 24]) {
    h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn
  }
  return h === 0n ? 1n : h
}

// A socket that reads until its text ends with `end`.
function conversation () {
  const sock = net.connect(port, '127.0.0.1')
  let text = ''
  sock.on('data', (d) => { text += d.toString('latin1') })
  const until = async (end) => {
    for (let i = 0; i < 300 && !text.endsWith(end); i++) await new Promise((resolve) => setTimeout(resolve, 10))
    assert.ok(text.endsWith(end), `no ${JSON.stringify(end)} at the end of ${JSON.stringify(text)}`)
    const got = text
    text = ''
    return got
  }
  return { sock, until, text: () => text }
}

test('a pipeline in one write gets the replies and changes of the same commands sent one at a time', async () => {
  const commands = (p) => [
    `set ${p}a 0 0 1\r\n1\r\n`,
    `get ${p}a\r\n`,
    `add ${p}a 0 0 1\r\nx\r\n`,
    `gets ${p}a\r\n`,
    `cas ${p}a 7 0 2 ${casOf('1', 0)}\r\n22\r\n`,
    `cas ${p}a 0 0 1 ${casOf('1', 0)}\r\nz\r\n`,
    `incr ${p}a 5\r\n`,
    `gets ${p}a\r\n`,
    `delete ${p}a\r\n`,
    `add ${p}a 0 0 1\r\nq\r\n`,
    `set ${p}b 3 0 1 noreply\r\nb\r\n`,
    `append ${p}b 0 0 1 noreply\r\nc\r\n`,
    `set ${p}c 0 60 1\r\nx\r\n`,
    `replace ${p}c 0 0 1\r\ny\r\n`,
    `incr ${p}b 1\r\n`,
    `touch ${p}a 0\r\n`,
    `delete ${p}a noreply\r\n`,
    `set ${p}line hello there\r\n`,
    `get ${p}line ${p}b ${p}a\r\n`
  ]
  const watcher = conversation()
  watcher.sock.write('watch\r\n')
  await watcher.until('OK\r\n')
  const c = conversation()
  try {
    // One at a time: `version` is no data command, so each command runs alone.
    const version = 'VERSION todb-0.1.0\r\n'
    let alone = ''
    for (const cmd of commands('p1:')) {
      c.sock.write(cmd + 'version\r\n')
      alone += (await c.until(version)).slice(0, -version.length)
    }
    c.sock.write(commands('p2:').join('') + 'version\r\n')
    const grouped = (await c.until(version)).slice(0, -version.length)
    assert.equal(grouped.replaceAll('p2:', 'p1:'), alone)
    assert.equal(alone, [
      'STORED', 'VALUE p1:a 0 1', '1', 'END', 'NOT_STORED', `VALUE p1:a 0 1 ${casOf('1', 0)}`, '1', 'END',
      'STORED', 'EXISTS', '27', `VALUE p1:a 7 2 ${casOf('27', 7)}`, '27', 'END', 'DELETED', 'STORED',
      'CLIENT_ERROR todb does not expire items: exptime must be 0', 'NOT_STORED',
      'CLIENT_ERROR cannot increment or decrement non-numeric value', 'TOUCHED', 'STORED',
      'VALUE p1:line 0 11', 'hello there', 'VALUE p1:b 3 2', 'bc', 'END', ''
    ].join('\r\n'))
    // The watcher saw the same changes, in the same order, for both.
    for (let i = 0; i < 300 && !watcher.text().includes('CHANGE set p2:line'); i++) await new Promise((resolve) => setTimeout(resolve, 10))
    const changes = watcher.text().split(/(?=CHANGE )/)
    const p1 = changes.filter((m) => m.includes(' p1:')).join('')
    const p2 = changes.filter((m) => m.includes(' p2:')).join('')
    assert.match(p1, /^CHANGE set p1:a 1\r\n1\r\nCHANGE set p1:a 2\r\n22\r\nCHANGE set p1:a 2\r\n27\r\nCHANGE del p1:a\r\n/)
    assert.equal(p2.replaceAll('p2:', 'p1:'), p1)
  } finally {
    c.sock.destroy()
    watcher.sock.destroy()
  }
})

test('authentication: memcached\'s text form first, nothing before it', async () => {
  const dir = tmpDir()
  dirs.push(dir)
  const local = new Todb(dir)
  const srv = await local.serve({ port: 0, protocol: 'memcache', password: 'pw' })
  try {
    const r = await raw('get a\r\nset auth 0 0 6\r\nuser x\r\nset auth 0 0 7\r\nuser pw\r\nset a 0 0 1\r\n1\r\nget a\r\n', { p: srv.address().port })
    assert.equal(r.text, 'CLIENT_ERROR unauthenticated\r\nCLIENT_ERROR authentication failure\r\nSTORED\r\nSTORED\r\nVALUE a 0 1\r\n1\r\nEND\r\n')
  } finally {
    await local.close()
  }
})
