'use strict'

// A one-line progress display for long commands, drawn on a terminal and nowhere else: when the
// stream is not a TTY (a pipe, a file, a test harness) nothing is ever written, so scripts see
// only the command's own output. update() only records numbers; a timer redraws at most
// REDRAWS_PER_SECOND times a second, so a loop may call update() per key at no cost, and the
// elapsed time (or the spinner, when the total is unknown) keeps moving while one long native
// call runs. finish() erases the line, leaving the terminal as it was for the summary that follows.

const REDRAWS_PER_SECOND = 10
const SPINNER = '|/-\\'
const BAR_MAX = 30

class Progress {
  // total: the amount that means done, in the same unit as update()'s `done`; 0 or undefined
  // when it is not known (then a spinner replaces the bar). format(done): how to show `done`, or
  // null to show only `detail`.
  constructor ({ label, total, format = String, stream = process.stderr, enabled = !!stream.isTTY }) {
    this.label = label
    this.total = total || 0
    this.format = format
    this.stream = stream
    this.enabled = enabled
    this.done = 0
    this.detail = ''
    this.started = Date.now()
    this.frame = 0
    this.drawn = false
    this.timer = null
    if (this.enabled) {
      this.timer = setInterval(() => this.draw(), 1000 / REDRAWS_PER_SECOND)
      this.timer.unref()
      this.draw()
    }
  }

  update (done, detail) {
    this.done = done
    if (detail !== undefined) this.detail = detail
  }

  setTotal (total) {
    this.total = total || 0
  }

  draw () {
    if (!this.enabled) return
    this.stream.write('\r' + this.line() + '\x1b[K')
    this.drawn = true
  }

  // The text of the line, cut to the terminal's width so it never wraps (a wrapped line cannot be
  // redrawn in place with '\r').
  line () {
    const elapsed = clock(Date.now() - this.started)
    const counted = [this.format ? this.format(this.done) : '', this.detail, elapsed].filter(Boolean).join('  ')
    let line
    if (this.total > 0) {
      const fraction = Math.min(1, this.done / this.total)
      const width = Math.max(10, Math.min(BAR_MAX, (this.stream.columns || 80) - this.label.length - counted.length - 12))
      const filled = Math.round(fraction * width)
      const bar = '#'.repeat(filled) + '-'.repeat(width - filled)
      line = `${this.label} [${bar}] ${String(Math.floor(fraction * 100)).padStart(3)}%  ${counted}`
    } else {
      line = `${this.label} ${SPINNER[this.frame++ % SPINNER.length]}  ${counted}`
    }
    const columns = this.stream.columns || 80
    return line.length >= columns ? line.slice(0, columns - 1) : line
  }

  finish () {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    if (this.drawn) this.stream.write('\r\x1b[K')
    this.drawn = false
  }
}

function clock (ms) {
  const s = Math.floor(ms / 1000)
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}

// 1234567 -> '1.2 MB'; sizes in the progress line and in summaries.
function formatBytes (n) {
  if (n < 1024) return `${n} B`
  const units = ['KB', 'MB', 'GB', 'TB']
  let value = n
  let unit = -1
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${value.toFixed(1)} ${units[unit]}`
}

module.exports = { Progress, formatBytes }
