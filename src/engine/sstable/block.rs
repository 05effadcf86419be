//! Reading one block written by [`BlockBuilder`](super::block_builder::BlockBuilder): a parsed
//! [`Block`] that owns its bytes (and is shared through `Arc` by the block cache and by every
//! iterator over it), and [`BlockIter`], a cursor over its entries.
//!
//! Layout (see `block_builder.rs`): prefix-compressed entries, then a fixed32 offset for each
//! restart point, then the fixed32 restart count. A seek binary-searches the restart points (whose
//! keys are stored whole) and scans forward from the closest one. Entries are bounds-checked as
//! they are decoded, so a damaged block gives an invalid iterator with a Corruption status,
//! never a panic or an out-of-bounds read.

use std::cmp::Ordering;
use std::sync::Arc;

use crate::engine::coding::{decode_fixed32, decode_varint32};
use crate::engine::error::{Error, Result};
use crate::engine::iter::InternalIterator;
use crate::engine::key::compare_internal;

/// The order a block's keys are in: `key::compare_internal` for data and index blocks,
/// [`bytewise`] for the metaindex block.
pub type Comparator = fn(&[u8], &[u8]) -> Ordering;

/// Plain byte-string order, LevelDB's `BytewiseComparator`.
pub fn bytewise(a: &[u8], b: &[u8]) -> Ordering {
    a.cmp(b)
}

/// Where one entry's parts lie in the block: how much of the previous key it shares, then the
/// byte ranges of its key suffix and of its value.
struct EntryPos {
    shared: usize,
    delta: (usize, usize),
    value: (usize, usize),
}

/// A block's uncompressed contents with its restart array located and bounds-checked.
#[derive(Debug)]
pub struct Block {
    data: Vec<u8>,
    /// Where the restart array starts, which is also where the entries end.
    entries_end: usize,
    num_restarts: usize,
    /// The block's offset in its file, for error messages only.
    file_offset: u64,
}

impl Block {
    /// The block's bytes, for reuse once no one reads the block.
    pub fn into_data(self) -> Vec<u8> {
        self.data
    }

    /// Parses a block's trailer. `file_offset` is where the block was read from and only feeds
    /// error messages. Fails with `Error::Corruption` when the bytes cannot hold the restart
    /// array they claim; entries are checked later, as iterators decode them.
    pub fn new(data: Vec<u8>, file_offset: u64) -> Result<Block> {
        let bad = |what: &str| Error::corruption(format!("block at offset {file_offset}: {what}"));
        let body = data.len().checked_sub(4).ok_or_else(|| bad("too short for a restart count"))?;
        let num = data.get(body..).and_then(decode_fixed32).ok_or_else(|| bad("missing restart count"))?;
        let num_restarts = usize::try_from(num).map_err(|_| bad("bad restart count"))?;
        if num_restarts > body / 4 {
            return Err(bad("restart count larger than the block"));
        }
        let entries_end = body - 4 * num_restarts;
        Ok(Block { data, entries_end, num_restarts, file_offset })
    }

    /// Bytes held (the cache's charge for this block).
    pub fn size(&self) -> usize {
        self.data.len()
    }

    /// A cursor over this block's entries, which must be sorted by `cmp`. It starts unpositioned.
    pub fn iter(self: &Arc<Self>, cmp: Comparator) -> BlockIter {
        BlockIter {
            block: Arc::clone(self),
            cmp,
            current: self.entries_end,
            next: self.entries_end,
            restart_index: self.num_restarts,
            key: Vec::new(),
            value: (0, 0),
            error: None,
        }
    }

    fn restart_point(&self, index: usize) -> Option<usize> {
        let at = self.entries_end.checked_add(index.checked_mul(4)?)?;
        let point = usize::try_from(decode_fixed32(self.data.get(at..)?)?).ok()?;
        (point <= self.entries_end).then_some(point)
    }

    /// Decodes the entry header at `offset`; `None` unless it and its bytes lie within the entries.
    fn entry_at(&self, offset: usize) -> Option<EntryPos> {
        let src = self.data.get(offset..self.entries_end)?;
        let (shared, n1) = decode_varint32(src)?;
        let (unshared, n2) = decode_varint32(src.get(n1..)?)?;
        let (value_len, n3) = decode_varint32(src.get(n1 + n2..)?)?;
        let key_start = offset + n1 + n2 + n3;
        let key_end = key_start.checked_add(usize::try_from(unshared).ok()?)?;
        let value_end = key_end.checked_add(usize::try_from(value_len).ok()?)?;
        if value_end > self.entries_end {
            return None;
        }
        Some(EntryPos {
            shared: usize::try_from(shared).ok()?,
            delta: (key_start, key_end),
            value: (key_end, value_end),
        })
    }

    /// The whole key stored at restart point `index`; `None` if the point or entry is damaged
    /// (a restart entry shares nothing with its predecessor).
    fn restart_key(&self, index: usize) -> Option<&[u8]> {
        let entry = self.entry_at(self.restart_point(index)?)?;
        if entry.shared != 0 {
            return None;
        }
        self.data.get(entry.delta.0..entry.delta.1)
    }
}

/// A cursor over one block. Unlike the general [`InternalIterator`] contract, `next` and `prev`
/// both work from any valid position (the table iterator relies on this). Errors are sticky:
/// once a damaged entry is met the iterator stays invalid and `status` reports it.
pub struct BlockIter {
    block: Arc<Block>,
    cmp: Comparator,
    /// Offset of the current entry; `entries_end` when not valid.
    current: usize,
    /// Offset just past the current entry, where `parse_next` resumes.
    next: usize,
    /// The restart interval `current` lies in.
    restart_index: usize,
    key: Vec<u8>,
    value: (usize, usize),
    error: Option<String>,
}

impl BlockIter {
    /// The block this cursor walks (to recover its memory once no one else holds it).
    pub fn into_block(self) -> Arc<Block> {
        self.block
    }

    fn end(&self) -> usize {
        self.block.entries_end
    }

    fn invalidate(&mut self) {
        self.current = self.end();
        self.next = self.end();
        self.restart_index = self.block.num_restarts;
        self.key.clear();
        self.value = (0, 0);
    }

    fn corrupt(&mut self, at: usize) {
        if self.error.is_none() {
            let offset = self.block.file_offset;
            self.error = Some(format!("block at offset {offset}: bad entry or restart point near byte {at}"));
        }
        self.invalidate();
    }

    fn seek_to_restart(&mut self, index: usize) -> bool {
        self.key.clear();
        self.restart_index = index;
        match self.block.restart_point(index) {
            Some(point) => {
                self.next = point;
                true
            }
            None => {
                self.corrupt(self.end());
                false
            }
        }
    }

    /// Decodes the entry at `self.next`; false at the end of the block or on damage.
    fn parse_next(&mut self) -> bool {
        self.current = self.next;
        if self.current >= self.end() {
            self.invalidate();
            return false;
        }
        let Some(entry) = self.block.entry_at(self.current) else {
            self.corrupt(self.current);
            return false;
        };
        let (shared, (ks, ke)) = (entry.shared, entry.delta);
        let Some(delta) = self.block.data.get(ks..ke).filter(|_| shared <= self.key.len()) else {
            self.corrupt(self.current);
            return false;
        };
        self.key.truncate(shared);
        self.key.extend_from_slice(delta);
        self.value = entry.value;
        self.next = entry.value.1;
        while self.restart_index + 1 < self.block.num_restarts
            && self.block.restart_point(self.restart_index + 1).is_some_and(|p| p < self.current)
        {
            self.restart_index += 1;
        }
        true
    }

    /// The last restart point whose key is `< target` (`strict`) or `<= target`, or 0 when none
    /// is. `None` after recording damage.
    fn search_restarts(&mut self, target: &[u8], strict: bool) -> Option<usize> {
        self.search_restarts_by(target, strict, self.cmp)
    }

    /// `search_restarts` under `cmp`, which the compiler can inline when it is known statically.
    fn search_restarts_by(
        &mut self,
        target: &[u8],
        strict: bool,
        cmp: impl Fn(&[u8], &[u8]) -> Ordering,
    ) -> Option<usize> {
        let (mut left, mut right) = (0, self.block.num_restarts.checked_sub(1)?);
        while left < right {
            let mid = left + (right - left).div_ceil(2);
            let Some(key) = self.block.restart_key(mid) else {
                self.corrupt(self.block.restart_point(mid).unwrap_or(0));
                return None;
            };
            let ord = cmp(key, target);
            if ord == Ordering::Less || (!strict && ord == Ordering::Equal) {
                left = mid;
            } else {
                right = mid - 1;
            }
        }
        Some(left)
    }

    /// `seek` for a block of internal keys (every data and index block of a table), with the
    /// comparison inlined: a point read makes some fifteen comparisons per table it reads, and
    /// through the stored function pointer none of them could be optimised.
    /// # Requires: the cursor was made with `compare_internal`.
    pub fn seek_internal(&mut self, target: &[u8]) {
        self.seek_by(target, compare_internal);
    }

    fn seek_by(&mut self, target: &[u8], cmp: impl Fn(&[u8], &[u8]) -> Ordering + Copy) {
        if !self.usable() {
            return;
        }
        let Some(start) = self.search_restarts_by(target, true, cmp) else { return };
        if self.seek_to_restart(start) {
            while self.parse_next() && cmp(&self.key, target) == Ordering::Less {}
        }
    }

    fn usable(&mut self) -> bool {
        if self.error.is_some() || self.block.num_restarts == 0 {
            self.invalidate();
            return false;
        }
        true
    }
}

impl InternalIterator for BlockIter {
    fn valid(&self) -> bool {
        self.error.is_none() && self.current < self.end()
    }

    fn seek_to_first(&mut self) {
        if self.usable() && self.seek_to_restart(0) {
            self.parse_next();
        }
    }

    fn seek_to_last(&mut self) {
        if self.usable() && self.seek_to_restart(self.block.num_restarts - 1) {
            while self.parse_next() && self.next < self.end() {}
        }
    }

    fn seek(&mut self, target: &[u8]) {
        self.seek_by(target, self.cmp);
    }

    fn seek_for_prev(&mut self, target: &[u8]) {
        if !self.usable() {
            return;
        }
        let Some(start) = self.search_restarts(target, false) else { return };
        if !self.seek_to_restart(start) || !self.parse_next() {
            return;
        }
        if (self.cmp)(&self.key, target) == Ordering::Greater {
            // Only possible at restart 0: every key in the block is after the target.
            self.invalidate();
            return;
        }
        // Walk until the following entry would pass the target; overshooting by one and stepping
        // back keeps the scan forward-only.
        while self.next < self.end() {
            if !self.parse_next() {
                return;
            }
            if (self.cmp)(&self.key, target) == Ordering::Greater {
                self.prev();
                return;
            }
        }
    }

    fn next(&mut self) {
        if self.valid() {
            self.parse_next();
        }
    }

    fn prev(&mut self) {
        if !self.valid() {
            return;
        }
        let original = self.current;
        // A damaged restart point ends the loop; `seek_to_restart` then reports it.
        while self.block.restart_point(self.restart_index).is_some_and(|p| p >= original) {
            if self.restart_index == 0 {
                self.invalidate();
                return;
            }
            self.restart_index -= 1;
        }
        if self.seek_to_restart(self.restart_index) {
            while self.parse_next() && self.next < original {}
        }
    }

    fn key(&self) -> &[u8] {
        &self.key
    }

    fn value(&self) -> &[u8] {
        self.block.data.get(self.value.0..self.value.1).unwrap_or_default()
    }

    fn status(&self) -> Result<()> {
        match &self.error {
            None => Ok(()),
            Some(reason) => Err(Error::Corruption(reason.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::sstable::block_builder::BlockBuilder;
    use crate::engine::sstable::tests::{check_against_model, drain_backward, drain_forward, Rng};
    use std::collections::BTreeMap;

    fn build(entries: &[(Vec<u8>, Vec<u8>)], interval: usize) -> Arc<Block> {
        let mut b = BlockBuilder::new(interval);
        for (k, v) in entries {
            b.add(k, v);
        }
        Arc::new(Block::new(b.finish().to_vec(), 0).unwrap())
    }

    #[test]
    fn edge_sized_blocks_round_trip() {
        let cases: Vec<Vec<(Vec<u8>, Vec<u8>)>> = vec![
            vec![],
            vec![(vec![], vec![])],
            vec![(b"only".to_vec(), b"one".to_vec())],
            (0..16).map(|i| (format!("k{i:02}").into_bytes(), vec![i as u8; i])).collect(),
            vec![(vec![], b"empty key".to_vec()), (b"a".to_vec(), vec![]), (b"ab".to_vec(), vec![])],
        ];
        for entries in cases {
            let block = build(&entries, 16);
            let mut it = block.iter(bytewise);
            assert_eq!(drain_forward(&mut it), entries);
            assert_eq!(drain_backward(&mut it), entries);
            assert!(it.status().is_ok());
        }
    }

    #[test]
    fn random_blocks_match_a_model() {
        let mut rng = Rng::new(7);
        for interval in [1, 2, 3, 16] {
            let mut model = BTreeMap::new();
            for _ in 0..300 {
                let key = rng.bytes_from(b"abc\x00\xff", 0, 6);
                model.insert(key, rng.bytes_from(b"xyz", 0, 5));
            }
            let entries: Vec<_> = model.clone().into_iter().collect();
            let block = build(&entries, interval);
            let mut it = block.iter(bytewise);
            let probes: Vec<Vec<u8>> = (0..200).map(|_| rng.bytes_from(b"abc\x00\xff", 0, 7)).collect();
            check_against_model(&mut it, &entries, &probes, bytewise);
        }
    }

    #[test]
    fn bad_trailers_are_refused() {
        assert!(Block::new(vec![], 0).is_err());
        assert!(Block::new(vec![1, 0, 0], 0).is_err());
        assert!(Block::new(vec![2, 0, 0, 0], 0).is_err());
        assert!(Block::new(vec![0, 0, 0, 0, 2, 0, 0, 0], 0).is_err());
        assert!(Block::new(vec![0xff; 8], 0).is_err());
        let empty = Arc::new(Block::new(vec![0, 0, 0, 0], 0).unwrap());
        let mut it = empty.iter(bytewise);
        it.seek_to_first();
        assert!(!it.valid() && it.status().is_ok());
    }

    #[test]
    fn overrunning_entry_reports_corruption() {
        // One entry claiming a 100-byte value in a block that holds 2 bytes of it.
        let mut bytes = vec![0, 1, 100, b'k', b'v', b'v'];
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&1u32.to_le_bytes());
        let block = Arc::new(Block::new(bytes, 77).unwrap());
        let mut it = block.iter(bytewise);
        it.seek_to_first();
        assert!(!it.valid());
        let err = it.status().unwrap_err();
        assert!(err.is_corruption() && err.to_string().contains("offset 77"), "{err}");
        // Sticky: a later seek does not hide the error.
        it.seek(b"");
        assert!(!it.valid() && it.status().is_err());
    }
}
