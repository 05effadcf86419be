'use strict'

// `todb serve <dir>`: serves a database over the Redis and memcache protocols until SIGINT or
// SIGTERM, then closes it cleanly (every acknowledged write is already in the log, so even a
// kill -9 loses none of them). Its run() resolves once the servers listen; the servers keep the
// process alive, and the signal handlers end it.

const path = require('node:path')
const { Todb } = require('./database.js')
const { UsageError, describe } = require('./errors.js')

function port (text) {
  if (text === 'none') return null
  const n = Number(text)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`bad port '${text}'`)
  return n
}

const serve = {
  name: 'serve',
  synopsis: 'serve <dir> [options]',
  summary: 'serve the database over the Redis (and memcache) protocol',
  help: `Serves the database in <dir> over the Redis protocol (and, with --memcache-port, memcache).

Options:
  --port <n>            Redis port (default 6379; 0 picks a free one; --port none: no Redis)
  --memcache-port <n>   also serve memcache on this port
  --host <addr>         address to bind (default 127.0.0.1)
  --password <p>        require AUTH (Redis) or memcached's text authentication
  --sync                sync every network write to disk before acknowledging it
  --in-memory           keep the database in memory only (<dir> is just a name)
  --cache-size <MiB>    block cache for decompressed table blocks (default 64; a library
                        open's default is 8, which a server's working set outgrows)`,
  options: {
    port: { type: 'string' },
    'memcache-port': { type: 'string' },
    host: { type: 'string' },
    password: { type: 'string' },
    sync: { type: 'boolean' },
    'in-memory': { type: 'boolean' },
    'cache-size': { type: 'string' }
  },
  positionals: ['dir'],
  async run ({ values, positionals: [dir], stdout, stderr }) {
    const redisPort = values.port === undefined ? 6379 : port(values.port)
    const memcachePort = values['memcache-port'] === undefined ? null : port(values['memcache-port'])
    if (redisPort === null && memcachePort === null) throw new UsageError('nothing to serve: give --port or --memcache-port')
    const inMemory = values['in-memory']
    const cacheMiB = values['cache-size'] === undefined ? 64 : Number(values['cache-size'])
    if (!Number.isInteger(cacheMiB) || cacheMiB < 1 || cacheMiB > 1 << 20) {
      throw new UsageError(`--cache-size takes a whole number of MiB, not ${values['cache-size']}`)
    }
    const db = new Todb(inMemory ? dir : path.resolve(dir), { inMemory, cacheSize: cacheMiB * 1024 * 1024 })
    await db.open()
    const servers = []
    const common = { host: values.host === undefined ? '127.0.0.1' : values.host, password: values.password, sync: values.sync }
    try {
      if (redisPort !== null) servers.push(['redis', await db.serve({ ...common, port: redisPort, protocol: 'redis' })])
      if (memcachePort !== null) servers.push(['memcache', await db.serve({ ...common, port: memcachePort, protocol: 'memcache' })])
    } catch (err) {
      await db.close()
      throw err
    }
    for (const [name, server] of servers) {
      const { address, port } = server.address()
      stdout.write(`todb: ${name} listening on ${address}:${port} (${inMemory ? 'in memory' : db.location})\n`)
    }
    let stopping = false
    const stop = async (signal) => {
      if (stopping) return
      stopping = true
      for (const [name] of servers) stdout.write(`todb: ${name} stopping (${signal})\n`)
      try {
        await db.close()
      } catch (err) {
        stderr.write(`todb: ${describe(err, dir)}\n`)
        process.exit(1)
      }
      stdout.write('todb: closed\n')
      process.exit(0)
    }
    process.on('SIGINT', () => stop('SIGINT'))
    process.on('SIGTERM', () => stop('SIGTERM'))
  }
}

module.exports = { commands: [serve] }
