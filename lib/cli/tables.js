'use strict'

// What the database's tables hold, read from its LevelDB properties: files and bytes per level,
// and a key above every key in any table (for ranges that must cover the whole key space, which
// compactRange and approximateSize cannot leave open). Only the documented properties are used:
// leveldb.num-files-at-levelN for the levels and their file counts, and leveldb.sstables, whose
// lines read " <number>:<size>[<smallest> .. <largest>]" under "--- level N ---", for sizes.

// Reads `leveldb.num-files-at-levelN` for N = 0, 1, ... until the database has no such level.
function levelCounts (db) {
  const counts = []
  for (let level = 0; ; level++) {
    const n = db.getProperty(`leveldb.num-files-at-level${level}`)
    if (n === undefined) return counts
    counts.push(Number(n))
  }
}

// { levels: [{ level, files, bytes }], files, bytes, longestLine } from the database's properties.
// longestLine is the length in UTF-8 bytes of the longest table line of leveldb.sstables.
function tableSummary (db) {
  const levels = levelCounts(db).map((files, level) => ({ level, files, bytes: 0 }))
  let level = -1
  let longestLine = 0
  for (const line of (db.getProperty('leveldb.sstables') || '').split('\n')) {
    const heading = /^--- level (\d+) ---$/.exec(line)
    if (heading) {
      level = Number(heading[1])
      continue
    }
    const table = /^ (\d+):(\d+)\[/.exec(line)
    if (table === null || levels[level] === undefined) continue
    levels[level].bytes += Number(table[2])
    longestLine = Math.max(longestLine, Buffer.byteLength(line, 'utf8'))
  }
  return {
    levels,
    files: levels.reduce((n, l) => n + l.files, 0),
    bytes: levels.reduce((n, l) => n + l.bytes, 0),
    longestLine
  }
}

// A key greater than every key in every table: 0xff repeated one more time than the longest
// table line of leveldb.sstables is long. That holds because a line spells its largest key in
// full (escaped, and with invalid UTF-8 replaced by U+FFFD, which is 3 bytes for 1 to 3 bytes of
// key), so it is at least as many bytes long as the key; and a key of k bytes sorts below
// 0xff x (k + 1). Keys still in the memtable are not covered: flush first.
function keyAboveTables (db) {
  return Buffer.alloc(tableSummary(db).longestLine + 1, 0xff)
}

module.exports = { levelCounts, tableSummary, keyAboveTables }
