'use strict'

// Turns abstract-level's encoded range options into the native form: one bound per side and
// whether it is inclusive. gte and lte take precedence over gt and lt, as abstract-level's README
// says; a bound that is undefined or null is open.
function nativeRange (options) {
  let lower, lowerInclusive, upper, upperInclusive
  if (options.gte != null) {
    lower = options.gte
    lowerInclusive = true
  } else if (options.gt != null) {
    lower = options.gt
    lowerInclusive = false
  }
  if (options.lte != null) {
    upper = options.lte
    upperInclusive = true
  } else if (options.lt != null) {
    upper = options.lt
    upperInclusive = false
  }
  return [lower, !!lowerInclusive, upper, !!upperInclusive]
}

// Native code reads typed arrays in place; a view over a resizable ArrayBuffer cannot be read that
// way, so it is copied first (classic-level does the same).
function plainBytes (data) {
  return typeof data !== 'string' && data.buffer && data.buffer.resizable ? new Uint8Array(data) : data
}

exports.nativeRange = nativeRange
exports.plainBytes = plainBytes
