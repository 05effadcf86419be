'use strict'

// Child process for lock.test.js.
//   node lock-child.js <location> try   -> tries to open, prints one JSON line
//                                          with the outcome, closes, exits 0
//   node lock-child.js <location> hold  -> opens, writes 'held-by-child',
//                                          prints {"opened":true,"ready":true}
//                                          and stays alive until killed

const fs = require('node:fs')
const path = require('node:path')
const { Todb } = require(path.join(__dirname, '..', '..'))

const [location, mode = 'try'] = process.argv.slice(2)

function report (obj) {
  fs.writeSync(1, JSON.stringify(obj) + '\n')
}

async function main () {
  const db = new Todb(location)
  try {
    await db.open()
  } catch (err) {
    report({
      opened: false,
      code: err.code,
      message: err.message,
      causeCode: err.cause && err.cause.code,
      causeMessage: err.cause && err.cause.message
    })
    return
  }

  if (mode === 'hold') {
    await db.put('held-by-child', String(process.pid))
    report({ opened: true, ready: true, pid: process.pid })
    setInterval(() => {}, 60000) // keep the process (and the lock) alive
    return
  }

  const value = await db.get('written-by-parent')
  await db.put('written-by-child', 'yes')
  await db.close()
  report({ opened: true, value: value === undefined ? null : value })
}

main().catch((err) => {
  report({ unexpected: true, message: String(err && err.stack) })
  process.exitCode = 3
})
