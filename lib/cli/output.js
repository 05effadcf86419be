'use strict'

// Writing a command's results. Output is gathered into chunks of CHUNK_BYTES and
// handed to the stream with its backpressure respected, so a long scan costs a write per chunk,
// not per line, and memory stays bounded when the reader is slow. A reader that goes away
// (`todb scan db | head`) ends the process quietly with exit 0, as other Unix filters do; that is
// safe because only read-only commands stream to stdout. writeSummary is the closing line of the
// long commands.

const CHUNK_BYTES = 64 * 1024

class Output {
  constructor (stream) {
    this.stream = stream
    this.parts = []
    this.size = 0
    if (stream === process.stdout) quietOnEpipe(stream)
  }

  // Resolves at once unless the stream asked to wait; callers await it in their loops.
  write (data) {
    this.parts.push(data)
    // A string's length in UTF-16 units is close enough for choosing when to flush.
    this.size += data.length
    if (this.size < CHUNK_BYTES) return undefined
    return this.flush()
  }

  async flush () {
    if (this.parts.length === 0) return
    const chunk = Buffer.concat(this.parts.map((p) => typeof p === 'string' ? Buffer.from(p, 'utf8') : p))
    this.parts = []
    this.size = 0
    if (!this.stream.write(chunk)) await new Promise((resolve) => this.stream.once('drain', resolve))
  }

  // Flushes, then for a file stream waits until every byte reached the file.
  async end () {
    await this.flush()
    if (this.stream === process.stdout || this.stream === process.stderr) return
    await new Promise((resolve, reject) => {
      this.stream.once('error', reject)
      this.stream.end(resolve)
    })
  }
}

// The closing line of a long command: `text` for people on stderr, or with --json `record` as
// a JSON line, on stdout unless stdout carries the command's data (a dump), then on stderr.
function writeSummary ({ json, stdout, stderr, dataOnStdout = false }, record, text) {
  if (json) (dataOnStdout ? stderr : stdout).write(JSON.stringify(record) + '\n')
  else stderr.write(`todb: ${text}\n`)
}

let quiet = false
function quietOnEpipe (stream) {
  if (quiet) return
  quiet = true
  stream.on('error', (err) => {
    if (err.code === 'EPIPE') process.exit(0)
    process.stderr.write(`todb: cannot write output: ${err.message}\n`)
    process.exit(1)
  })
}

module.exports = { Output, writeSummary }
