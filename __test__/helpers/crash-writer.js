'use strict'

// Child process of crash.test.js. Opens the database, prints "ready", then
// issues the units of crash-ops.js one at a time: unit i is issued only after
// unit i-1 was acknowledged, and after each acknowledgement it prints i (one
// line, written synchronously so that nothing sits in a buffer when it is
// killed). It runs until it is killed with SIGKILL.
//
//   node crash-writer.js <location> <mode> <seed> <cycle> <writeBufferSize>

const fs = require('node:fs')
const path = require('node:path')
const { Todb } = require(path.join(__dirname, '..', '..'))
const { unit } = require('./crash-ops.js')

const [location, mode, seedArg, cycleArg, writeBufferSizeArg] = process.argv.slice(2)
const seed = Number(seedArg)
const cycle = Number(cycleArg)

function say (line) {
  fs.writeSync(1, line + '\n')
}

async function main () {
  const db = new Todb(location, { writeBufferSize: Number(writeBufferSizeArg) })
  await db.open()
  say('ready')
  for (let i = 0; i < 10000000; i++) {
    const u = unit(mode, seed, cycle, i)
    const options = { sync: u.sync }
    if (mode !== 'batch') {
      const op = u.ops[0]
      if (op.type === 'put') await db.put(op.key, op.value, options)
      else await db.del(op.key, options)
    } else if (u.chained) {
      const batch = db.batch()
      for (const op of u.ops) {
        if (op.type === 'put') batch.put(op.key, op.value)
        else batch.del(op.key)
      }
      await batch.write(options)
    } else {
      await db.batch(u.ops, options)
    }
    say(String(i))
  }
  say('done')
  await db.close()
}

main().catch((err) => {
  fs.writeSync(2, `crash-writer failed: ${err && err.stack}\n` +
    JSON.stringify({ code: err && err.code, cause: err && err.cause && err.cause.code }) + '\n')
  process.exit(1)
})
