'use strict'

// todb's install step (package.json "install"). It tries the prebuilt addon first: binding.js, the
// loader napi generates, loads a local todb.<platform>.node or the todb-<platform> package that npm
// installed as an optional dependency. Only when neither loads is the addon built from source, with
// cargo alone (a consumer has no @napi-rs/cli), and copied to the file name binding.js looks for.
// With no prebuilt and no cargo the install fails with one message that says what to install.
// docs/install.md tells the whole story.

const { spawnSync } = require('child_process')
const fs = require('fs')
const path = require('path')

const root = path.join(__dirname, '..')
const pkg = require('../package.json')
const binaryName = pkg.napi.binaryName
const packageName = pkg.napi.packageName || pkg.name

// napi's platform names (the suffix of todb-<platform> and of todb.<platform>.node) for the
// targets CI can build, and their Rust target triples.
const RUST_TARGETS = {
  'linux-x64-gnu': 'x86_64-unknown-linux-gnu',
  'linux-x64-musl': 'x86_64-unknown-linux-musl',
  'linux-arm64-gnu': 'aarch64-unknown-linux-gnu',
  'linux-arm64-musl': 'aarch64-unknown-linux-musl',
  'darwin-x64': 'x86_64-apple-darwin',
  'darwin-arm64': 'aarch64-apple-darwin',
  'win32-x64-msvc': 'x86_64-pc-windows-msvc',
  'win32-arm64-msvc': 'aarch64-pc-windows-msvc'
}

// The platform name binding.js derives from process.platform, process.arch and the C library.
function platformName () {
  const { platform, arch } = process
  if (platform === 'win32') return `win32-${arch}-msvc`
  if (platform !== 'linux') return `${platform}-${arch}`
  // NOTE: a glibc Node reports the glibc version it runs on; a musl Node reports none.
  process.report.excludeNetwork = true
  const libc = process.report.getReport().header.glibcVersionRuntime ? 'gnu' : 'musl'
  return arch === 'arm' ? `linux-arm-${libc}eabihf` : `linux-${arch}-${libc}`
}

// Loads binding.js in a child process, so that a failed or half-loaded addon never lives in this
// one. Returns the path of the .node file it loaded, or null.
function probe () {
  const script = "require('./binding.js');" +
    "process.stdout.write(Object.keys(require.cache).find((f) => f.endsWith('.node')) || '')"
  const child = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' })
  return child.status === 0 ? child.stdout || 'binding.js' : null
}

// Why an installed prebuilt package does not load: the first line of its error.
function loadError (specifier) {
  const script = `try { require(${JSON.stringify(specifier)}) } catch (e) { process.stdout.write(e.message) }`
  const child = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' })
  return (child.stdout || 'it loaded in a second try').split('\n')[0]
}

function hostTriple () {
  const rustc = spawnSync('rustc', ['-vV'], { encoding: 'utf8' })
  const match = rustc.status === 0 && /^host: (\S+)$/m.exec(rustc.stdout)
  return match ? match[1] : null
}

// Builds the cdylib with cargo and copies it to todb.<platform>.node beside binding.js. Returns
// false when cargo is not installed; throws when the build fails.
function buildFromSource (platform) {
  if (spawnSync('cargo', ['--version'], { stdio: 'ignore' }).error) return false
  // NOTE: --target puts the build where `napi build` puts it (target/<triple>/release), so in a
  // checkout the two share their compiled dependencies.
  const host = hostTriple()
  const args = ['build', '--release', '--message-format=json-render-diagnostics']
  if (host) args.push('--target', host)
  console.error(`todb: no prebuilt binary for ${platform}; building from source: cargo ${args.join(' ')}`)
  const cargo = spawnSync('cargo', args, {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 256 * 1024 * 1024
  })
  if (cargo.status !== 0) {
    throw new Error(`todb: cargo build failed (${cargo.error || `exit code ${cargo.status}`}); its output above says why`)
  }
  // cargo names the cdylib per OS (libtodb.so, libtodb.dylib, todb.dll) and may put it under a
  // CARGO_TARGET_DIR: its own artifact messages say where it is.
  const library = cargo.stdout.split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line))
    .filter((msg) => msg.reason === 'compiler-artifact' && msg.target.kind.includes('cdylib'))
    .flatMap((msg) => msg.filenames)
    .find((file) => /\.(so|dylib|dll)$/.test(file))
  if (!library) throw new Error('todb: cargo build succeeded but reported no cdylib to copy')
  fs.copyFileSync(library, path.join(root, `${binaryName}.${platform}.node`))
  return true
}

function main () {
  const platform = platformName()
  const prebuilt = probe()
  if (prebuilt) {
    console.error(`todb: using the prebuilt binary ${path.relative(root, prebuilt) || prebuilt}`)
    return
  }
  if (buildFromSource(platform)) {
    const built = probe()
    if (!built) throw new Error(`todb: the addon built from source does not load (${loadError('./binding.js')})`)
    console.error(`todb: built from source: ${path.relative(root, built)}`)
    return
  }
  const triple = RUST_TARGETS[platform]
  const detected = triple ? `${platform} (${triple})` : platform
  const rust = 'install Rust from https://rustup.rs and run npm install again'
  const name = `${packageName}-${platform}`
  let fix
  if (!triple || !pkg.napi.targets.includes(triple)) {
    fix = `todb publishes no prebuilt binary for this platform: ${rust}.`
  } else if (isInstalled(name)) {
    fix = `The prebuilt package ${name} is installed but does not load (${loadError(name)}): reinstall it, or ${rust}.`
  } else {
    fix = `Install the prebuilt package ${name}@${pkg.version} (npm adds it with todb unless optional ` +
      `dependencies are omitted), or ${rust}.`
  }
  throw new Error(`todb: cannot install on ${detected}: no prebuilt binary loads, and cargo is not on PATH to build one. ${fix}`)
}

function isInstalled (name) {
  try {
    require.resolve(`${name}/package.json`, { paths: [root] })
    return true
  } catch {
    return false
  }
}

try {
  main()
} catch (err) {
  console.error(err.message)
  process.exitCode = 1
}
