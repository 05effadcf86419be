//! A native iterator over a key range, read in batches by `nextv` so that a scan crosses from
//! JavaScript once per batch rather than once per entry.

use std::ops::Bound;
use std::sync::Mutex;

use napi_derive::napi;

use crate::binding::convert::{Bytes, Entries};
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
    key_utf8: bool,
    value_utf8: bool,
}

impl NativeIterator {
    /// Wraps an unpositioned engine iterator.
    pub fn new(it: DbIterator, keys: bool, values: bool, key_utf8: bool, value_utf8: bool) -> NativeIterator {
        NativeIterator { state: Mutex::new(Some(State { it, positioned: false })), keys, values, key_utf8, value_utf8 }
    }
}

#[napi]
impl NativeIterator {
    /// Up to `size` entries, stopping early once `max_bytes` of keys and values are gathered
    /// (always at least one). An empty array means the end.
    #[napi(ts_return_type = "Array<string | Buffer | undefined>")]
    pub fn nextv(&self, size: u32, max_bytes: f64) -> napi::Result<Entries, Code> {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let state = guard.as_mut().ok_or_else(|| coded(ITERATOR_NOT_OPEN, "Iterator is not open: cannot read after close()"))?;
        if !state.positioned {
            state.it.seek_to_start();
            state.positioned = true;
        }
        let mut items = Vec::with_capacity((size as usize).min(1024));
        let mut bytes = 0f64;
        while state.it.valid() && items.len() < size as usize {
            let key = self.keys.then(|| state.it.key().to_vec());
            let value = self.values.then(|| state.it.value().to_vec());
            bytes += (state.it.key().len() + state.it.value().len()) as f64;
            items.push((key, value));
            state.it.advance();
            if bytes >= max_bytes {
                break;
            }
        }
        state.it.status().map_err(to_js)?;
        Ok(Entries { items, key_utf8: self.key_utf8, value_utf8: self.value_utf8 })
    }

    /// Moves to `target` (or the next key in iteration order). Out-of-range targets end the
    /// iterator.
    #[napi]
    pub fn seek(&self, target: Bytes) -> napi::Result<(), Code> {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let state = guard.as_mut().ok_or_else(|| coded(ITERATOR_NOT_OPEN, "Iterator is not open: cannot seek after close()"))?;
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
