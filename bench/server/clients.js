'use strict'

// The two load generators of bench/server.js, each run once per test and server: redis-benchmark
// for the Redis protocol, examples/mc_load.rs for memcache. Both return
// { rps, avgMs, p50Ms, p99Ms, maxMs } parsed from their output.

const path = require('node:path')
const { HOST, run } = require('./procs')

const ROOT = path.join(__dirname, '..', '..')

// The names redis-benchmark gives its tests in its CSV output.
const REDIS_TESTS = { set: 'SET', get: 'GET', incr: 'INCR', mset: 'MSET (10 keys)' }

function parseCsvLine (line) {
  return [...line.matchAll(/"((?:[^"]|"")*)"/g)].map((m) => m[1].replace(/""/g, '"'))
}

async function redisBenchmark (server, port, test, { n, clients, keyspace, pipeline, timeoutMs }) {
  const args = ['-h', HOST, '-p', String(port), '-t', test, '-n', String(n), '-r', String(keyspace), '-c', String(clients), '--csv']
  if (pipeline > 1) args.push('-P', String(pipeline))
  const stdout = await run('redis-benchmark', args, { server, timeoutMs })
  const lines = stdout.split('\n').filter((l) => l.startsWith('"')).map(parseCsvLine)
  const header = lines.find((f) => f[0] === 'test')
  const row = lines.find((f) => f[0] === REDIS_TESTS[test])
  if (!header || !row) throw new Error(`redis-benchmark printed no ${REDIS_TESTS[test]} result:\n${stdout}`)
  const field = (name) => Number(row[header.indexOf(name)])
  return { rps: field('rps'), avgMs: field('avg_latency_ms'), p50Ms: field('p50_latency_ms'), p99Ms: field('p99_latency_ms'), maxMs: field('max_latency_ms') }
}

// Built through cargo so that it uses the crate's release profile; asking cargo for the artifact
// finds the binary wherever CARGO_TARGET_DIR puts it.
async function buildMcLoad () {
  const stdout = await run('cargo', ['build', '--release', '--example', 'mc_load', '--message-format', 'json-render-diagnostics'],
    { cwd: ROOT, timeoutMs: 15 * 60_000, showStderr: true })
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue
    const msg = JSON.parse(line)
    if (msg.reason === 'compiler-artifact' && msg.target.name === 'mc_load' && msg.executable) return msg.executable
  }
  throw new Error('cargo built no mc_load executable')
}

async function mcLoad (bin, server, port, test, { n, clients, keyspace, pipeline, timeoutMs }) {
  const args = ['--host', HOST, '--port', String(port), '-t', test, '-n', String(n), '-c', String(clients), '-P', String(pipeline),
    '-r', String(keyspace), '--max-seconds', String(Math.ceil(timeoutMs / 1000)), '--json']
  // mc_load stops itself at --max-seconds; the kill is for a server that stops answering.
  const stdout = await run(bin, args, { server, timeoutMs: timeoutMs + 10_000 })
  const r = JSON.parse(stdout.trim().split('\n').pop())
  if (r.errors > 0) throw new Error(`${server.name}: ${r.errors} of ${r.requests} memcache ${test} replies were errors`)
  return { rps: r.rps, avgMs: r.avg_ms, p50Ms: r.p50_ms, p99Ms: r.p99_ms, maxMs: r.max_ms, hits: r.hits, misses: r.misses }
}

module.exports = { REDIS_TESTS, redisBenchmark, buildMcLoad, mcLoad }
