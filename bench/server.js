'use strict'

// `npm run bench:server`: todb's network server against the servers it stands in for, in one run,
// alternating the two test by test. redis-benchmark (set, get, incr, mset) runs against
// `todb serve` and redis-server (AOF on, fsync every second); examples/mc_load.rs (memcache set,
// get) against todb's memcache port and memcached; each test without and with a pipeline of 16,
// 50 connections, keys drawn from 1,000,000. Prints ops/s, p50/p99 latency and the ratio
// todb / reference (medians over the runs) as markdown tables for the README, and writes
// bench/results/server-latest.json. Installs redis-tools, redis-server and memcached with apt-get
// when they are missing. Everything listens on 127.0.0.1 and is stopped when the bench ends.
//
//   npm run bench:server -- [--n 1000000] [--mc-n 500000] [--runs 1] [--only redis|memcache]
//                           [--quick] [--timeout 300]
//
// --quick is --n 100000 (and so --mc-n 100000); --timeout bounds each run, in seconds.

const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const procs = require('./server/procs')
const { REDIS_TESTS, redisBenchmark, buildMcLoad, mcLoad } = require('./server/clients')

const { log } = procs
const ROOT = path.join(__dirname, '..')
const TODB_BIN = path.join(ROOT, 'bin', 'todb.js')

const args = process.argv.slice(2)
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : fallback
}
const usage = (msg) => {
  log(`bench:server: ${msg}`)
  process.exit(2)
}
const count = (name, fallback) => {
  const x = Number(arg(name, fallback))
  if (!Number.isInteger(x) || x <= 0) usage(`--${name} must be a positive integer`)
  return x
}
const VALUED = ['n', 'mc-n', 'runs', 'timeout', 'only']
const FLAGS = ['quick', 'reference-only']
for (let i = 0; i < args.length; i++) {
  const name = args[i].replace(/^--/, '')
  if (VALUED.includes(name)) i++
  else if (!FLAGS.includes(name)) usage(`unknown argument ${args[i]}`)
}
const N = count('n', args.includes('--quick') ? 100_000 : 1_000_000)
// memcache runs are capped below N by default so that the whole bench stays within a few minutes:
// one unpipelined memcache test of 1,000,000 requests takes 20 s per server on 2 cores.
const MC_N = count('mc-n', Math.min(N, 500_000))
const RUNS = count('runs', 1)
const TIMEOUT_MS = count('timeout', 300) * 1000
const ONLY = arg('only', null)
if (ONLY !== null && ONLY !== 'redis' && ONLY !== 'memcache') usage('--only takes redis or memcache')
// Not in the usage line: for measuring the reference servers alone, as before bin/todb.js existed.
const REFERENCE_ONLY = args.includes('--reference-only')

const CLIENTS = 50
const KEYSPACE = 1_000_000
const PIPELINES = [1, 16]
const MEMCACHED_MB = 1024

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

const version = (cmd, flag, re) => {
  try {
    const m = execFileSync(cmd, [flag], { encoding: 'utf8' }).match(re)
    return m ? m[1] : 'unknown'
  } catch {
    return 'unknown'
  }
}

// Ratios above 1 favour todb.
function summarize (suites, results) {
  const rows = []
  for (const suite of suites) {
    for (const test of suite.tests) {
      for (const pipeline of PIPELINES) {
        const of = (side) => {
          const runs = results.filter((r) => r.suite === suite.name && r.test === test && r.pipeline === pipeline && r.side === side)
          const ok = runs.filter((r) => !r.error)
          if (ok.length === 0) return runs.length ? { error: runs[0].error } : null
          const med = (field) => median(ok.map((r) => r[field]))
          return { rps: med('rps'), p50Ms: med('p50Ms'), p99Ms: med('p99Ms'), runs: ok.length }
        }
        const todb = of('todb')
        const reference = of('reference')
        const ratio = todb && reference && todb.rps && reference.rps ? todb.rps / reference.rps : null
        rows.push({ suite: suite.name, test, pipeline, todb, reference, ratio })
      }
    }
  }
  return rows
}

function markdown (suites, rows) {
  const ops = (m) => !m ? '—' : m.error ? 'failed' : Math.round(m.rps).toLocaleString('en-US')
  const lat = (m) => !m || m.error ? '—' : `${m.p50Ms.toFixed(3)} / ${m.p99Ms.toFixed(3)}`
  const out = []
  for (const suite of suites) {
    const ref = suite.referenceName
    out.push(`**${suite.title}**: ${suite.note}`, '',
      `| test | pipeline | todb ops/s | todb p50 / p99 ms | ${ref} ops/s | ${ref} p50 / p99 ms | todb / ${ref} |`,
      '|---|--:|--:|--:|--:|--:|--:|')
    for (const r of rows.filter((r) => r.suite === suite.name)) {
      const label = suite.name === 'redis' ? REDIS_TESTS[r.test] : r.test
      out.push(`| ${label} | ${r.pipeline} | ${ops(r.todb)} | ${lat(r.todb)} | ${ops(r.reference)} | ${lat(r.reference)} | ${r.ratio ? r.ratio.toFixed(2) + 'x' : '—'} |`)
    }
    out.push('')
  }
  return out.join('\n').trim()
}

async function main () {
  const wantRedis = ONLY !== 'memcache'
  const wantMemcache = ONLY !== 'redis'
  const withTodb = !REFERENCE_ONLY && fs.existsSync(TODB_BIN)
  if (!withTodb) log(REFERENCE_ONLY ? 'todb: skipped (--reference-only)' : `todb: ${path.relative(ROOT, TODB_BIN)} does not exist yet, so only the reference servers are measured`)

  if (wantRedis) {
    procs.ensureCommand('redis-benchmark', 'redis-tools')
    procs.ensureCommand('redis-server', 'redis-server')
  }
  let mcLoadBin = null
  if (wantMemcache) {
    procs.ensureCommand('memcached', 'memcached')
    log('building examples/mc_load.rs')
    mcLoadBin = await buildMcLoad()
  }

  const versions = {
    node: process.version,
    todb: require('../package.json').version,
    redisBenchmark: wantRedis ? version('redis-benchmark', '--version', /redis-benchmark (\S+)/) : null,
    redisServer: wantRedis ? version('redis-server', '--version', /v=(\S+)/) : null,
    memcached: wantMemcache ? version('memcached', '-V', /memcached (\S+)/) : null
  }

  const [todbRedisPort, todbMcPort, redisPort, memcachedPort] = [await procs.freePort(), await procs.freePort(), await procs.freePort(), await procs.freePort()]
  const servers = {}
  // todb gets both ports even when one protocol is left out, so that it never falls back to the
  // well-known ports, which another server may hold.
  if (withTodb) {
    const dir = procs.tempDir('bench-server-todb-')
    log(`starting todb serve on ${procs.HOST}:${todbRedisPort} (redis) and :${todbMcPort} (memcache)`)
    servers.todb = await procs.startServer('todb', process.execPath,
      [TODB_BIN, 'serve', dir, '--host', procs.HOST, '--port', String(todbRedisPort), '--memcache-port', String(todbMcPort)],
      [todbRedisPort, todbMcPort])
  }
  if (wantRedis) {
    const dir = procs.tempDir('bench-server-redis-')
    log(`starting redis-server ${versions.redisServer} on ${procs.HOST}:${redisPort}`)
    servers.redis = await procs.startServer('redis-server', 'redis-server', [
      '--port', String(redisPort), '--bind', procs.HOST, '--dir', dir, '--daemonize', 'no', '--logfile', '',
      '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''
    ], [redisPort])
  }
  if (wantMemcache) {
    log(`starting memcached ${versions.memcached} on ${procs.HOST}:${memcachedPort}`)
    // Enough memory that memcached keeps every key as todb does, instead of evicting.
    const user = process.getuid && process.getuid() === 0 ? ['-u', 'nobody'] : []
    servers.memcached = await procs.startServer('memcached', 'memcached',
      ['-l', procs.HOST, '-p', String(memcachedPort), '-U', '0', '-m', String(MEMCACHED_MB), ...user], [memcachedPort])
  }

  const suites = []
  if (wantRedis) {
    suites.push({
      name: 'redis',
      title: 'Redis protocol',
      referenceName: 'redis-server',
      note: `redis-benchmark ${versions.redisBenchmark} \`-t TEST -n ${N} -r ${KEYSPACE} -c ${CLIENTS} [-P 16]\`; reference redis-server ${versions.redisServer} with appendonly yes, appendfsync everysec, save "".`,
      tests: ['set', 'get', 'incr', 'mset'],
      port: { todb: todbRedisPort, reference: redisPort },
      server: { todb: servers.todb, reference: servers.redis },
      run: (server, port, test, pipeline) => redisBenchmark(server, port, test, { n: N, clients: CLIENTS, keyspace: KEYSPACE, pipeline, timeoutMs: TIMEOUT_MS })
    })
  }
  if (wantMemcache) {
    suites.push({
      name: 'memcache',
      title: 'memcache text protocol',
      referenceName: 'memcached',
      note: `examples/mc_load.rs \`-t TEST -n ${MC_N} -r ${KEYSPACE} -c ${CLIENTS} -P 1|16\`, 3-byte values, each request timed from its batch's write to its own reply; reference memcached ${versions.memcached} with -m ${MEMCACHED_MB}, default threads.`,
      tests: ['set', 'get'],
      port: { todb: todbMcPort, reference: memcachedPort },
      server: { todb: servers.todb, reference: servers.memcached },
      run: (server, port, test, pipeline) => mcLoad(mcLoadBin, server, port, test, { n: MC_N, clients: CLIENTS, keyspace: KEYSPACE, pipeline, timeoutMs: TIMEOUT_MS })
    })
  }

  // The servers keep their data from test to test, as in one redis-benchmark -t set,get,...
  // run, so that get finds the keys that set wrote.
  const results = []
  for (let run = 0; run < RUNS; run++) {
    const order = (run % 2 === 0 ? ['todb', 'reference'] : ['reference', 'todb']).filter((side) => side !== 'todb' || withTodb)
    for (const suite of suites) {
      for (const pipeline of PIPELINES) {
        for (const test of suite.tests) {
          for (const side of order) {
            const server = suite.server[side]
            const what = `run ${run + 1}/${RUNS}: ${suite.name} ${test} -P ${pipeline} on ${server.name}`
            const entry = { run: run + 1, suite: suite.name, test, pipeline, side, server: server.name }
            try {
              Object.assign(entry, await suite.run(server, suite.port[side], test, pipeline))
              log(`${what}: ${Math.round(entry.rps).toLocaleString('en-US')} ops/s, p50 ${entry.p50Ms} ms, p99 ${entry.p99Ms} ms`)
            } catch (err) {
              procs.checkInterrupted()
              entry.error = err.message
              log(`${what}: FAILED: ${err.message}`)
            }
            results.push(entry)
          }
        }
      }
    }
  }

  const rows = summarize(suites, results)
  const cpu = os.cpus()[0]
  const machine = `${os.cpus().length} x ${cpu ? cpu.model.trim() : 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.arch()}`
  const date = new Date().toISOString().slice(0, 10)
  const sizes = wantMemcache && wantRedis ? `N = ${N.toLocaleString('en-US')} (memcache ${MC_N.toLocaleString('en-US')})` : `N = ${(wantRedis ? N : MC_N).toLocaleString('en-US')}`
  const header = `${sizes}, ${CLIENTS} connections, medians of ${RUNS} run(s), ${date}, ${machine}${withTodb ? '' : '; todb not measured'}`
  const command = ['npm run bench:server', ...(args.length ? ['--', ...args] : [])].join(' ')
  const table = markdown(suites, rows)
  console.log(`${header}. Command: \`${command}\`.\n\n${table}`)

  const outDir = path.join(__dirname, 'results')
  fs.mkdirSync(outDir, { recursive: true })
  const json = { date, machine, command, n: N, mcN: MC_N, runs: RUNS, clients: CLIENTS, keyspace: KEYSPACE, todbMeasured: withTodb, versions, rows, results }
  fs.writeFileSync(path.join(outDir, 'server-latest.json'), JSON.stringify(json, null, 2) + '\n')
  return results.some((r) => r.error) ? 1 : 0
}

main()
  .catch((err) => {
    log(`bench:server: ${err.message}`)
    return 1
  })
  .then(async (code) => {
    await procs.cleanup()
    process.exit(code)
  })
