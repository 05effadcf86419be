//! The block cache: uncompressed data blocks shared by every open table, so hot blocks are
//! neither re-read nor re-decompressed.
//!
//! Entries are keyed by `(cache id, block offset)`: each opened table takes a fresh id from
//! [`BlockCache::new_id`], so a file number reused after deletion can never serve a dead table's
//! blocks. The cache is bounded by the bytes of the blocks it holds. It is split into shards,
//! each behind its own mutex and holding an equal part of the capacity, so concurrent readers
//! seldom wait on each other. Eviction is CLOCK, an approximation of least-recently-used: a hit
//! only sets the entry's referenced flag (a get is on every read's hot path), and eviction sweeps
//! a ring of keys, giving referenced entries a second chance.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::engine::sstable::block::Block;

const SHARD_BITS: u32 = 4;
const NUM_SHARDS: usize = 1 << SHARD_BITS;

type CacheKey = (u64, u64);

/// A multiplicative hash for the cache's integer keys: SipHash's protection against chosen keys
/// is not needed for ids and offsets the engine picks, and costs more than the lookup it serves.
#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(26) ^ n).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

struct Entry {
    block: Arc<Block>,
    charge: usize,
    referenced: bool,
}

#[derive(Default)]
struct Shard {
    map: HashMap<CacheKey, Entry, BuildHasherDefault<KeyHasher>>,
    /// Every key in `map` once, in insertion order; the clock hand is the front.
    ring: VecDeque<CacheKey>,
    usage: usize,
    capacity: usize,
    /// Memory of evicted blocks no one else held, for the next block read into this shard: a
    /// random point get evicts one block and reads another, and freeing one 4 KiB buffer then
    /// allocating and zeroing the next cost about a tenth of the get.
    spare: Vec<Vec<u8>>,
}

/// Evicted buffers kept per shard.
const SPARE_BUFFERS: usize = 4;

impl Shard {
    fn touch(&mut self, key: CacheKey) -> Option<Arc<Block>> {
        let entry = self.map.get_mut(&key)?;
        entry.referenced = true;
        Some(Arc::clone(&entry.block))
    }

    fn insert(&mut self, key: CacheKey, block: Arc<Block>) {
        let charge = block.size();
        // A block bigger than the whole shard would only flush everything else and then go.
        if charge > self.capacity {
            return;
        }
        if let Some(entry) = self.map.get_mut(&key) {
            self.usage = self.usage - entry.charge + charge;
            *entry = Entry { block, charge, referenced: true };
        } else {
            self.map.insert(key, Entry { block, charge, referenced: false });
            self.ring.push_back(key);
            self.usage += charge;
        }
        // Each entry is passed over at most once before its flag is clear, so this ends.
        while self.usage > self.capacity {
            let Some(candidate) = self.ring.pop_front() else { break };
            let Some(entry) = self.map.get_mut(&candidate) else { continue };
            if entry.referenced && candidate != key {
                entry.referenced = false;
                self.ring.push_back(candidate);
            } else if let Some(old) = self.map.remove(&candidate) {
                self.usage -= old.charge;
                if self.spare.len() < SPARE_BUFFERS {
                    if let Ok(block) = Arc::try_unwrap(old.block) {
                        self.spare.push(block.into_data());
                    }
                }
            }
        }
    }
}

/// A sharded CLOCK cache of parsed blocks, bounded by their total size in bytes.
pub struct BlockCache {
    shards: [Mutex<Shard>; NUM_SHARDS],
    next_id: AtomicU64,
}

fn lock(shard: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    // A panic while holding the lock cannot leave a shard inconsistent in a way that matters to
    // readers (at worst an entry is missing), so a poisoned lock is used as is.
    shard.lock().unwrap_or_else(|e| e.into_inner())
}

impl BlockCache {
    /// A cache holding at most about `capacity_bytes` of blocks (split evenly over the shards,
    /// so a single shard may start evicting slightly before the total is reached). 0 caches
    /// nothing.
    pub fn new(capacity_bytes: usize) -> BlockCache {
        let per_shard = capacity_bytes.div_ceil(NUM_SHARDS);
        let shards = std::array::from_fn(|_| Mutex::new(Shard { capacity: per_shard, ..Shard::default() }));
        BlockCache { shards, next_id: AtomicU64::new(1) }
    }

    /// A fresh id for a newly opened table; ids are never reused during the cache's life.
    pub fn new_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// Always `Some` (the index is masked to the shard count); an `Option` only to stay free of
    /// panicking indexing.
    fn shard(&self, key: CacheKey) -> Option<&Mutex<Shard>> {
        // Spread consecutive offsets of one table over the shards: multiply by an odd constant
        // and take the top bits.
        let mixed = (key.0.rotate_left(32) ^ key.1).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        self.shards.get((mixed >> (64 - SHARD_BITS)) as usize & (NUM_SHARDS - 1))
    }

    /// The block cached for table `cache_id` at `offset`, marking it recently used.
    pub fn get(&self, cache_id: u64, offset: u64) -> Option<Arc<Block>> {
        self.shard((cache_id, offset)).and_then(|s| lock(s).touch((cache_id, offset)))
    }

    /// Caches `block` for table `cache_id` at `offset`, replacing any previous entry and evicting
    /// blocks not used since the clock last passed them, to stay within capacity. A block larger than a shard's share of
    /// the capacity is not cached.
    pub fn insert(&self, cache_id: u64, offset: u64, block: Arc<Block>) {
        if let Some(shard) = self.shard((cache_id, offset)) {
            lock(shard).insert((cache_id, offset), block);
        }
    }

    /// Memory for reading the block of table `cache_id` at `offset` into: an evicted block's, if
    /// its shard kept one, else empty.
    pub fn take_buffer(&self, cache_id: u64, offset: u64) -> Vec<u8> {
        self.shard((cache_id, offset)).and_then(|s| lock(s).spare.pop()).unwrap_or_default()
    }

    /// Total bytes of the blocks held.
    pub fn usage(&self) -> usize {
        self.shards.iter().map(|s| lock(s).usage).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(size: usize) -> Arc<Block> {
        let mut data = vec![0u8; size.max(4)];
        let n = data.len();
        data[n - 4..].copy_from_slice(&0u32.to_le_bytes());
        Arc::new(Block::new(data, 0).unwrap())
    }

    #[test]
    fn get_after_insert_and_ids_are_unique() {
        let cache = BlockCache::new(1 << 20);
        let a = cache.new_id();
        let b = cache.new_id();
        assert_ne!(a, b);
        cache.insert(a, 0, block(100));
        assert!(cache.get(a, 0).is_some());
        assert!(cache.get(b, 0).is_none());
        assert!(cache.get(a, 1).is_none());
        assert_eq!(cache.usage(), 100);
        cache.insert(a, 0, block(50));
        assert_eq!(cache.usage(), 50);
    }

    #[test]
    fn evicts_an_entry_not_used_since_the_clock_passed() {
        let mut shard = Shard { capacity: 300, ..Shard::default() };
        shard.insert((1, 0), block(100));
        shard.insert((1, 1), block(100));
        shard.insert((1, 2), block(100));
        assert!(shard.touch((1, 0)).is_some());
        shard.insert((1, 3), block(100));
        assert!(shard.touch((1, 1)).is_none(), "the unreferenced entry goes; the touched one stays");
        assert!(shard.touch((1, 0)).is_some() && shard.touch((1, 2)).is_some());
        assert_eq!(shard.usage, 300);
        shard.insert((1, 4), block(301));
        assert!(shard.touch((1, 4)).is_none());
        assert_eq!(shard.map.len(), shard.ring.len(), "the ring holds each cached key once");
    }

    #[test]
    fn total_usage_stays_bounded() {
        let cache = BlockCache::new(16 * 1000);
        let id = cache.new_id();
        for offset in 0..2000 {
            cache.insert(id, offset * 4096, block(100));
            assert!(cache.usage() <= 16 * 1000);
        }
        assert!(cache.usage() > 8 * 1000, "shards should fill up: {}", cache.usage());
        let zero = BlockCache::new(0);
        zero.insert(1, 0, block(10));
        assert!(zero.get(1, 0).is_none());
    }

    #[test]
    fn shared_between_threads() {
        let cache = Arc::new(BlockCache::new(1 << 16));
        let handles: Vec<_> = (0..4u64)
            .map(|t| {
                let cache = Arc::clone(&cache);
                std::thread::spawn(move || {
                    for i in 0..500u64 {
                        cache.insert(t, i, block(64));
                        let _ = cache.get(t, i / 2);
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        assert!(cache.usage() <= 1 << 16);
    }
}
