//! The user-facing iterator: turns the merged stream of internal entries into user keys and
//! values as of one sequence number, within optional bounds, in one direction. For each user key
//! it yields the newest version visible at its sequence, and nothing for a key whose newest visible
//! version is a deletion.

use std::ops::Bound;

use super::InternalIterator;
use crate::engine::error::{Error, Result};
use crate::engine::key::{self, SequenceNumber, ValueKind, MAX_SEQUENCE};

/// A key range; each end may be open, inclusive or exclusive.
#[derive(Clone, Debug)]
pub struct IterBounds {
    /// The low end.
    pub lower: Bound<Vec<u8>>,
    /// The high end.
    pub upper: Bound<Vec<u8>>,
}

impl Default for IterBounds {
    fn default() -> Self {
        IterBounds { lower: Bound::Unbounded, upper: Bound::Unbounded }
    }
}

impl IterBounds {
    fn above_lower(&self, k: &[u8]) -> bool {
        match &self.lower {
            Bound::Unbounded => true,
            Bound::Included(l) => k >= l.as_slice(),
            Bound::Excluded(l) => k > l.as_slice(),
        }
    }

    fn below_upper(&self, k: &[u8]) -> bool {
        match &self.upper {
            Bound::Unbounded => true,
            Bound::Included(u) => k <= u.as_slice(),
            Bound::Excluded(u) => k < u.as_slice(),
        }
    }

    /// True when `k` lies within both bounds.
    pub fn contains(&self, k: &[u8]) -> bool {
        self.above_lower(k) && self.below_upper(k)
    }
}

/// Iterates over user entries at a fixed sequence number.
///
/// Whatever the iterator reads from (memtables, tables) is kept alive by the children it owns,
/// and `pin` holds anything else that must outlive it (the snapshot that protects its versions).
pub struct DbIterator {
    inner: Box<dyn InternalIterator>,
    seq: SequenceNumber,
    reverse: bool,
    bounds: IterBounds,
    key: Vec<u8>,
    value: Vec<u8>,
    valid: bool,
    error: Option<Error>,
    _pin: Box<dyn Send>,
}

impl DbIterator {
    /// An iterator over `inner` as of `seq`. It is not positioned: call `seek_to_start` or `seek`.
    pub fn new(
        inner: Box<dyn InternalIterator>,
        seq: SequenceNumber,
        reverse: bool,
        bounds: IterBounds,
        pin: Box<dyn Send>,
    ) -> DbIterator {
        DbIterator {
            inner,
            seq,
            reverse,
            bounds,
            key: Vec::new(),
            value: Vec::new(),
            valid: false,
            error: None,
            _pin: pin,
        }
    }

    /// True when positioned at an entry.
    pub fn valid(&self) -> bool {
        self.valid
    }

    /// The current user key. Requires: `valid()`.
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// The current value. Requires: `valid()`.
    pub fn value(&self) -> &[u8] {
        &self.value
    }

    /// The error that ended iteration, if any.
    pub fn status(&self) -> Result<()> {
        match &self.error {
            Some(e) => Err(e.duplicate()),
            None => self.inner.status(),
        }
    }

    /// Positions at the first entry in iteration order: the lowest key in range, or the highest
    /// when reversed.
    pub fn seek_to_start(&mut self) {
        if self.reverse {
            match self.bounds.upper.clone() {
                Bound::Unbounded => self.inner.seek_to_last(),
                Bound::Included(u) => self.inner.seek_for_prev(&key::internal_key(&u, 0, ValueKind::Deletion)),
                Bound::Excluded(u) => self.inner.seek_for_prev(&key::lookup_key(&u, MAX_SEQUENCE)),
            }
            self.find_prev();
        } else {
            match self.bounds.lower.clone() {
                Bound::Unbounded => self.inner.seek_to_first(),
                Bound::Included(l) | Bound::Excluded(l) => self.inner.seek(&key::lookup_key(&l, self.seq)),
            }
            self.find_next(None);
        }
    }

    /// Positions at `target`, or the next key after it in iteration order. A target outside the
    /// bounds exhausts the iterator (abstract-level's `seek()` contract).
    pub fn seek(&mut self, target: &[u8]) {
        if !self.bounds.contains(target) {
            self.valid = false;
            return;
        }
        if self.reverse {
            self.inner.seek_for_prev(&key::internal_key(target, 0, ValueKind::Deletion));
            self.find_prev();
        } else {
            self.inner.seek(&key::lookup_key(target, self.seq));
            self.find_next(None);
        }
    }

    /// Moves to the next entry in iteration order. Requires: `valid()`.
    pub fn advance(&mut self) {
        if !self.valid {
            return;
        }
        if self.reverse {
            // The inner iterator already rests on the previous user key's newest entry.
            self.find_prev();
        } else {
            let skip = std::mem::take(&mut self.key);
            self.inner.next();
            self.find_next(Some(&skip));
            if !self.valid {
                self.key = skip;
            }
        }
    }

    fn fail(&mut self, reason: &str) {
        self.error = Some(Error::corruption(reason.to_owned()));
        self.valid = false;
    }

    fn find_next(&mut self, skip: Option<&[u8]>) {
        let mut skip: Option<Vec<u8>> = skip.map(<[u8]>::to_vec);
        self.valid = false;
        while self.inner.valid() {
            let Some(parsed) = key::parse_internal_key(self.inner.key()) else {
                return self.fail("unparsable internal key");
            };
            if !self.bounds.below_upper(parsed.user_key) {
                return;
            }
            let shadowed = skip.as_deref() == Some(parsed.user_key);
            if parsed.seq <= self.seq && !shadowed && self.bounds.above_lower(parsed.user_key) {
                match parsed.kind {
                    ValueKind::Deletion => skip = Some(parsed.user_key.to_vec()),
                    ValueKind::Value => {
                        self.key.clear();
                        self.key.extend_from_slice(parsed.user_key);
                        self.value.clear();
                        self.value.extend_from_slice(self.inner.value());
                        self.valid = true;
                        return;
                    }
                }
            }
            self.inner.next();
        }
    }

    fn find_prev(&mut self) {
        // Walking backwards, a user key's versions come oldest first, so the last visible version
        // seen before the user key changes is its newest.
        let mut found = false;
        self.key.clear();
        self.value.clear();
        while self.inner.valid() {
            let Some(parsed) = key::parse_internal_key(self.inner.key()) else {
                return self.fail("unparsable internal key");
            };
            if parsed.seq <= self.seq && self.bounds.below_upper(parsed.user_key) {
                if (found && parsed.user_key < self.key.as_slice()) || !self.bounds.above_lower(parsed.user_key) {
                    break;
                }
                match parsed.kind {
                    ValueKind::Deletion => found = false,
                    ValueKind::Value => {
                        found = true;
                        self.key.clear();
                        self.key.extend_from_slice(parsed.user_key);
                        self.value.clear();
                        self.value.extend_from_slice(self.inner.value());
                    }
                }
            }
            self.inner.prev();
        }
        self.valid = found;
    }
}
