//! A native iterator over a key range, read in batches by `nextv` so that a scan crosses from
//! JavaScript once per batch rather than once per entry.

use std::ops::Bound;
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::{Buffer, Either};
use napi_derive::napi;

use crate::binding::convert::{Bytes, Out};
use crate::binding::error::{coded, to_js, Code, ITERATOR_NOT_OPEN};
use crate::engine::iter::{DbIterator, IterBounds};

/// The bounds of a range from JavaScript's encoded `gt/gte/lt/lte` (resolved to one bound per side
/// by the caller, inclusive or not).
pub fn bounds(lower: Option<Bytes>, lower_inclusive: bool, upper: Option<Bytes>, upper_inclusive: bool) -> IterBounds {
    let side = |b: Option<Bytes>, inclusive: bool| match b {
        None => Bound::Unbounded,
        Some(b) if inclusive => Bound::Included(b.to_vec()),
        Some(b) => Bound::Excluded(b.to_vec()),
    };
    IterBounds { lower: side(lower, lower_inclusive), upper: side(upper, upper_inclusive) }
}

/// A batch's memory past this size (large values) is freed after the call rather than held.
const KEEP_BYTES: usize = 1 << 20;
/// Flags in a packed batch's header: every key (value) in it is ASCII, so that JavaScript may
/// decode all the keys (values) with one call and cut strings out by byte offsets.
const KEYS_ASCII: u32 = 1;
const VALUES_ASCII: u32 = 2;

struct State {
    it: DbIterator,
    positioned: bool,
    /// The batch being packed, kept between calls for its memory.
    key_lengths: Vec<u8>,
    value_lengths: Vec<u8>,
    keys: Vec<u8>,
    values: Vec<u8>,
}

/// A cursor in one direction over a range, at a fixed snapshot.
#[napi]
pub struct NativeIterator {
    state: Mutex<Option<State>>,
    keys: bool,
    values: bool,
    /// The database's scratch Buffer (see `NativeDb`), where a batch that fits is answered.
    scratch: Arc<Mutex<Option<Buffer>>>,
}

impl NativeIterator {
    /// Wraps an unpositioned engine iterator.
    pub fn new(it: DbIterator, keys: bool, values: bool, scratch: Arc<Mutex<Option<Buffer>>>) -> NativeIterator {
        let state = State {
            it,
            positioned: false,
            key_lengths: Vec::new(),
            value_lengths: Vec::new(),
            keys: Vec::new(),
            values: Vec::new(),
        };
        NativeIterator { state: Mutex::new(Some(state)), keys, values, scratch }
    }
}

#[napi]
impl NativeIterator {
    /// Up to `size` entries, stopping early once more than `max_bytes` of the keys and values
    /// asked for are gathered (always at least one; classic-level's rule), packed for
    /// JavaScript to unpack (`lib/iterator.js`):
    ///
    /// ```text
    /// count: u32 | flags: u32 | key_len: u32 * count | value_len: u32 * count
    ///   | every key's bytes | every value's bytes
    /// ```
    ///
    /// All little-endian; `flags` holds `KEYS_ASCII` and `VALUES_ASCII`; a key or value not
    /// asked for has length 0. A count of 0 means the end. The batch goes into the scratch
    /// Buffer when it fits, and the call returns the bytes written; otherwise it comes back as a
    /// Buffer of its own. One packed batch replaces two JavaScript values per entry made through
    /// napi, which cost more than the read itself; and a new Buffer per call cost a seek with a
    /// short `nextv` about a fifth of its time (V8 allocates, tracks and sweeps each one's
    /// memory, on a thread it has to wake).
    #[napi(ts_return_type = "number | Buffer")]
    pub fn nextv(&self, size: u32, max_bytes: f64) -> napi::Result<Either<u32, Out>, Code> {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let state = guard
            .as_mut()
            .ok_or_else(|| coded(ITERATOR_NOT_OPEN, "Iterator is not open: cannot read after close()"))?;
        if !state.positioned {
            state.it.seek_to_start();
            state.positioned = true;
        }
        let State { it, key_lengths, value_lengths, keys, values, .. } = state;
        let parts = [&mut *key_lengths, &mut *value_lengths, &mut *keys, &mut *values];
        for part in parts {
            part.clear();
        }
        // Room for entries of about 128 bytes up front: growing from empty reallocated several
        // times per batch.
        let expected = (size as usize).min(1024);
        key_lengths.reserve(4 * expected);
        value_lengths.reserve(4 * expected);
        keys.reserve(24 * expected);
        values.reserve(104 * expected);
        let mut count = 0u32;
        let mut bytes = 0f64;
        while it.valid() && count < size {
            let key = if self.keys { it.key() } else { &[] };
            let value = if self.values { it.value() } else { &[] };
            bytes += (key.len() + value.len()) as f64;
            key_lengths.extend_from_slice(&(key.len() as u32).to_le_bytes());
            value_lengths.extend_from_slice(&(value.len() as u32).to_le_bytes());
            keys.extend_from_slice(key);
            values.extend_from_slice(value);
            count += 1;
            it.advance();
            if bytes > max_bytes {
                break;
            }
        }
        it.status().map_err(to_js)?;
        let mut flags = 0;
        if keys.is_ascii() {
            flags |= KEYS_ASCII;
        }
        if values.is_ascii() {
            flags |= VALUES_ASCII;
        }
        let mut header = [0u8; 8];
        header[..4].copy_from_slice(&count.to_le_bytes());
        header[4..].copy_from_slice(&flags.to_le_bytes());
        let parts: [&[u8]; 5] = [&header, key_lengths, value_lengths, keys, values];
        let total: usize = parts.iter().map(|p| p.len()).sum();
        let mut scratch = self.scratch.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(mut dst) = scratch.as_mut().and_then(|s| s.get_mut(..total)) {
            for part in parts {
                let (head, rest) = dst.split_at_mut(part.len());
                head.copy_from_slice(part);
                dst = rest;
            }
            return Ok(Either::A(total as u32));
        }
        let mut blob = Vec::with_capacity(total);
        for part in parts {
            blob.extend_from_slice(part);
        }
        for held in [key_lengths, value_lengths, keys, values] {
            if held.capacity() > KEEP_BYTES {
                *held = Vec::new();
            }
        }
        Ok(Either::B(Out { data: blob, utf8: false }))
    }

    /// Moves to `target` (or the next key in iteration order). Out-of-range targets end the
    /// iterator.
    #[napi]
    pub fn seek(&self, target: Bytes) -> napi::Result<(), Code> {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let state = guard
            .as_mut()
            .ok_or_else(|| coded(ITERATOR_NOT_OPEN, "Iterator is not open: cannot seek after close()"))?;
        state.it.seek(&target);
        state.positioned = true;
        Ok(())
    }

    /// Releases the iterator and the snapshot it holds.
    #[napi]
    pub fn close(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}
