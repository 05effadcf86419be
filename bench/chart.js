'use strict'

// Renders a PNG bar chart of benchmark ratios (todb ÷ another store, higher is better) with no
// dependencies: an RGB pixel buffer, an embedded 5x7 bitmap font and a minimal PNG encoder.
// Consecutive rows with the same name form one group (one workload, one bar per store it is
// compared with), labelled by each row's optional `series`. A bar is green when it meets its
// target, red when it does not, and blue-grey when it has no target.
//
//   const { drawRatioChart, writeRatioChart } = require('./chart')
//   writeRatioChart('ratios.png', [
//     { name: 'fillseq', series: 'vs classic', ratio: 12.3, target: 5 },
//     { name: 'fillseq', series: 'vs lmdb', ratio: 2.1, target: 1.5 }
//   ], { title: 'todb vs classic-level and lmdb', subtitle: '1M entries, 100-byte values' })

const fs = require('node:fs')
const zlib = require('node:zlib')

// 5x7 font for ASCII 32-126: five column bytes per glyph, bit 0 is the top row.
const FONT = [
  '0000000000', '00005f0000', '0007000700', '147f147f14', '242a7f2a12', // space ! " # $
  '2313086462', '3649552250', '0005030000', '001c224100', '0041221c00', // % & ' ( )
  '082a1c2a08', '08083e0808', '0050300000', '0808080808', '0060600000', // * + , - .
  '2010080402', '3e5149453e', '00427f4000', '4261514946', '2141454b31', // / 0 1 2 3
  '1814127f10', '2745454539', '3c4a494930', '0171090503', '3649494936', // 4 5 6 7 8
  '064949291e', '0036360000', '0056360000', '0008142241', '1414141414', // 9 : ; < =
  '4122140800', '0201510906', '324979413e', '7e1111117e', '7f49494936', // > ? @ A B
  '3e41414122', '7f4141221c', '7f49494941', '7f09090101', '3e41415132', // C D E F G
  '7f0808087f', '00417f4100', '2040413f01', '7f08142241', '7f40404040', // H I J K L
  '7f0204027f', '7f0408107f', '3e4141413e', '7f09090906', '3e4151215e', // M N O P Q
  '7f09192946', '4649494931', '01017f0101', '3f4040403f', '1f2040201f', // R S T U V
  '7f2018207f', '6314081463', '0304780403', '6151494543', '00007f4141', // W X Y Z [
  '0204081020', '41417f0000', '0402010204', '4040404040', '0001020400', // \ ] ^ _ `
  '2054545478', '7f48444438', '3844444420', '384444487f', '3854545418', // a b c d e
  '087e090102', '0814545c3c', '7f08040478', '00447d4000', '2040443d00', // f g h i j
  '007f102844', '00417f4000', '7c04180478', '7c08040478', '3844444438', // k l m n o
  '7c14141408', '081414187c', '7c08040408', '4854545420', '043f444020', // p q r s t
  '3c4040207c', '1c2040201c', '3c4030403c', '4428102844', '0c5050503c', // u v w x y
  '4464544c44', '0008364100', '00007f0000', '0041360800', '0804080408' //  z { | } ~
].map((hex) => Array.from(Buffer.from(hex, 'hex')))

// Lower-case letters with real descenders, drawn into rows 7 and 8 below the baseline.
Object.assign(FONT, {
  [0x67 - 32]: [0x038, 0x144, 0x144, 0x144, 0x0fc], // g
  [0x6a - 32]: [0x100, 0x100, 0x104, 0x0fd, 0x000], // j
  [0x70 - 32]: [0x1fc, 0x044, 0x044, 0x044, 0x038], // p
  [0x71 - 32]: [0x038, 0x044, 0x044, 0x044, 0x1fc], // q
  [0x79 - 32]: [0x03c, 0x140, 0x140, 0x140, 0x0fc] // y
})

const GLYPH_W = 5
const GLYPH_H = 7 // cap height; descenders use two more rows
const GLYPH_ROWS = 9
const ADVANCE = GLYPH_W + 1

const WHITE = [255, 255, 255]
const BLACK = [30, 30, 30]
const GREY = [110, 110, 110]
const GRID = [222, 222, 222]
const GRID_ONE = [150, 150, 150]
const STRIPE = [246, 247, 249]
const GREEN = [46, 158, 68]
const RED = [214, 57, 43]
const NEUTRAL = [120, 144, 176]
const TICK = [20, 20, 20]

const WIDTH = 900
const ROW_H = 28
const BAR_H = 18
const SCALE = 2
const MARGIN = 20
const MIN_RATIO = 0.5 // the axis starts here, or lower when a ratio is lower

class Canvas {
  constructor (width, height, color = WHITE) {
    this.width = width
    this.height = height
    this.pixels = Buffer.alloc(width * height * 3)
    this.fillRect(0, 0, width, height, color)
  }

  fillRect (x, y, w, h, color) {
    const x0 = Math.max(0, Math.round(x))
    const y0 = Math.max(0, Math.round(y))
    const x1 = Math.min(this.width, Math.round(x + w))
    const y1 = Math.min(this.height, Math.round(y + h))
    for (let yy = y0; yy < y1; yy++) {
      let i = (yy * this.width + x0) * 3
      for (let xx = x0; xx < x1; xx++) {
        this.pixels[i++] = color[0]
        this.pixels[i++] = color[1]
        this.pixels[i++] = color[2]
      }
    }
  }

  // Draws text with its top-left corner at (x, y); returns the x just past the last glyph.
  text (str, x, y, color, scale = SCALE, bold = false) {
    if (bold) this.text(str, x + 1, y, color, scale)
    x = Math.round(x)
    y = Math.round(y)
    for (const ch of String(str)) {
      const code = ch.charCodeAt(0)
      const glyph = FONT[code >= 32 && code <= 126 ? code - 32 : 31] // '?' for the rest
      for (let col = 0; col < GLYPH_W; col++) {
        const bits = glyph[col]
        for (let row = 0; row < GLYPH_ROWS; row++) {
          if (bits & (1 << row)) this.fillRect(x + col * scale, y + row * scale, scale, scale, color)
        }
      }
      x += ADVANCE * scale
    }
    return x
  }
}

function textWidth (str, scale = SCALE) {
  const n = [...String(str)].length
  return n === 0 ? 0 : (n * ADVANCE - 1) * scale
}

// Shortens str with '..' so that it fits in maxWidth pixels.
function fit (str, maxWidth, scale = SCALE) {
  str = String(str)
  if (textWidth(str, scale) <= maxWidth) return str
  const chars = [...str]
  while (chars.length > 0 && textWidth(chars.join('') + '..', scale) > maxWidth) chars.pop()
  return chars.join('') + '..'
}

// Splits str into lines of at most maxWidth pixels, breaking at spaces where it can.
function wrap (str, maxWidth, scale = SCALE) {
  const lines = []
  let line = ''
  for (const word of String(str).split(/\s+/).filter(Boolean)) {
    const next = line ? line + ' ' + word : word
    if (textWidth(next, scale) <= maxWidth || !line) {
      line = next
    } else {
      lines.push(line)
      line = word
    }
  }
  if (line) lines.push(line)
  return lines.map((l) => fit(l, maxWidth, scale))
}

function formatRatio (ratio) {
  if (!Number.isFinite(ratio) || ratio <= 0) return 'n/a'
  if (ratio >= 100) return Math.round(ratio) + 'x'
  if (ratio < 1) return ratio.toFixed(2) + 'x'
  return ratio.toFixed(1) + 'x'
}

function isPowerOfTen (value) {
  return Math.abs(Math.log10(value) - Math.round(Math.log10(value))) < 1e-9
}

function formatTick (value) {
  return (value >= 1 ? String(Math.round(value)) : String(value)) + 'x'
}

// --- PNG encoding ---------------------------------------------------------------------------

let crcTable = null

function crc32 (buf) {
  if (typeof zlib.crc32 === 'function') return zlib.crc32(buf)
  if (crcTable === null) {
    crcTable = new Uint32Array(256)
    for (let n = 0; n < 256; n++) {
      let c = n
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
      crcTable[n] = c >>> 0
    }
  }
  let crc = 0xffffffff
  for (let i = 0; i < buf.length; i++) crc = crcTable[(crc ^ buf[i]) & 0xff] ^ (crc >>> 8)
  return (crc ^ 0xffffffff) >>> 0
}

function chunk (type, data) {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body) >>> 0)
  return Buffer.concat([length, body, crc])
}

function encodePng (canvas) {
  const { width, height, pixels } = canvas
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 2 // colour type: RGB
  ihdr[10] = 0 // compression
  ihdr[11] = 0 // filter method
  ihdr[12] = 0 // no interlace
  const stride = width * 3
  const raw = Buffer.alloc((stride + 1) * height)
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 0 // filter type: none
    pixels.copy(raw, y * (stride + 1) + 1, y * stride, (y + 1) * stride)
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0))
  ])
}

// --- Chart ----------------------------------------------------------------------------------

function drawRatioChart (rows, options = {}) {
  rows = Array.isArray(rows) ? rows : []
  const title = options.title ? String(options.title) : ''
  const subtitle = options.subtitle ? String(options.subtitle) : ''
  const textH = GLYPH_H * SCALE

  // Axis: 0.5x (or the power of ten below the smallest ratio) up to the next power of ten above
  // the largest ratio, at least 100x.
  let maxRatio = 1
  let minRatio = MIN_RATIO
  for (const row of rows) {
    for (const v of [row.ratio, row.target]) {
      if (Number.isFinite(v) && v > maxRatio) maxRatio = v
      if (Number.isFinite(v) && v > 0 && v < minRatio) minRatio = v
    }
  }
  const axisMax = Math.max(100, Math.pow(10, Math.ceil(Math.log10(maxRatio) - 1e-9)))
  const axisMin = minRatio < MIN_RATIO ? Math.max(0.001, Math.pow(10, Math.floor(Math.log10(minRatio) + 1e-9))) : MIN_RATIO

  // Groups: runs of rows with one name; stripes alternate by group, the name is drawn once.
  const group = []
  rows.forEach((row, i) => { group.push(i > 0 && row.name === rows[i - 1].name ? group[i - 1] : (i > 0 ? group[i - 1] + 1 : 0)) })
  const hasSeries = rows.some((r) => r.series)

  // Horizontal layout: the label column holds the name and, right-aligned, the series.
  const nameW = Math.max(0, ...rows.map((r) => textWidth(r.name)))
  const seriesW = hasSeries ? Math.max(0, ...rows.map((r) => textWidth(r.series || ''))) : 0
  const labelW = Math.min(hasSeries ? 400 : 280, Math.max(60, nameW + (hasSeries ? 16 + seriesW : 0)))
  const plotX0 = MARGIN + labelW + 12
  const plotX1 = WIDTH - MARGIN - textWidth('9999x') - 8
  const logMin = Math.log10(axisMin)
  const logSpan = Math.log10(axisMax) - logMin
  const xOf = (v) => plotX0 + (Math.log10(Math.min(Math.max(v, axisMin), axisMax)) - logMin) / logSpan * (plotX1 - plotX0)

  // Vertical layout: title (larger if it fits on one line) and subtitle, wrapped.
  const textMaxW = WIDTH - 2 * MARGIN
  const titleScale = textWidth(title, 3) <= textMaxW ? 3 : SCALE
  const titleLines = wrap(title, textMaxW, titleScale)
  const subtitleLines = wrap(subtitle, textMaxW)
  let y = MARGIN
  const titleY = y
  y += titleLines.length * (GLYPH_ROWS + 2) * titleScale
  if (titleLines.length) y += 4
  const subtitleY = y
  y += subtitleLines.length * (GLYPH_ROWS + 2) * SCALE
  y += 14
  const axisTopY = y
  y += textH + 8
  const plotY0 = y
  const plotY1 = plotY0 + Math.max(1, rows.length) * ROW_H
  const axisBottomY = plotY1 + 6
  const legendY = axisBottomY + textH + 14
  const height = legendY + textH + MARGIN

  const c = new Canvas(WIDTH, height)

  titleLines.forEach((line, i) => {
    c.text(line, MARGIN, titleY + i * (GLYPH_ROWS + 2) * titleScale, BLACK, titleScale, true)
  })
  subtitleLines.forEach((line, i) => {
    c.text(line, MARGIN, subtitleY + i * (GLYPH_ROWS + 2) * SCALE, GREY)
  })

  // Zebra stripes behind alternate groups.
  for (let i = 0; i < rows.length; i++) {
    if (group[i] % 2) c.fillRect(MARGIN, plotY0 + i * ROW_H, plotX1 - MARGIN, ROW_H, STRIPE)
  }

  // Grid lines at 1, 2, 5 x 10^k, labelled above and below the plot.
  const ticks = []
  for (let e = Math.round(Math.log10(axisMin)) - 1; Math.pow(10, e) <= axisMax; e++) {
    for (const m of [1, 2, 5]) {
      const t = Number((m * Math.pow(10, e)).toPrecision(6))
      if (t >= axisMin - 1e-12 && t <= axisMax) ticks.push(t)
    }
  }
  // Labels go to powers of ten first, then to 2s and 5s where they do not crowd a neighbour.
  const placed = []
  const byPriority = ticks.filter((t) => isPowerOfTen(t)).concat(ticks.filter((t) => !isPowerOfTen(t)))
  for (const t of byPriority) {
    const label = formatTick(t)
    const w = textWidth(label)
    const lx = Math.round(Math.min(xOf(t) - w / 2, WIDTH - MARGIN - w))
    if (placed.some((p) => lx < p.x + p.w + 10 && p.x < lx + w + 10)) continue
    placed.push({ x: lx, w })
    c.text(label, lx, axisTopY, GREY)
    c.text(label, lx, axisBottomY, GREY)
  }
  for (const t of ticks) {
    const x = Math.round(xOf(t))
    c.fillRect(x, plotY0, 1, plotY1 - plotY0, t === 1 ? GRID_ONE : GRID)
    if (t === 1) c.fillRect(x + 1, plotY0, 1, plotY1 - plotY0, GRID_ONE)
  }
  // Left edge of the axis.
  c.fillRect(plotX0, plotY0, 1, plotY1 - plotY0, GRID_ONE)

  if (rows.length === 0) {
    c.fillRect(plotX0 + 4, plotY0 + 2, textWidth('no data') + 12, ROW_H - 4, WHITE)
    c.text('no data', plotX0 + 10, plotY0 + (ROW_H - textH) / 2, GREY)
  }

  rows.forEach((row, i) => {
    const rowY = plotY0 + i * ROW_H
    const rowBg = group[i] % 2 ? STRIPE : WHITE
    const barY = rowY + (ROW_H - BAR_H) / 2
    const textY = rowY + Math.round((ROW_H - textH) / 2)
    const first = i === 0 || group[i] !== group[i - 1]
    if (hasSeries) {
      const series = fit(row.series || '', seriesW)
      if (first) c.text(fit(row.name, labelW - seriesW - 16), MARGIN, textY, BLACK)
      c.text(series, plotX0 - 12 - textWidth(series), textY, GREY)
    } else {
      const name = fit(row.name, labelW)
      c.text(name, plotX0 - 12 - textWidth(name), textY, BLACK)
    }

    const ratio = row.ratio === null || row.ratio === undefined ? NaN : Number(row.ratio)
    const target = row.target === null || row.target === undefined ? NaN : Number(row.target)
    const valid = Number.isFinite(ratio) && ratio > 0
    const hasTarget = Number.isFinite(target) && target > 0
    const ok = valid && !(ratio < target)
    let end = plotX0
    if (valid) {
      end = Math.max(plotX0 + 2, Math.round(xOf(ratio)))
      c.fillRect(plotX0 + 1, barY, end - plotX0 - 1, BAR_H, !hasTarget ? NEUTRAL : ok ? GREEN : RED)
    }
    let labelX = end + 6
    if (hasTarget) {
      const tx = Math.round(xOf(target))
      c.fillRect(tx - 1, barY - 4, 3, BAR_H + 8, TICK)
      // A bar that stops short of its tick gets its label past the tick, not over it.
      if (tx + 1 >= end) labelX = Math.max(labelX, tx + 8)
    }
    const label = formatRatio(ratio)
    c.fillRect(labelX - 3, barY, textWidth(label) + 6, BAR_H, rowBg)
    c.text(label, labelX, textY, ok || !hasTarget ? BLACK : RED)
  })

  // Legend, under the plot where it fits.
  const sw = textH
  const swatches = [[GREEN, 'meets target'], [RED, 'below target']]
  if (rows.some((r) => !(Number(r.target) > 0))) swatches.push([NEUTRAL, 'no target'])
  const legendW = swatches.reduce((w, [, text]) => w + sw + 6 + textWidth(text) + 24, 0) + textWidth('target (minimum ratio)') + 18
  let lx = Math.max(MARGIN, Math.min(plotX0, WIDTH - MARGIN - legendW))
  for (const [color, text] of swatches) {
    c.fillRect(lx, legendY, sw, sw, color)
    lx = c.text(text, lx + sw + 6, legendY, GREY) + 24
  }
  c.fillRect(lx + 6, legendY - 3, 3, sw + 6, TICK)
  c.text('target (minimum ratio)', lx + 18, legendY, GREY)

  return encodePng(c)
}

function writeRatioChart (file, rows, options) {
  fs.writeFileSync(file, drawRatioChart(rows, options))
}

exports.drawRatioChart = drawRatioChart
exports.writeRatioChart = writeRatioChart
