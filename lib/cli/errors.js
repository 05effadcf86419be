'use strict'

// What can go wrong in a todb command, and the one line a user sees for it. Exit codes: 2 for a
// command line the tool cannot run (UsageError, or a request that needs a confirmation it cannot
// get), 1 for everything that went wrong while running (CliError, or an error from the database,
// whose LEVEL_* code is shown with a hint where one helps), 0 otherwise.

class UsageError extends Error {
  constructor (message) {
    super(message)
    this.name = 'UsageError'
    this.exitCode = 2
  }
}

// An expected failure with a message written for the user; `code` is shown like a LEVEL_* code.
class CliError extends Error {
  constructor (message, { exitCode = 1, code } = {}) {
    super(message)
    this.name = 'CliError'
    this.exitCode = exitCode
    if (code !== undefined) this.code = code
  }
}

// abstract-level wraps a failed open() in LEVEL_DATABASE_NOT_OPEN "Database failed to open"; the
// cause is what the user needs to read.
function rootCause (err) {
  if (err && err.code === 'LEVEL_DATABASE_NOT_OPEN' && err.cause instanceof Error) return err.cause
  return err
}

// One line (no newline in it) for `err`, raised while working on the database in `dir`.
function describe (err, dir) {
  if (err instanceof UsageError || err instanceof CliError) return oneLine(err.message) + codeSuffix(err)
  const cause = rootCause(err)
  const message = oneLine(cause && cause.message ? cause.message : String(cause))
  const code = cause && cause.code
  const where = dir === undefined ? '' : `${dir}: `
  switch (code) {
    case 'LEVEL_LOCKED':
      return `${where}the database is in use by another process or handle (LEVEL_LOCKED: ${message}); ` +
        'stop the process holding it (for example a running `todb serve`) or go through that process'
    case 'LEVEL_INVALID_ARGUMENT':
      if (/does not exist/.test(message)) {
        return `${where}no database here (LEVEL_INVALID_ARGUMENT); \`todb put\` or \`todb load\` creates one`
      }
      break
    case 'LEVEL_CORRUPTION':
      return `${where}${message} (LEVEL_CORRUPTION); \`todb repair\` rebuilds what is readable`
  }
  return `${where}${message}${codeSuffix(cause)}`
}

function codeSuffix (err) {
  return err && typeof err.code === 'string' && err.code !== '' ? ` (${err.code})` : ''
}

function oneLine (text) {
  return String(text).replace(/\s*\n\s*/g, '; ').trim()
}

module.exports = { UsageError, CliError, describe, rootCause }
