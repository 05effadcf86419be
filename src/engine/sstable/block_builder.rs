//! Builds one block (data, index or metaindex) in LevelDB's prefix-compressed layout.
//!
//! ```text
//! entry*  where entry = varint32 shared | varint32 unshared | varint32 value_len
//!                       | key bytes [shared..] (unshared of them) | value bytes
//! restart offset (fixed32) * num_restarts
//! num_restarts (fixed32)
//! ```
//!
//! `shared` counts the leading bytes the key has in common with the previous key. Every
//! `restart_interval` entries the sharing restarts (`shared` = 0) and that entry's offset is
//! recorded, so a reader can binary-search the restart points and then scan a short run.

use crate::engine::coding::{put_fixed32, put_varint32};

/// Accumulates sorted entries into one block's bytes.
///
/// Keys must be added in strictly increasing order of whatever comparator the block's readers will
/// use; the builder itself never compares keys. Keys and values must each be shorter than 4 GiB
/// (the format stores their lengths as varint32).
#[derive(Debug)]
pub struct BlockBuilder {
    restart_interval: usize,
    buf: Vec<u8>,
    restarts: Vec<u32>,
    /// Entries since the last restart point.
    counter: usize,
    last_key: Vec<u8>,
    finished: bool,
}

impl BlockBuilder {
    /// An empty builder restarting prefix compression every `restart_interval` entries (0 is
    /// treated as 1).
    pub fn new(restart_interval: usize) -> BlockBuilder {
        BlockBuilder {
            restart_interval: restart_interval.max(1),
            buf: Vec::new(),
            restarts: vec![0],
            counter: 0,
            last_key: Vec::new(),
            finished: false,
        }
    }

    /// Appends an entry. Requires: `finish` has not been called since the last `reset`, and `key`
    /// sorts after every key already added.
    pub fn add(&mut self, key: &[u8], value: &[u8]) {
        debug_assert!(!self.finished, "add after finish");
        let shared = if self.counter < self.restart_interval {
            self.last_key.iter().zip(key).take_while(|(a, b)| a == b).count()
        } else {
            self.restarts.push(len_u32(self.buf.len()));
            self.counter = 0;
            0
        };
        let unshared = key.get(shared..).unwrap_or_default();
        put_varint32(&mut self.buf, len_u32(shared));
        put_varint32(&mut self.buf, len_u32(unshared.len()));
        put_varint32(&mut self.buf, len_u32(value.len()));
        self.buf.extend_from_slice(unshared);
        self.buf.extend_from_slice(value);
        self.last_key.truncate(shared);
        self.last_key.extend_from_slice(unshared);
        self.counter += 1;
    }

    /// Appends the restart array and returns the finished block. The builder must be `reset`
    /// before it is reused.
    pub fn finish(&mut self) -> &[u8] {
        if !self.finished {
            for &r in &self.restarts {
                put_fixed32(&mut self.buf, r);
            }
            put_fixed32(&mut self.buf, len_u32(self.restarts.len()));
            self.finished = true;
        }
        &self.buf
    }

    /// Empties the builder for a new block, keeping its allocations.
    pub fn reset(&mut self) {
        self.buf.clear();
        self.restarts.clear();
        self.restarts.push(0);
        self.counter = 0;
        self.last_key.clear();
        self.finished = false;
    }

    /// The size the block would have if finished now (entries plus restart array).
    pub fn current_size_estimate(&self) -> usize {
        if self.finished {
            return self.buf.len();
        }
        self.buf.len() + 4 * self.restarts.len() + 4
    }

    /// True when no entry has been added since the last reset.
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// Block offsets and lengths are stored as 32-bit values; a block is a few KiB, and a single entry
/// over 4 GiB violates `add`'s documented contract.
fn len_u32(n: usize) -> u32 {
    debug_assert!(u32::try_from(n).is_ok(), "block field over 4 GiB");
    n as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::coding::decode_fixed32;

    #[test]
    fn layout_of_a_small_block_matches_leveldb() {
        let mut b = BlockBuilder::new(2);
        b.add(b"apple", b"1");
        b.add(b"apply", b"22");
        b.add(b"banana", b"");
        let est = b.current_size_estimate();
        let out = b.finish().to_vec();
        assert_eq!(out.len(), est);
        let mut expected = vec![0, 5, 1];
        expected.extend_from_slice(b"apple1");
        expected.extend_from_slice(&[4, 1, 2]);
        expected.extend_from_slice(b"y22");
        let second_restart = expected.len() as u32;
        expected.extend_from_slice(&[0, 6, 0]);
        expected.extend_from_slice(b"banana");
        expected.extend_from_slice(&0u32.to_le_bytes());
        expected.extend_from_slice(&second_restart.to_le_bytes());
        expected.extend_from_slice(&2u32.to_le_bytes());
        assert_eq!(out, expected);
    }

    #[test]
    fn empty_block_has_one_restart() {
        let mut b = BlockBuilder::new(16);
        assert!(b.is_empty());
        assert_eq!(b.current_size_estimate(), 8);
        let out = b.finish();
        assert_eq!(out, &[0, 0, 0, 0, 1, 0, 0, 0]);
    }

    #[test]
    fn reset_allows_reuse_and_finish_is_idempotent() {
        let mut b = BlockBuilder::new(16);
        b.add(b"k", b"v");
        let first = b.finish().to_vec();
        assert_eq!(b.finish(), &first[..]);
        b.reset();
        assert!(b.is_empty());
        b.add(b"k", b"v");
        assert_eq!(b.finish(), &first[..]);
    }

    #[test]
    fn restart_count_follows_interval() {
        for (n, interval, restarts) in [(1, 16, 1), (16, 16, 1), (17, 16, 2), (5, 1, 5), (5, 0, 5)] {
            let mut b = BlockBuilder::new(interval);
            for i in 0..n {
                b.add(format!("key{i:03}").as_bytes(), b"v");
            }
            let out = b.finish();
            assert_eq!(decode_fixed32(&out[out.len() - 4..]), Some(restarts), "{n} {interval}");
        }
    }
}
