#!/usr/bin/env node
'use strict'

// The todb command line: `todb <command> <dir> ...` (todb --help lists the commands). All of it
// lives in lib/cli/; this file only hands over the arguments and sets the exit code. The code is
// set, not forced with process.exit(), so output still buffered for a pipe is written first, and
// `todb serve` (no code) keeps running until a signal stops it.

const { main } = require('../lib/cli/main.js')

main(process.argv.slice(2)).then((code) => {
  if (code !== undefined) process.exitCode = code
}, (err) => {
  process.stderr.write(`todb: ${err && err.stack ? err.stack : err}\n`)
  process.exitCode = 1
})
