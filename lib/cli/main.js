'use strict'

// The todb command: finds the subcommand, parses its options against what it declares, runs it,
// and turns what happened into an exit code (errors.js says which). Every command is a record
// { name, synopsis, summary, help, options, positionals, optional, run }, defined with its
// group's other commands; this file only knows the list. run() gets the parsed command line and
// the process's streams, and either resolves (exit 0) or throws.

const { parseArgs } = require('./args.js')
const { UsageError, describe } = require('./errors.js')

const COMMANDS = [
  ...require('./data.js').commands,
  ...require('./transfer.js').commands,
  ...require('./stats.js').commands,
  ...require('./maintenance.js').commands,
  ...require('./serve.js').commands
]
const byName = new Map(COMMANDS.map((c) => [c.name, c]))
const HELP_OPTION = { type: 'boolean', short: 'h' }

function overview () {
  const width = Math.max(...COMMANDS.map((c) => c.name.length))
  return `Usage: todb <command> <dir> [arguments] [options]

Works on the todb (LevelDB-format) database in the directory <dir>.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}
  ${'help'.padEnd(width)}  show this help, or a command's: todb help <command>

Keys and values on the command line are UTF-8 text; --hex takes them as hex where offered.
Run 'todb <command> --help' for a command's arguments and options.
Exit codes: 0 done, 1 failed (a missing key included), 2 bad command line or refused.
`
}

function commandHelp (command) {
  return `Usage: todb ${command.synopsis}\n\n${command.help}\n`
}

function shortUsage (command) {
  return `Usage: todb ${command.synopsis}\nRun 'todb help ${command.name}' for details.\n`
}

// Resolves to the exit code, or undefined for a command that keeps running (serve).
async function main (argv, io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }) {
  const [name, ...args] = argv
  if (name === undefined) {
    io.stderr.write(overview())
    return 2
  }
  if (name === '-h' || name === '--help') {
    io.stdout.write(overview())
    return 0
  }
  if (name === '--version') {
    io.stdout.write(require('../../package.json').version + '\n')
    return 0
  }
  if (name === 'help') {
    if (args.length === 0) {
      io.stdout.write(overview())
      return 0
    }
    const command = byName.get(args[0])
    if (command === undefined || args.length > 1) {
      io.stderr.write(`todb: ${command === undefined ? `no command '${args[0]}'` : 'help takes one command'}\n${overview()}`)
      return 2
    }
    io.stdout.write(commandHelp(command))
    return 0
  }
  const command = byName.get(name)
  if (command === undefined) {
    io.stderr.write(`todb: unknown command '${name}'\n${overview()}`)
    return 2
  }
  const end = args.indexOf('--')
  if ((end === -1 ? args : args.slice(0, end)).some((a) => a === '-h' || a === '--help')) {
    io.stdout.write(commandHelp(command))
    return 0
  }

  let parsed
  try {
    parsed = parseArgs(args, { ...command, options: { ...command.options, help: HELP_OPTION } })
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    io.stderr.write(`todb: ${err.message}\n${shortUsage(command)}`)
    return 2
  }
  try {
    await command.run({ ...parsed, ...io })
    return command.name === 'serve' ? undefined : 0
  } catch (err) {
    io.stderr.write(`todb: ${describe(err, parsed.positionals[0])}\n`)
    if (err instanceof UsageError) io.stderr.write(shortUsage(command))
    return typeof err.exitCode === 'number' ? err.exitCode : 1
  }
}

module.exports = { main, COMMANDS }
