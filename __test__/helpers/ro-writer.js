'use strict'

// Child process of read-only.test.js: the writer that a read-only database in the parent reads.
// With tiny buffers and tables, so that it flushes and compacts all the time, it writes batch
// after batch: batch `id` overwrites the KEYS keys of group `id % GROUPS` with its id. It prints
// "ready" once batch 0 is written, then each batch's id once the batch is acknowledged (one line,
// written synchronously), and "done" after `seconds` seconds or when its stdin closes; then it
// closes the database and exits.
//
//   node ro-writer.js <location> <groups> <keys> <seconds>

const fs = require('node:fs')
const path = require('node:path')
const { Todb } = require(path.join(__dirname, '..', '..'))

const [location, groupsArg, keysArg, secondsArg] = process.argv.slice(2)
const GROUPS = Number(groupsArg)
const KEYS = Number(keysArg)
const PAD = 'p'.repeat(200)

function say (line) {
  fs.writeSync(1, line + '\n')
}

function operations (id) {
  const group = String(id % GROUPS).padStart(2, '0')
  const value = String(id).padStart(10, '0') + '|' + PAD
  const ops = []
  for (let j = 0; j < KEYS; j++) ops.push({ type: 'put', key: `g${group}-${j}`, value })
  return ops
}

async function main () {
  const db = new Todb(location, { writeBufferSize: 8 * 1024, maxFileSize: 8 * 1024 })
  await db.open()
  await db.batch(operations(0))
  say('ready')
  let stop = false
  process.stdin.on('end', () => { stop = true }).resume()
  const deadline = Date.now() + Number(secondsArg) * 1000
  for (let id = 1; !stop && Date.now() < deadline; id++) {
    await db.batch(operations(id))
    say(String(id))
    // Now and then a manual compaction of everything, besides the ones the writes cause.
    if (id % 1000 === 0) await db.compactRange('g', 'h')
  }
  say('done')
  await db.close()
  process.exit(0)
}

main().catch((err) => {
  fs.writeSync(2, `ro-writer failed: ${err && err.stack}\n`)
  process.exit(1)
})
