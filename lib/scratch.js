'use strict'

// The Buffer native code answers reads in (getInto, getBatch, and iterators' nextv), lent to it
// once per database (setScratch). One per thread, shared by every database, as JavaScript runs
// one call at a time: whatever a call wrote must be read out before the next native read.

const scratch = Buffer.allocUnsafeSlow(64 * 1024)
// getBatch's answers open the scratch Buffer: one i32 per key.
const scratchInts = new Int32Array(scratch.buffer, scratch.byteOffset, scratch.length >> 2)
// An iterator batch's lengths, as u32 words (read so only where the platform is little-endian).
const scratchWords = new Uint32Array(scratch.buffer, scratch.byteOffset, scratch.length >> 2)

// A Buffer of its own holding `length` bytes of the scratch Buffer from `at` (Node's pooled
// allocator makes this far cheaper than a Buffer made by native code).
function copyOut (at, length) {
  const value = Buffer.allocUnsafe(length)
  scratch.copy(value, 0, at, at + length)
  return value
}

exports.scratch = scratch
exports.scratchInts = scratchInts
exports.scratchWords = scratchWords
exports.copyOut = copyOut
