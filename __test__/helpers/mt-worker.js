'use strict'

// Worker thread for multithreading.test.js. It holds at most one database instance and runs the
// commands the main thread posts, { id, op, args }, answering { id, result } or { id, error }
// (the error's code, message and cause, which a structured clone would not keep). `writeLoop`
// answers at once and then reports every acknowledged write as { ack: key } until the worker is
// terminated.

const { parentPort } = require('node:worker_threads')
const path = require('node:path')
const { Todb } = require(path.join(__dirname, '..', '..'))

let db = null

function plain (err) {
  return {
    code: err.code,
    message: err.message,
    causeCode: err.cause && err.cause.code,
    causeMessage: err.cause && err.cause.message
  }
}

const ops = {
  async open (location, options) {
    db = new Todb(location)
    await db.open(options)
    return db.status
  },

  // Puts `count` keys `${prefix}${i}` (zero-padded), in batches of 50.
  async write (prefix, count) {
    for (let i = 0; i < count; i += 50) {
      const ops = []
      for (let j = i; j < Math.min(count, i + 50); j++) {
        ops.push({ type: 'put', key: prefix + String(j).padStart(6, '0'), value: `${prefix}:${j}` })
      }
      await db.batch(ops)
    }
    return count
  },

  async getMany (keys) {
    return db.getMany(keys)
  },

  async count (gte, lt) {
    return (await db.keys({ gte, lt }).all()).length
  },

  async close () {
    await db.close()
    return db.status
  },

  // Opens, writes a key, closes, `rounds` times, each after a short random pause.
  async cycle (location, options, rounds, prefix) {
    for (let i = 0; i < rounds; i++) {
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 5)))
      const own = new Todb(location)
      await own.open(options)
      await own.put(`${prefix}${i}`, 'x')
      await own.close()
    }
    return rounds
  },

  // `lanes` loops of writes that never end; every 8th write is a sync one (it goes to the pool).
  writeLoop (prefix, lanes) {
    for (let lane = 0; lane < lanes; lane++) {
      (async () => {
        for (let i = 0; ; i++) {
          const key = `${prefix}${lane}-${String(i).padStart(6, '0')}`
          await db.put(key, 'v' + i, { sync: i % 8 === 0 })
          parentPort.postMessage({ ack: key })
        }
      })().catch((err) => parentPort.postMessage({ loopError: plain(err) }))
    }
    return 'started'
  }
}

parentPort.on('message', async ({ id, op, args }) => {
  try {
    parentPort.postMessage({ id, result: await ops[op](...args) })
  } catch (err) {
    parentPort.postMessage({ id, error: plain(err) })
  }
})
