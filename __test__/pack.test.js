'use strict'

// The package as a consumer gets it. `npm pack` makes todb's tarball and its linux-x64 platform
// package's (with the addon this checkout built copied into a temporary copy of npm/<platform>);
// both are installed into a fresh project with no Rust toolchain on PATH, and a database is used
// there through require('todb'). Installing todb's tarball alone must fail with the install
// script's one message. docs/install.md describes the install story this checks.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const { tmpDir, rmDir } = require('./helpers/util.js')

const repo = path.join(__dirname, '..')
const pkg = require('../package.json')
const onLinuxX64 = process.platform === 'linux' && process.arch === 'x64'
const skip = onLinuxX64 ? false : `packs the linux-x64 platform package, and this is ${process.platform}-${process.arch}`

// Each child process is bounded; together they stay well under the two minutes of a test.
const NPM_TIMEOUT = 90_000
const NODE_TIMEOUT = 30_000

let work, env, npmCommand, platform, mainTarball, platformTarball

// Runs a command in its own process group and resolves with its exit code and output. On timeout
// the whole group is killed (npm's script children too) and the promise rejects with the output.
function run (command, args, { cwd, timeout }) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => { stdout += chunk })
    child.stderr.on('data', (chunk) => { stderr += chunk })
    const timer = setTimeout(() => {
      try { process.kill(-child.pid, 'SIGKILL') } catch {}
      reject(new Error(`${path.basename(command)} ${args.join(' ')} timed out after ${timeout} ms\n${stdout}\n${stderr}`))
    }, timeout)
    child.on('error', (err) => { clearTimeout(timer); reject(err) })
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }) })
  })
}

function npm (args, cwd) {
  return run(npmCommand[0], [...npmCommand.slice(1), ...args], { cwd, timeout: NPM_TIMEOUT })
}

function has (dir, name) {
  return fs.existsSync(path.join(dir, name))
}

// A PATH without any directory that holds cargo or rustc, with this node (and npm's own
// directory, if it survives) first.
function pathWithoutRust () {
  const shims = path.join(work, 'bin')
  fs.mkdirSync(shims)
  fs.symlinkSync(process.execPath, path.join(shims, 'node'))
  const dirs = process.env.PATH.split(path.delimiter)
    .filter((dir) => dir && !has(dir, 'cargo') && !has(dir, 'rustc'))
  return [shims, ...dirs].join(path.delimiter)
}

// npm as `node npm-cli.js`, so that it does not need its own directory on PATH.
function findNpm () {
  for (const dir of process.env.PATH.split(path.delimiter)) {
    const file = path.join(dir, 'npm')
    if (!dir || !fs.existsSync(file)) continue
    const real = fs.realpathSync(file)
    return real.endsWith('.js') ? [process.execPath, real] : [real]
  }
  throw new Error('npm is not on PATH')
}

function newProject (name) {
  const dir = path.join(work, name)
  fs.mkdirSync(dir)
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }))
  return dir
}

async function pack (cwd) {
  const result = await npm(['pack', '--json', '--pack-destination', work], cwd)
  assert.equal(result.code, 0, `npm pack in ${cwd} failed:\n${result.stderr}`)
  const [info] = JSON.parse(result.stdout)
  return { tarball: path.join(work, info.filename), files: info.files.map((f) => f.path) }
}

before(async () => {
  if (skip) return
  process.report.excludeNetwork = true
  platform = `linux-x64-${process.report.getReport().header.glibcVersionRuntime ? 'gnu' : 'musl'}`
  const addon = path.join(repo, `${pkg.napi.binaryName}.${platform}.node`)
  assert.ok(fs.existsSync(addon), `${addon} is missing: run npm install (or npm run build) first`)

  work = tmpDir()
  npmCommand = findNpm()
  env = {}
  for (const [key, value] of Object.entries(process.env)) {
    // NOTE: an outer `npm test` passes its own npm_* settings, which must not steer these installs.
    if (/^npm_/i.test(key) || key === 'NODE_PATH' || key === 'NAPI_RS_NATIVE_LIBRARY_PATH') continue
    env[key] = value
  }
  env.PATH = pathWithoutRust()

  const main = await pack(repo)
  mainTarball = main.tarball
  for (const file of ['scripts/install.js', 'binding.js', 'binding.d.ts', 'index.js', 'Cargo.toml', 'Cargo.lock', 'build.rs', 'src/lib.rs']) {
    assert.ok(main.files.includes(file), `todb's tarball lacks ${file}`)
  }
  assert.deepEqual(main.files.filter((f) => f.endsWith('.node')), [], "todb's tarball must not carry an addon")

  const platformDir = path.join(work, `platform-${platform}`)
  fs.cpSync(path.join(repo, 'npm', platform), platformDir, { recursive: true })
  fs.copyFileSync(addon, path.join(platformDir, path.basename(addon)))
  const platformPack = await pack(platformDir)
  platformTarball = platformPack.tarball
  assert.ok(platformPack.files.includes(path.basename(addon)), 'the platform tarball lacks its addon')
})

after(() => { if (work) rmDir(work) })

test('the PATH for the installs finds no cargo or rustc', { skip }, () => {
  for (const dir of env.PATH.split(path.delimiter)) {
    assert.ok(!has(dir, 'cargo') && !has(dir, 'rustc'), `${dir} holds a Rust tool`)
  }
})

test('todb installs from its platform package without a Rust toolchain, and works', { skip, timeout: 120_000 }, async () => {
  const project = newProject('with-prebuilt')
  const install = await npm(['install', mainTarball, platformTarball,
    '--prefer-offline', '--no-audit', '--no-fund', '--foreground-scripts'], project)
  const output = install.stdout + install.stderr
  assert.equal(install.code, 0, `npm install failed:\n${output}`)
  assert.match(output, new RegExp(`todb: using the prebuilt binary \\.\\./todb-${platform}/todb\\.${platform}\\.node`))
  assert.doesNotMatch(output, /cargo build|Compiling/)
  const installed = path.join(project, 'node_modules', 'todb')
  assert.ok(!has(installed, 'target'), 'the install compiled: node_modules/todb/target exists')
  assert.ok(!has(installed, `todb.${platform}.node`), 'the install left an addon beside binding.js')

  fs.writeFileSync(path.join(project, 'use.js'), `
    const { Todb } = require('todb')
    const db = new Todb(process.argv[2])
    ;(async () => {
      await db.open()
      await db.put('key', 'value')
      await db.batch([{ type: 'put', key: 'a', value: '1' }, { type: 'del', key: 'key' }])
      const got = { a: await db.get('a'), key: await db.get('key') }
      await db.close()
      process.stdout.write(JSON.stringify(got))
    })()
  `)
  const use = await run(process.execPath, ['use.js', path.join(project, 'db')], { cwd: project, timeout: NODE_TIMEOUT })
  assert.equal(use.code, 0, `using the installed todb failed:\n${use.stderr}`)
  assert.deepEqual(JSON.parse(use.stdout), { a: '1' })
})

test('without a platform package or cargo the install fails with one message', { skip, timeout: 120_000 }, async () => {
  const project = newProject('without-prebuilt')
  const install = await npm(['install', mainTarball, '--prefer-offline', '--no-audit', '--no-fund'], project)
  const output = install.stdout + install.stderr
  assert.notEqual(install.code, 0, `npm install succeeded without a prebuilt or cargo:\n${output}`)
  const message = `todb: cannot install on ${platform} (x86_64-unknown-linux-${platform.slice(-4) === 'musl' ? 'musl' : 'gnu'}): ` +
    'no prebuilt binary loads, and cargo is not on PATH to build one. ' +
    `Install the prebuilt package todb-${platform}@${pkg.version}`
  assert.equal(output.split(message).length - 1, 1, `expected the message once:\n${message}\nin:\n${output}`)
  assert.match(output, /or install Rust from https:\/\/rustup\.rs and run npm install again\./)
  assert.doesNotMatch(output, /Compiling|Cannot find native binding/)
})
