'use strict'

// The command-line reading shared by the bench scripts: `--name value` pairs after the script.

const argv = process.argv.slice(2)

// The value after `--name`, or `fallback` when the flag is absent.
function arg (name, fallback) {
  const i = argv.indexOf(`--${name}`)
  return i >= 0 ? argv[i + 1] : fallback
}

// True when the bare flag `--name` was given.
const flag = (name) => argv.includes(`--${name}`)

module.exports = { argv, arg, flag }
