//! A native iterator over a key range, read in batches by `nextv` so that a scan crosses from
//! JavaScript once per batch rather than once per entry.

use std::ops::Bound;
use std::sync::Mutex;

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

struct State {
    it: DbIterator,
    positioned: bool,
}

/// A cursor in one direction over a range, at a fixed snapshot.
#[napi]
pub struct NativeIterator {
    state: Mutex<Option<State>>,
    keys: bool,
    values: bool,
}

impl NativeIterator {
    /// Wraps an unpositioned engine iterator.
    pub fn new(it: DbIterator, keys: bool, values: bool) -> NativeIterator {
        NativeIterator { state: Mutex::new(Some(State { it, positioned: false })), keys, values }
    }
}

#[napi]
impl NativeIterator {
    /// Up to `size` entries, stopping early once `max_bytes` of keys and values are gathered
    /// (always at least one), packed into one Buffer that JavaScript unpacks (`lib/iterator.js`):
    ///
    /// ```text
    /// count: u32 | (key_len: u32, value_len: u32) * count | (key bytes, value bytes) * count
    /// ```
    ///
    /// All little-endian; a key or value not asked for has length 0. A count of 0 means the end.
    /// One Buffer per batch replaces two JavaScript values per entry made through napi, which
    /// cost more than the read itself. The Buffer is a copy: an external Buffer over the Vec
    /// would need a finalizer per batch, and finalizers run on later event-loop turns at a cost
    /// of their own.
    #[napi(ts_return_type = "Buffer")]
    pub fn nextv(&self, size: u32, max_bytes: f64) -> napi::Result<Out, Code> {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let state = guard
            .as_mut()
            .ok_or_else(|| coded(ITERATOR_NOT_OPEN, "Iterator is not open: cannot read after close()"))?;
        if !state.positioned {
            state.it.seek_to_start();
            state.positioned = true;
        }
        let mut lengths: Vec<u8> = Vec::with_capacity(4 + 8 * (size as usize).min(1024));
        lengths.extend_from_slice(&[0; 4]);
        // NOTE: room for entries of about 128 bytes up front; growing from empty reallocated
        // several times per batch.
        let mut data: Vec<u8> = Vec::with_capacity(128 * (size as usize).min(1024));
        let mut count = 0u32;
        let mut bytes = 0f64;
        while state.it.valid() && count < size {
            let (key, value) = (state.it.key(), state.it.value());
            let key = if self.keys { key } else { &[] };
            let value = if self.values { value } else { &[] };
            lengths.extend_from_slice(&(key.len() as u32).to_le_bytes());
            lengths.extend_from_slice(&(value.len() as u32).to_le_bytes());
            data.extend_from_slice(key);
            data.extend_from_slice(value);
            count += 1;
            bytes += (state.it.key().len() + state.it.value().len()) as f64;
            state.it.advance();
            if bytes >= max_bytes {
                break;
            }
        }
        state.it.status().map_err(to_js)?;
        lengths[..4].copy_from_slice(&count.to_le_bytes());
        lengths.extend_from_slice(&data);
        Ok(Out { data: lengths, utf8: false })
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
