//! The filter block: bloom filters over the user keys of a table's data blocks, in LevelDB's
//! layout, so a point read can skip a data block that cannot hold the key.
//!
//! ```text
//! filter 0 | filter 1 | ... | filter n-1
//! fixed32 offset of filter i, for i in 0..n     (the "offset array")
//! fixed32 offset of the offset array
//! u8 base_lg (11)
//! ```
//!
//! Filter i covers the keys of every data block whose file offset lies in
//! `[i << base_lg, (i + 1) << base_lg)`, i.e. one filter per 2 KiB of file. A range with no block
//! start gets an empty filter (equal start and end offsets). Filter i ends where filter i+1
//! starts; the last one ends where the offset array starts. The block is stored uncompressed
//! and found through the metaindex key `"filter.leveldb.BuiltinBloomFilter2"`.

use crate::engine::coding::{decode_fixed32, put_fixed32};
use crate::engine::error::{Error, Result};
use crate::engine::sstable::bloom::BloomFilterPolicy;

/// log2 of the file-offset range each filter covers.
pub const FILTER_BASE_LG: u8 = 11;

const FILTER_BASE: u64 = 1 << FILTER_BASE_LG;

/// The metaindex key naming the filter block of our policy.
pub fn filter_meta_key(policy: &BloomFilterPolicy) -> Vec<u8> {
    format!("filter.{}", policy.name()).into_bytes()
}

/// The metaindex key of todb's whole-table filter: one bloom filter over every user key of the
/// table, in the same bloom format as the per-block filters. LevelDB looks up only the
/// `filter.` key it knows and ignores this one. It sorts after `filter.…`, as a metaindex must.
pub const WHOLE_FILTER_META_KEY: &[u8] = b"todb.WholeTableBloomFilter";

/// Collects user keys block by block and emits the filter block.
///
/// Call sequence, as the table builder drives it: `start_block(0)`, then for each data block its
/// keys through `add_key` followed by `start_block(offset where the next block will start)`, and
/// finally `finish`.
#[derive(Debug)]
pub struct FilterBlockBuilder {
    policy: BloomFilterPolicy,
    /// Pending keys, flattened; `starts[i]` is where key i begins.
    keys: Vec<u8>,
    starts: Vec<usize>,
    result: Vec<u8>,
    filter_offsets: Vec<u32>,
}

impl FilterBlockBuilder {
    /// An empty builder using `policy`.
    pub fn new(policy: BloomFilterPolicy) -> FilterBlockBuilder {
        FilterBlockBuilder {
            policy,
            keys: Vec::new(),
            starts: Vec::new(),
            result: Vec::new(),
            filter_offsets: Vec::new(),
        }
    }

    /// Declares that the next keys belong to a data block starting at `block_offset`. Offsets
    /// must not decrease.
    pub fn start_block(&mut self, block_offset: u64) {
        let index = block_offset / FILTER_BASE;
        debug_assert!(index >= self.filter_offsets.len() as u64, "block offsets went backwards");
        while index > self.filter_offsets.len() as u64 {
            self.generate_filter();
        }
    }

    /// Adds a user key (no internal-key tag) of the current data block.
    pub fn add_key(&mut self, user_key: &[u8]) {
        self.starts.push(self.keys.len());
        self.keys.extend_from_slice(user_key);
    }

    /// Emits the remaining filter and the trailer, returning the block's contents.
    pub fn finish(mut self) -> Vec<u8> {
        if !self.starts.is_empty() {
            self.generate_filter();
        }
        let array_offset = offset_u32(self.result.len());
        for &offset in &self.filter_offsets {
            put_fixed32(&mut self.result, offset);
        }
        put_fixed32(&mut self.result, array_offset);
        self.result.push(FILTER_BASE_LG);
        self.result
    }

    fn generate_filter(&mut self) {
        self.filter_offsets.push(offset_u32(self.result.len()));
        if self.starts.is_empty() {
            return;
        }
        let ends = self.starts.iter().skip(1).copied().chain(std::iter::once(self.keys.len()));
        let keys: Vec<&[u8]> =
            self.starts.iter().zip(ends).map(|(&s, e)| self.keys.get(s..e).unwrap_or_default()).collect();
        self.policy.create_filter(&keys, &mut self.result);
        self.keys.clear();
        self.starts.clear();
    }
}

/// The format caps a filter block at 4 GiB; a table that large is far outside what the builder's
/// block sizes produce.
fn offset_u32(n: usize) -> u32 {
    debug_assert!(u32::try_from(n).is_ok(), "filter block over 4 GiB");
    n as u32
}

/// Answers "may this data block hold this user key?" from a filter block's contents.
#[derive(Debug)]
pub struct FilterBlockReader {
    policy: BloomFilterPolicy,
    data: Vec<u8>,
    /// Where the offset array starts (the filters end).
    array_offset: usize,
    num: usize,
    base_lg: u8,
}

impl FilterBlockReader {
    /// Parses a filter block's trailer. `file_offset` only feeds error messages. Fails with
    /// `Error::Corruption` when the trailer does not fit the block.
    pub fn new(policy: BloomFilterPolicy, data: Vec<u8>, file_offset: u64) -> Result<FilterBlockReader> {
        let bad = |what: &str| Error::corruption(format!("filter block at offset {file_offset}: {what}"));
        let n = data.len();
        let trailer_at = n.checked_sub(5).ok_or_else(|| bad("too short"))?;
        let base_lg = data.get(n - 1).copied().unwrap_or(0);
        let array_offset = data.get(trailer_at..).and_then(decode_fixed32).ok_or_else(|| bad("too short"))?;
        let array_offset = usize::try_from(array_offset).map_err(|_| bad("bad offset array position"))?;
        if array_offset > trailer_at {
            return Err(bad("offset array starts beyond the block"));
        }
        Ok(FilterBlockReader { policy, data, array_offset, num: (trailer_at - array_offset) / 4, base_lg })
    }

    /// False only if no key of the data block at `block_offset` is `user_key`. Damage inside the
    /// filter (offsets out of order or out of range) answers true, so it can cost a read but
    /// never hide a key.
    pub fn key_may_match(&self, block_offset: u64, user_key: &[u8]) -> bool {
        let index = block_offset.checked_shr(u32::from(self.base_lg));
        let Some(index) = index.and_then(|i| usize::try_from(i).ok()).filter(|&i| i < self.num) else {
            return true;
        };
        let word = |i: usize| {
            let at = self.array_offset.checked_add(i.checked_mul(4)?)?;
            usize::try_from(decode_fixed32(self.data.get(at..)?)?).ok()
        };
        // The word after the last filter's offset is the array offset itself, so `index + 1`
        // always names the filter's end.
        match (word(index), word(index + 1)) {
            (Some(start), Some(limit)) if start <= limit && limit <= self.array_offset => {
                self.data.get(start..limit).is_none_or(|filter| self.policy.key_may_match(user_key, filter))
            }
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_builder_layout() {
        let block = FilterBlockBuilder::new(BloomFilterPolicy::default()).finish();
        assert_eq!(block, vec![0, 0, 0, 0, FILTER_BASE_LG]);
        let reader = FilterBlockReader::new(BloomFilterPolicy::default(), block, 0).unwrap();
        assert!(reader.key_may_match(0, b"foo"));
        assert!(reader.key_may_match(100_000, b"foo"));
    }

    #[test]
    fn single_chunk() {
        let mut b = FilterBlockBuilder::new(BloomFilterPolicy::default());
        b.start_block(100);
        b.add_key(b"foo");
        b.add_key(b"bar");
        b.add_key(b"box");
        b.start_block(200);
        b.add_key(b"box");
        b.start_block(300);
        b.add_key(b"hello");
        let r = FilterBlockReader::new(BloomFilterPolicy::default(), b.finish(), 0).unwrap();
        for key in [&b"foo"[..], b"bar", b"box", b"hello"] {
            assert!(r.key_may_match(100, key));
        }
        assert!(!r.key_may_match(100, b"missing"));
        assert!(!r.key_may_match(100, b"other"));
    }

    #[test]
    fn multiple_chunks_and_empty_filters() {
        let mut b = FilterBlockBuilder::new(BloomFilterPolicy::default());
        b.start_block(0);
        b.add_key(b"foo");
        b.start_block(2000);
        b.add_key(b"bar");
        b.start_block(3100);
        b.add_key(b"box");
        // Nothing lands in the range starting at 4096; the next block starts at 9000.
        b.start_block(9000);
        b.add_key(b"box");
        b.add_key(b"hello");
        let r = FilterBlockReader::new(BloomFilterPolicy::default(), b.finish(), 0).unwrap();
        assert!(r.key_may_match(0, b"foo") && r.key_may_match(2000, b"bar"));
        assert!(!r.key_may_match(0, b"box") && !r.key_may_match(0, b"hello"));
        // 0 and 2000 share the first 2 KiB range, hence a filter; 3100 has the second to itself.
        assert!(r.key_may_match(0, b"bar") && r.key_may_match(2000, b"foo"));
        assert!(r.key_may_match(3100, b"box"));
        assert!(!r.key_may_match(3100, b"foo") && !r.key_may_match(3100, b"bar"));
        assert!(!r.key_may_match(4100, b"foo") && !r.key_may_match(4100, b"box"));
        assert!(r.key_may_match(9000, b"box") && r.key_may_match(9000, b"hello"));
        assert!(!r.key_may_match(9000, b"foo") && !r.key_may_match(9000, b"bar"));
    }

    #[test]
    fn damaged_blocks_never_panic_and_never_deny_wrongly_when_parsed() {
        let mut b = FilterBlockBuilder::new(BloomFilterPolicy::default());
        b.start_block(0);
        b.add_key(b"a");
        b.start_block(5000);
        b.add_key(b"b");
        let good = b.finish();
        assert!(FilterBlockReader::new(BloomFilterPolicy::default(), good[..4].to_vec(), 0).is_err());
        for i in 0..good.len() {
            let mut bytes = good.clone();
            bytes[i] ^= 0x80;
            if let Ok(r) = FilterBlockReader::new(BloomFilterPolicy::default(), bytes, 0) {
                for off in [0, 2048, 4096, 5000, u64::MAX] {
                    let _ = r.key_may_match(off, b"a");
                }
            }
        }
        let mut huge_lg = good.clone();
        *huge_lg.last_mut().unwrap() = 200;
        let r = FilterBlockReader::new(BloomFilterPolicy::default(), huge_lg, 0).unwrap();
        assert!(r.key_may_match(u64::MAX, b"zzz"));
    }
}
