//! A search table for one index block, built when its table opens, so that finding the data
//! block of a key costs a binary search over a small array of integers instead of about ten
//! probes into the block, each decoding an entry's varints and comparing whole keys in memory the
//! cache has usually lost. Point reads and iterator seeks go through it.
//!
//! The index keys of one table share a prefix (all keys between the first and the last user key
//! do); each entry is represented by the 8 bytes of its user key after that prefix, big-endian
//! and zero-padded. Where two such heads differ they order the keys exactly; only entries whose
//! heads equal the target's are compared in full.

use std::cmp::Ordering;

use crate::engine::key::{compare_internal, user_key};
use crate::engine::sstable::block::Block;

/// The search table of an index block in which every entry is a restart point.
pub struct IndexSearch {
    prefix: Vec<u8>,
    heads: Vec<u64>,
}

fn head(rest: &[u8]) -> u64 {
    let mut bytes = [0u8; 8];
    let n = rest.len().min(8);
    bytes[..n].copy_from_slice(&rest[..n]);
    u64::from_be_bytes(bytes)
}

impl IndexSearch {
    /// The search table for `block`, or `None` when the block does not suit one (it has entries
    /// that are not restart points, or is damaged): the caller then searches the block itself,
    /// which also reports the damage.
    pub fn new(block: &Block) -> Option<IndexSearch> {
        let n = block.num_restarts();
        if !block.every_entry_restarts() {
            return None;
        }
        let prefix = match (block.restart_entry(0), n.checked_sub(1).and_then(|last| block.restart_entry(last))) {
            (Some((first, _)), Some((last, _))) => {
                let (first, last) = (user_key(first), user_key(last));
                let common = first.iter().zip(last).take_while(|(a, b)| a == b).count();
                first[..common].to_vec()
            }
            _ => Vec::new(),
        };
        let mut heads = Vec::with_capacity(n);
        for i in 0..n {
            let (key, _) = block.restart_entry(i)?;
            heads.push(head(user_key(key).get(prefix.len()..)?));
        }
        Some(IndexSearch { prefix, heads })
    }

    /// The first entry whose key is `>=` the internal key `target` (the entry count if none is):
    /// the same answer as seeking a cursor over `block`, which must be the block this table was
    /// built from.
    pub fn seek(&self, block: &Block, target: &[u8]) -> usize {
        let n = self.heads.len();
        let tu = user_key(target);
        let shared = tu.len().min(self.prefix.len());
        match tu[..shared].cmp(&self.prefix[..shared]) {
            Ordering::Less => return 0,
            Ordering::Greater => return n,
            // A target that is a proper prefix of every key's prefix is before them all.
            Ordering::Equal if tu.len() < self.prefix.len() => return 0,
            Ordering::Equal => {}
        }
        let t = head(&tu[self.prefix.len()..]);
        let mut lo = self.heads.partition_point(|&h| h < t);
        // Usually no entry, or one, shares the target's head: scan rather than search again.
        let mut hi = lo;
        while self.heads.get(hi) == Some(&t) {
            hi += 1;
        }
        // Equal heads: compare whole keys. A damaged entry counts as not less, as a cursor would
        // stop there and report it.
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let less = block.restart_entry(mid).is_some_and(|(key, _)| compare_internal(key, target).is_lt());
            if less {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::iter::InternalIterator;
    use crate::engine::key::{lookup_key, MAX_SEQUENCE};
    use crate::engine::sstable::block_builder::BlockBuilder;
    use std::sync::Arc;

    fn ikey(user: &[u8], seq: u64) -> Vec<u8> {
        lookup_key(user, seq)
    }

    fn index_block(keys: &[Vec<u8>]) -> Arc<Block> {
        let mut b = BlockBuilder::new(1);
        for (i, k) in keys.iter().enumerate() {
            b.add(k, format!("v{i}").as_bytes());
        }
        Arc::new(Block::new(b.finish().to_vec(), 0).unwrap())
    }

    /// The search must give the same entry as a cursor's seek, for targets around every key,
    /// including keys that end inside the 8-byte head, keys with zero bytes, equal user keys with
    /// different sequence numbers, and targets outside the shared prefix.
    #[test]
    fn agrees_with_a_cursor_seek() {
        let users: Vec<&[u8]> = vec![
            b"key-0001", b"key-0001\0", b"key-0001\0\0", b"key-0001\0a", b"key-0001a", b"key-00010000000000x",
            b"key-0002", b"key-0002", b"key-0002", b"key-0003zzzzzzzzzzzz", b"key-0003zzzzzzzzzzzza",
            b"key-0003zzzzzzzzzzzzb", b"key-1", b"key-\xff",
        ];
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for (i, u) in users.iter().enumerate() {
            keys.push(ikey(u, 1000 - i as u64));
        }
        keys.sort_by(|a, b| compare_internal(a, b));
        let block = index_block(&keys);
        let search = IndexSearch::new(&block).expect("an index block");
        let mut targets: Vec<Vec<u8>> = keys.clone();
        for u in users.iter().chain([&b"key-"[..], b"key", b"k", b"", b"kez", b"key-0001\0\0\0", b"key-00015", b"z"].iter()) {
            for seq in [0, 5, 990, 995, MAX_SEQUENCE] {
                targets.push(ikey(u, seq));
            }
        }
        for target in &targets {
            let mut it = block.iter(compare_internal);
            it.seek(target);
            let want = if it.valid() { keys.iter().position(|k| k.as_slice() == it.key()).unwrap() } else { keys.len() };
            assert_eq!(search.seek(&block, target), want, "target {:?}", String::from_utf8_lossy(target));
        }
    }

    #[test]
    fn blocks_with_longer_restart_intervals_are_left_to_the_cursor() {
        let mut b = BlockBuilder::new(16);
        for i in 0..40u32 {
            b.add(&ikey(format!("k{i:04}").as_bytes(), 1), b"v");
        }
        let block = Block::new(b.finish().to_vec(), 0).unwrap();
        assert!(IndexSearch::new(&block).is_none());
    }
}
