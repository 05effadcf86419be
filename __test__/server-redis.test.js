'use strict'

// The Redis front door, driven by a real client (ioredis) and by raw sockets: the commands,
// pub/sub and keyspace events from network and JavaScript writes, MULTI atomicity, SCAN under
// concurrent writes, AUTH, limits, and a client that disconnects mid-frame.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')
const Redis = require('ioredis')
const { Todb } = require('..')
const { tmpDir, rmDir } = require('./helpers/util.js')

const dirs = []
let db, server, port

function client (options = {}) {
  return new Redis({ port, host: '127.0.0.1', lazyConnect: false, maxRetriesPerRequest: 0, retryStrategy: () => null, ...options })
}

// Sends raw bytes and collects what comes back until the socket closes or `ms` pass.
function raw (bytes, { ms = 500, p = port } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(p, '127.0.0.1')
    const chunks = []
    let closed = false
    sock.on('data', (d) => chunks.push(d))
    sock.on('error', reject)
    sock.on('close', () => { closed = true; clearTimeout(timer); resolve({ text: Buffer.concat(chunks).toString('latin1'), closed }) })
    const timer = setTimeout(() => { sock.destroy(); resolve({ text: Buffer.concat(chunks).toString('latin1'), closed }) }, ms)
    sock.write(bytes)
  })
}

before(async () => {
  const dir = tmpDir()
  dirs.push(dir)
  db = new Todb(dir)
  await db.open()
  server = await db.serve({ port: 0, maxBulkLength: 1 << 20 })
  port = server.address().port
  assert.equal(server.address().address, '127.0.0.1')
})

after(async () => {
  await db.close()
  for (const d of dirs) rmDir(d)
})

test('strings: get, set and its options, getdel, mget, mset, msetnx, del, exists, strlen, append', async () => {
  const r = client()
  try {
    assert.equal(await r.set('s:a', 'hello'), 'OK')
    assert.equal(await r.get('s:a'), 'hello')
    assert.equal(await db.get('s:a'), 'hello', 'JavaScript reads what the network wrote')
    assert.equal(await r.set('s:a', 'x', 'NX'), null)
    assert.equal(await r.set('s:new', 'x', 'XX'), null)
    assert.equal(await r.set('s:a', 'world', 'XX', 'GET'), 'hello')
    await assert.rejects(r.set('s:a', 'x', 'EX', 10), /does not expire keys/)
    assert.equal(await r.getdel('s:a'), 'world')
    assert.equal(await r.get('s:a'), null)
    assert.equal(await r.mset('s:1', 'one', 's:2', 'two'), 'OK')
    assert.deepEqual(await r.mget('s:1', 's:missing', 's:2'), ['one', null, 'two'])
    assert.equal(await r.msetnx('s:2', 'x', 's:3', 'three'), 0)
    assert.equal(await r.get('s:3'), null, 'MSETNX writes nothing when one key exists')
    assert.equal(await r.msetnx('s:3', 'three', 's:4', 'four'), 1)
    assert.equal(await r.exists('s:1', 's:3', 's:nope'), 2)
    assert.equal(await r.strlen('s:1'), 3)
    assert.equal(await r.append('s:1', '!!'), 5)
    assert.equal(await r.del('s:1', 's:2', 's:nope'), 2)
    assert.equal(await r.unlink('s:3'), 1)
    await db.put('s:js', 'from js')
    assert.equal(await r.get('s:js'), 'from js', 'the network reads what JavaScript wrote')
    const big = Buffer.alloc(100000, 7)
    await r.set('s:bin', big)
    assert.deepEqual(await r.getBuffer('s:bin'), big)
    assert.equal(await r.call('SELECT', '0'), 'OK')
    await assert.rejects(r.call('SELECT', '1'), /DB index is out of range/)
    await assert.rejects(r.call('NOSUCH', 'a'), /ERR unknown command 'NOSUCH', with args beginning with: 'a'/)
    await assert.rejects(r.call('GET'), /wrong number of arguments for 'get' command/)
  } finally {
    r.disconnect()
  }
})

test('counters are atomic across concurrent clients and with JavaScript writes', async () => {
  const clients = Array.from({ length: 8 }, () => client())
  try {
    await clients[0].set('c:n', '0')
    await Promise.all(clients.map(async (c) => {
      for (let i = 0; i < 100; i++) await c.incr('c:n')
    }))
    assert.equal(await clients[0].get('c:n'), '800')
    assert.equal(await clients[1].incrby('c:n', 50), 850)
    assert.equal(await clients[1].decrby('c:n', 851), -1)
    assert.equal(await clients[1].decr('c:n'), -2)
    await db.put('c:text', 'abc')
    await assert.rejects(clients[0].incr('c:text'), /not an integer/)
    await clients[0].set('c:max', '9223372036854775807')
    await assert.rejects(clients[0].incr('c:max'), /overflow/)
  } finally {
    for (const c of clients) c.disconnect()
  }
})

test('keys, scan with match and count, range, dbsize, flushdb', async () => {
  const dir = tmpDir()
  dirs.push(dir)
  const local = new Todb(dir)
  const srv = await local.serve({ port: 0 })
  const r = new Redis({ port: srv.address().port, maxRetriesPerRequest: 0 })
  try {
    const keys = Array.from({ length: 50 }, (_, i) => `k:${String(i).padStart(3, '0')}`)
    await r.mset(...keys.flatMap((k) => [k, k.toUpperCase()]))
    await r.set('other', '1')
    assert.deepEqual((await r.keys('k:00*')).sort(), keys.slice(0, 10))
    assert.deepEqual(await r.keys('k:0[0-1]?'), keys.slice(0, 20))
    assert.equal(await r.dbsize(), 51)
    assert.deepEqual(await r.call('RANGE', '[k:010', '(k:013'), ['k:010', 'K:010', 'k:011', 'K:011', 'k:012', 'K:012'])
    assert.deepEqual(await r.call('RANGE', '-', '+', 'LIMIT', '2', 'REV', 'KEYSONLY'), ['other', 'k:049'])
    await assert.rejects(r.call('RANGE', 'a', 'b'), /not valid string range item/)

    // SCAN while another client writes and deletes keys: every key present throughout is
    // returned exactly once, in sorted order.
    const writer = new Redis({ port: srv.address().port })
    let stop = false
    const churn = (async () => {
      for (let i = 0; !stop; i++) {
        await writer.set(`k:${String(i % 50).padStart(3, '0')}x`, 'new')
        await writer.del(`k:${String((i + 25) % 50).padStart(3, '0')}x`)
      }
    })()
    const seen = []
    let cursor = '0'
    do {
      const [next, batch] = await r.scan(cursor, 'MATCH', 'k:*', 'COUNT', 7)
      seen.push(...batch)
      cursor = next
    } while (cursor !== '0')
    stop = true
    await churn
    writer.disconnect()
    const stable = seen.filter((k) => !k.endsWith('x'))
    assert.deepEqual(stable, keys, 'each stable key once, in order')
    assert.equal(new Set(seen).size, seen.length, 'no key returned twice')
    await assert.rejects(r.scan('12345678'), /invalid cursor/)

    // redis-style scanStream works too.
    const streamed = []
    await new Promise((resolve, reject) => {
      r.scanStream({ match: 'k:01*', count: 3 }).on('data', (b) => streamed.push(...b)).on('end', resolve).on('error', reject)
    })
    assert.deepEqual(streamed.filter((k) => !k.endsWith('x')), keys.slice(10, 20))

    assert.equal(await r.flushdb(), 'OK')
    assert.equal(await r.dbsize(), 0)
    assert.equal(await local.get('k:001'), undefined)
  } finally {
    r.disconnect()
    await local.close()
  }
})

test('MULTI/EXEC applies every command as one batch; DISCARD and queued errors write nothing', async () => {
  const r = client()
  const watcher = client()
  try {
    await r.set('m:a', '1')
    const writes = []
    const result = await r.multi().incr('m:a').set('m:b', 'x').get('m:b').del('m:a').exec()
    assert.deepEqual(result, [[null, 2], [null, 'OK'], [null, 'x'], [null, 1]])
    assert.equal(await r.get('m:a'), null)
    assert.equal(await r.get('m:b'), 'x')

    // A reader never sees half a transaction: poll both keys while transactions run.
    let torn = 0
    let done = false
    const poll = (async () => {
      while (!done) {
        const [x, y] = await watcher.mget('m:x', 'm:y')
        if (x !== y) torn++
        writes.push(x)
      }
    })()
    for (let i = 0; i < 200; i++) await r.multi().set('m:x', String(i)).set('m:y', String(i)).exec()
    done = true
    await poll
    assert.equal(torn, 0, 'no torn transaction seen')

    assert.equal(await r.call('MULTI'), 'OK')
    assert.equal(await r.call('SET', 'm:c', '1'), 'QUEUED')
    assert.equal(await r.call('DISCARD'), 'OK')
    assert.equal(await r.get('m:c'), null)
    await assert.rejects(r.call('EXEC'), /EXEC without MULTI/)
    const failed = await raw('MULTI\r\nSET m:d 1\r\nGET\r\nEXEC\r\nGET m:d\r\n')
    assert.match(failed.text, /^\+OK\r\n\+QUEUED\r\n-ERR wrong number of arguments for 'get' command\r\n-EXECABORT[^\r]*\r\n\$-1\r\n$/)
  } finally {
    r.disconnect()
    watcher.disconnect()
  }
})

function nextMessages (sub, count, event = 'pmessage') {
  return new Promise((resolve, reject) => {
    const got = []
    const timer = setTimeout(() => reject(new Error(`only ${got.length} of ${count} messages: ${JSON.stringify(got)}`)), 5000)
    sub.on(event, function onMessage (...args) {
      got.push(args.slice(event === 'pmessage' ? 1 : 0))
      if (got.length === count) {
        clearTimeout(timer)
        sub.removeListener(event, onMessage)
        resolve(got)
      }
    })
  })
}

test('pub/sub and keyspace notifications for network and JavaScript writes', async () => {
  const sub = client()
  const pub = client()
  try {
    await sub.subscribe('news')
    const message = nextMessages(sub, 1, 'message')
    assert.equal(await pub.publish('news', 'hello'), 1)
    assert.deepEqual(await message, [['news', 'hello']])
    await sub.unsubscribe('news')
    assert.equal(await pub.publish('news', 'again'), 0)

    await sub.psubscribe('__keyspace@0__:ev:*')
    let events = nextMessages(sub, 2)
    await pub.set('ev:net', '1')
    await pub.del('ev:net')
    assert.deepEqual(await events, [['__keyspace@0__:ev:net', 'set'], ['__keyspace@0__:ev:net', 'del']])

    events = nextMessages(sub, 4)
    await db.put('ev:js', 'v')
    await db.batch([{ type: 'put', key: 'ev:b1', value: '1' }, { type: 'del', key: 'ev:js' }])
    await db.clear({ gte: 'ev:b', lt: 'ev:c' })
    assert.deepEqual(await events, [
      ['__keyspace@0__:ev:js', 'set'],
      ['__keyspace@0__:ev:b1', 'set'],
      ['__keyspace@0__:ev:js', 'del'],
      ['__keyspace@0__:ev:b1', 'del']
    ])

    const keyevent = client()
    await keyevent.subscribe('__keyevent@0__:set')
    const ke = nextMessages(keyevent, 1, 'message')
    await db.put('ev:ke', '1')
    assert.deepEqual(await ke, [['__keyevent@0__:set', 'ev:ke']])
    keyevent.disconnect()

    // RESP3: messages arrive as pushes, and the HELLO reply is a map.
    const hello = await raw('HELLO 3\r\nSUBSCRIBE ch\r\n', { ms: 300 })
    assert.match(hello.text, /^%7\r\n/)
    assert.match(hello.text, />3\r\n\$9\r\nsubscribe\r\n\$2\r\nch\r\n:1\r\n$/)
  } finally {
    sub.disconnect()
    pub.disconnect()
  }
})

test('a subscriber that cannot keep up is disconnected at its output limit', async () => {
  const dir = tmpDir()
  dirs.push(dir)
  const local = new Todb(dir)
  const srv = await local.serve({ port: 0, pubsubOutputLimit: 64 * 1024 })
  const p = srv.address().port
  const sock = net.connect(p, '127.0.0.1')
  sock.write('SUBSCRIBE flood\r\n')
  await new Promise((resolve) => sock.once('data', resolve))
  sock.pause() // reads nothing from now on
  const closed = new Promise((resolve) => sock.on('close', resolve))
  const pub = new Redis({ port: p })
  try {
    const payload = 'x'.repeat(16 * 1024)
    let receivers = 1
    for (let i = 0; i < 2000 && receivers > 0; i++) receivers = await pub.publish('flood', payload)
    assert.equal(receivers, 0, 'the slow subscriber was dropped')
    sock.resume()
    await closed
  } finally {
    pub.disconnect()
    sock.destroy()
    await local.close()
  }
})

test('AUTH: nothing works before it; wrong passwords are refused', async () => {
  const dir = tmpDir()
  dirs.push(dir)
  const local = new Todb(dir)
  const srv = await local.serve({ port: 0, password: 's3cret' })
  const p = srv.address().port
  try {
    const before = await raw('GET a\r\nAUTH wrong\r\nAUTH s3cret\r\nSET a 1\r\nGET a\r\n', { p })
    assert.equal(before.text, '-NOAUTH Authentication required.\r\n-WRONGPASS invalid username-password pair or user is disabled.\r\n+OK\r\n+OK\r\n$1\r\n1\r\n')
    const r = new Redis({ port: p, password: 's3cret' })
    assert.equal(await r.get('a'), '1')
    r.disconnect()
    const hello = await raw('HELLO 3 AUTH default s3cret\r\nGET a\r\n', { p })
    assert.match(hello.text, /\$1\r\n1\r\n$/)
  } finally {
    await local.close()
  }
})

test('limits and malformed input: an error, then the connection closes; the server lives on', async () => {
  const tooBig = await raw(`*2\r\n$3\r\nSET\r\n$${(1 << 20) + 1}\r\n`)
  assert.match(tooBig.text, /^-ERR Protocol error: invalid bulk length\r\n$/)
  assert.equal(tooBig.closed, true)
  const badLen = await raw('*2\r\n$x\r\n')
  assert.match(badLen.text, /^-ERR Protocol error: invalid bulk length/)
  const inline = await raw('A'.repeat(70 * 1024))
  assert.match(inline.text, /too big inline request/)
  assert.equal(inline.closed, true)
  // A client that disconnects mid-frame leaves nothing written.
  await new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => {
      sock.end('*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$10\r\nabc')
    })
    sock.on('close', resolve)
  })
  const r = client()
  assert.equal(await r.exists('half'), 0)
  assert.equal(await r.ping(), 'PONG')
  // Pipelined inline commands, as typed in telnet.
  const telnet = await raw('set tel 42\r\nget tel\r\nPING\r\nQUIT\r\n')
  assert.equal(telnet.text, '+OK\r\n$2\r\n42\r\n+PONG\r\n+OK\r\n')
  assert.equal(telnet.closed, true)
  r.disconnect()
})

test('client, command, info, config, echo, serve errors and callbacks', async () => {
  const r = client({ connectionName: 'tester' })
  try {
    assert.equal(await r.client('GETNAME'), 'tester')
    assert.equal(typeof await r.client('ID'), 'number')
    assert.equal(await r.echo('hi'), 'hi')
    assert.ok((await r.call('COMMAND', 'COUNT')) > 30)
    assert.match(await r.info('server'), /redis_version:7\.0\.0/)
    assert.deepEqual(await r.config('GET', 'appendfsync'), ['appendfsync', 'no'])
    assert.equal(await r.config('SET', 'appendfsync', 'always'), 'OK')
    await r.set('sync:k', 'v')
    assert.equal(await r.config('SET', 'appendfsync', 'everysec'), 'OK')
  } finally {
    r.disconnect()
  }
  await assert.rejects(db.serve({ port, protocol: 'redis' }), (err) => err.code === 'LEVEL_SERVER_ERROR' && /in use/i.test(err.message))
  await assert.rejects(db.serve({ protocol: 'gopher', port: 0 }), (err) => err.code === 'LEVEL_INVALID_ARGUMENT')
  await assert.rejects(db.serve({ port: 70000 }), (err) => err.code === 'LEVEL_INVALID_ARGUMENT')
  await assert.rejects(db.serve({ port: 1.5 }), (err) => err.code === 'LEVEL_INVALID_ARGUMENT')
  await assert.rejects(db.serve({ port: -1 }), (err) => err.code === 'LEVEL_INVALID_ARGUMENT')
  const viaCallback = await new Promise((resolve, reject) => db.serve({ port: 0 }, (err, s) => err ? reject(err) : resolve(s)))
  assert.equal(typeof viaCallback.address().port, 'number')
  await new Promise((resolve, reject) => viaCallback.close((err) => err ? reject(err) : resolve()))
  const refused = await raw('PING\r\n', { p: viaCallback.address().port, ms: 300 }).catch((err) => err)
  assert.equal(refused.code, 'ECONNREFUSED')
})

test('an in-memory database serves and forgets', async () => {
  const mem = new Todb('mem-test', { inMemory: true })
  const srv = await mem.serve({ port: 0 })
  const r = new Redis({ port: srv.address().port })
  await r.set('a', '1')
  assert.equal(await mem.get('a'), '1')
  r.disconnect()
  await mem.close()
  const again = new Todb('mem-test', { inMemory: true })
  await again.open()
  assert.equal(await again.get('a'), undefined)
  await again.close()
  assert.equal(require('node:fs').existsSync('mem-test'), false, 'nothing was written to disk')
})
