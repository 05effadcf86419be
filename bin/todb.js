#!/usr/bin/env node
'use strict'

// The todb command. `todb serve <dir>` serves a database over the Redis and memcache protocols
// until SIGINT or SIGTERM, then closes it cleanly (every acknowledged write is already in the
// log, so even a kill -9 loses none of them).

const path = require('path')
const { Todb } = require('..')

const USAGE = `Usage: todb serve <dir> [options]

Serves the database in <dir> over the Redis protocol (and, with --memcache-port, memcache).

Options:
  --port <n>            Redis port (default 6379; 0 picks a free one; --port none: no Redis)
  --memcache-port <n>   also serve memcache on this port
  --host <addr>         address to bind (default 127.0.0.1)
  --password <p>        require AUTH (Redis) or memcached's text authentication
  --sync                sync every network write to disk before acknowledging it
  --in-memory           keep the database in memory only (<dir> is just a name)
  -h, --help            show this help`

function fail (message) {
  process.stderr.write(`todb: ${message}\n${USAGE}\n`)
  process.exit(2)
}

function parse (argv) {
  const opts = { port: 6379, memcachePort: null, host: '127.0.0.1', password: undefined, sync: false, inMemory: false }
  const rest = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    const value = () => {
      if (i + 1 >= argv.length) fail(`${arg} needs a value`)
      return argv[++i]
    }
    const port = (v) => {
      if (v === 'none') return null
      const n = Number(v)
      if (!Number.isInteger(n) || n < 0 || n > 65535) fail(`bad port '${v}'`)
      return n
    }
    switch (arg) {
      case '--port': opts.port = port(value()); break
      case '--memcache-port': opts.memcachePort = port(value()); break
      case '--host': opts.host = value(); break
      case '--password': opts.password = value(); break
      case '--sync': opts.sync = true; break
      case '--in-memory': opts.inMemory = true; break
      case '-h': case '--help': process.stdout.write(USAGE + '\n'); process.exit(0); break
      default:
        if (arg.startsWith('-')) fail(`unknown option ${arg}`)
        rest.push(arg)
    }
  }
  return { opts, rest }
}

async function serve (dir, opts) {
  const db = new Todb(opts.inMemory ? dir : path.resolve(dir), { inMemory: opts.inMemory })
  await db.open()
  const servers = []
  const common = { host: opts.host, password: opts.password, sync: opts.sync }
  try {
    if (opts.port !== null) servers.push(['redis', await db.serve({ ...common, port: opts.port, protocol: 'redis' })])
    if (opts.memcachePort !== null) servers.push(['memcache', await db.serve({ ...common, port: opts.memcachePort, protocol: 'memcache' })])
  } catch (err) {
    process.stderr.write(`todb: ${err.message}\n`)
    await db.close()
    process.exit(1)
  }
  if (servers.length === 0) fail('nothing to serve: give --port or --memcache-port')
  for (const [name, server] of servers) {
    const { address, port } = server.address()
    process.stdout.write(`todb: ${name} listening on ${address}:${port} (${opts.inMemory ? 'in memory' : db.location})\n`)
  }
  let stopping = false
  const stop = async (signal) => {
    if (stopping) return
    stopping = true
    for (const [name] of servers) process.stdout.write(`todb: ${name} stopping (${signal})\n`)
    await db.close()
    process.stdout.write('todb: closed\n')
    process.exit(0)
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))
}

const [command, ...args] = process.argv.slice(2)
if (command === undefined || command === '-h' || command === '--help') {
  process.stdout.write(USAGE + '\n')
  process.exit(command === undefined ? 2 : 0)
}
if (command !== 'serve') fail(`unknown command '${command}'`)
const { opts, rest } = parse(args)
if (rest.length !== 1) fail('serve takes one directory')
serve(rest[0], opts).catch((err) => {
  process.stderr.write(`todb: ${err.message}\n`)
  process.exit(1)
})
