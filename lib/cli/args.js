'use strict'

// The command line of one todb subcommand, parsed against the options that command declares.
// No dependency: the grammar is small and fixed. `--name value` and `--name=value` both work; a
// string option takes the next argument whatever it looks like (keys may start with '-'); `--`
// ends the options, so `todb get db -- -k` reads the key '-k'; a lone '-' is a positional (stdin).
// Anything the command did not declare is a UsageError, which the dispatcher turns into exit 2.

const { UsageError } = require('./errors.js')

// spec: { options: { name: { type: 'boolean' | 'string' | 'integer', short?, min? } },
//         positionals: [names...], optional?: number of trailing positionals that may be absent }
// Returns { values, positionals }: values has every declared option (booleans false, others
// undefined when absent), positionals the arguments by position.
function parseArgs (argv, spec) {
  const options = spec.options || {}
  const shorts = new Map()
  for (const [name, def] of Object.entries(options)) {
    if (def.short) shorts.set(def.short, name)
  }
  const values = {}
  for (const [name, def] of Object.entries(options)) values[name] = def.type === 'boolean' ? false : undefined
  const positionals = []

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    if (arg === '-' || !arg.startsWith('-')) {
      positionals.push(arg)
      continue
    }
    let name
    let inline
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=')
      name = arg.slice(2, eq === -1 ? undefined : eq)
      if (eq !== -1) inline = arg.slice(eq + 1)
    } else if (arg.length === 2 && shorts.has(arg[1])) {
      name = shorts.get(arg[1])
    }
    const def = name !== undefined && Object.prototype.hasOwnProperty.call(options, name) ? options[name] : undefined
    if (def === undefined) throw new UsageError(`unknown option ${arg}`)
    if (def.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`)
      values[name] = true
      continue
    }
    let raw = inline
    if (raw === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`--${name} needs a value`)
      raw = argv[++i]
    }
    values[name] = def.type === 'integer' ? integer(name, raw, def.min) : raw
  }

  const names = spec.positionals || []
  const required = names.length - (spec.optional || 0)
  if (positionals.length < required) throw new UsageError(`missing <${names[positionals.length]}>`)
  if (positionals.length > names.length) {
    throw new UsageError(`unexpected argument '${positionals[names.length]}'`)
  }
  return { values, positionals }
}

function integer (name, raw, min = 0) {
  if (!/^-?\d+$/.test(raw)) throw new UsageError(`--${name} needs an integer, not '${raw}'`)
  const n = Number(raw)
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, not '${raw}'`)
  return n
}

module.exports = { parseArgs }
