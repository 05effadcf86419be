'use strict'

// How every command opens the database: through the package's own index.js with a user's
// defaults, keys and values as Buffers (commands decide how to show them). One deliberate
// difference: commands that only read (or reorganise) open with createIfMissing false, so that
// a mistyped directory is reported instead of silently becoming a new, empty database.

const path = require('node:path')
const { Todb } = require('../../index.js')

// Runs `work(db)` on the open database in `dir` and closes it, whether or not work failed. A
// failure to close is reported only when work itself succeeded (the first error is the story).
async function withDatabase (dir, { create = false } = {}, work) {
  const db = new Todb(path.resolve(dir), { keyEncoding: 'buffer', valueEncoding: 'buffer', createIfMissing: create })
  await db.open()
  let result
  try {
    result = await work(db)
  } catch (err) {
    await db.close().catch(() => {})
    throw err
  }
  await db.close()
  return result
}

module.exports = { Todb, withDatabase }
