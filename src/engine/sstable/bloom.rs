//! LevelDB's built-in bloom filter ("leveldb.BuiltinBloomFilter2"), bit-compatible so that filters
//! in tables written by LevelDB answer correctly here and ours answer correctly in LevelDB.
//!
//! A filter over n keys is `ceil(max(n * bits_per_key, 64) / 8)` bytes of bit array followed by
//! one byte holding k, the number of probes. Each key sets k bits chosen by double hashing from
//! LevelDB's 32-bit `Hash(key, seed = 0xbc9f1d34)`: bit `h mod bits`, then `h += delta` where
//! `delta` is `h` rotated right by 17. Filters are built over user keys (LevelDB's table builder
//! strips the 8-byte internal-key tag before hashing), so every key passed here is a user key.

use crate::engine::coding::decode_fixed32;

/// The name recorded in the metaindex (after "filter.") for this policy.
pub const BLOOM_POLICY_NAME: &str = "leveldb.BuiltinBloomFilter2";

/// LevelDB's default bits per key.
pub const DEFAULT_BITS_PER_KEY: usize = 10;

const BLOOM_SEED: u32 = 0xbc9f_1d34;

/// LevelDB's `Hash` (util/hash.cc), a murmur-like 32-bit hash. Its exact output is on disk, in
/// every bloom filter.
pub fn hash(data: &[u8], seed: u32) -> u32 {
    const M: u32 = 0xc6a4_a793;
    // LevelDB multiplies the length as size_t and keeps the low 32 bits; wrapping u32 arithmetic
    // gives the same bits.
    let mut h = seed ^ (data.len() as u32).wrapping_mul(M);
    let mut words = data.chunks_exact(4);
    for word in &mut words {
        h = h.wrapping_add(decode_fixed32(word).unwrap_or(0));
        h = h.wrapping_mul(M);
        h ^= h >> 16;
    }
    let tail = words.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h = h.wrapping_add(u32::from(b) << (8 * i));
        }
        h = h.wrapping_mul(M);
        h ^= h >> 24;
    }
    h
}

fn bloom_hash(key: &[u8]) -> u32 {
    hash(key, BLOOM_SEED)
}

/// Builds and probes bloom filters with a fixed bits-per-key setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BloomFilterPolicy {
    bits_per_key: usize,
    k: usize,
}

impl BloomFilterPolicy {
    /// A policy spending `bits_per_key` bits of filter per key. The probe count is
    /// `bits_per_key * 0.69` (about ln 2, rounded down) clamped to 1..=30, as in LevelDB.
    pub fn new(bits_per_key: usize) -> BloomFilterPolicy {
        let k = ((bits_per_key as f64) * 0.69) as usize;
        BloomFilterPolicy { bits_per_key, k: k.clamp(1, 30) }
    }

    /// The policy's name as stored in the metaindex.
    pub fn name(&self) -> &'static str {
        BLOOM_POLICY_NAME
    }

    /// Appends a filter covering `user_keys` to `dst`.
    pub fn create_filter(&self, user_keys: &[&[u8]], dst: &mut Vec<u8>) {
        self.create_filter_from_hashes(user_keys.iter().map(|k| bloom_hash(k)), user_keys.len(), dst);
    }

    /// The hash a filter is built from, for builders that keep hashes instead of keys.
    pub fn key_hash(user_key: &[u8]) -> u32 {
        bloom_hash(user_key)
    }

    /// `create_filter` over the keys' `key_hash`es, `count` of them.
    pub fn create_filter_from_hashes(&self, hashes: impl Iterator<Item = u32>, count: usize, dst: &mut Vec<u8>) {
        // A floor on the size keeps the false-positive rate sane for tiny key sets.
        let bits = count.saturating_mul(self.bits_per_key).max(64);
        let bytes = bits.div_ceil(8);
        let bits = bytes * 8;
        let start = dst.len();
        dst.resize(start + bytes, 0);
        dst.push(self.k as u8);
        let array = dst.get_mut(start..start + bytes).unwrap_or_default();
        for mut h in hashes {
            let delta = h.rotate_right(17);
            for _ in 0..self.k {
                let pos = (h as usize) % bits;
                if let Some(byte) = array.get_mut(pos / 8) {
                    *byte |= 1 << (pos % 8);
                }
                h = h.wrapping_add(delta);
            }
        }
    }

    /// False only if `user_key` was certainly not among the keys `filter` was built from. Probe
    /// counts over 30 are reserved by LevelDB for other encodings and match everything; a filter
    /// under 2 bytes matches nothing, as in LevelDB.
    pub fn key_may_match(&self, user_key: &[u8], filter: &[u8]) -> bool {
        let Some((&k, array)) = filter.split_last() else { return false };
        if array.is_empty() {
            return false;
        }
        if k > 30 {
            return true;
        }
        let bits = array.len() * 8;
        let mut h = bloom_hash(user_key);
        let delta = h.rotate_right(17);
        for _ in 0..k {
            let pos = (h as usize) % bits;
            if array.get(pos / 8).is_none_or(|byte| byte & (1 << (pos % 8)) == 0) {
                return false;
            }
            h = h.wrapping_add(delta);
        }
        true
    }
}

impl Default for BloomFilterPolicy {
    fn default() -> Self {
        BloomFilterPolicy::new(DEFAULT_BITS_PER_KEY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_leveldb_vectors() {
        // The vectors of LevelDB's util/hash_test.cc, which pin the unsigned handling of tail bytes.
        assert_eq!(hash(&[], 0xbc9f1d34), 0xbc9f1d34);
        assert_eq!(hash(&[0x62], 0xbc9f1d34), 0xef1345c4);
        assert_eq!(hash(&[0xc3, 0x97], 0xbc9f1d34), 0x5b663814);
        assert_eq!(hash(&[0xe2, 0x99, 0xa5], 0xbc9f1d34), 0x323c078f);
        assert_eq!(hash(&[0xe1, 0x80, 0xb9, 0x32], 0xbc9f1d34), 0xed21633a);
        let data5: [u8; 48] = [
            0x01, 0xc0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x14, 0, 0, 0, 0, 0, 0x04, 0, 0, 0, 0, 0x14, 0, 0, 0,
            0x18, 0x28, 0, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(hash(&data5, 0x12345678), 0xf333dabb);
    }

    #[test]
    fn small_filter_layout() {
        let policy = BloomFilterPolicy::new(10);
        let mut f = Vec::new();
        policy.create_filter(&[b"hello", b"world"], &mut f);
        // 2 keys * 10 bits is under the 64-bit floor: 8 bytes plus the probe count (10 * 0.69 = 6).
        assert_eq!(f.len(), 9);
        assert_eq!(f[8], 6);
        assert!(policy.key_may_match(b"hello", &f));
        assert!(policy.key_may_match(b"world", &f));
        assert!(!policy.key_may_match(b"x", &f));
        assert!(!policy.key_may_match(b"foo", &f));
        assert!(!policy.key_may_match(b"hello", &[]));
        assert!(!policy.key_may_match(b"hello", &[6]));
        assert!(policy.key_may_match(b"hello", &[0, 31]));
    }

    #[test]
    fn probe_count_is_clamped() {
        assert_eq!(BloomFilterPolicy::new(0).k, 1);
        assert_eq!(BloomFilterPolicy::new(1).k, 1);
        assert_eq!(BloomFilterPolicy::new(100).k, 30);
    }

    #[test]
    fn no_false_negatives_and_about_one_percent_false_positives() {
        let policy = BloomFilterPolicy::default();
        let keys: Vec<Vec<u8>> = (0..10_000u32).map(|i| i.to_le_bytes().to_vec()).collect();
        let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
        let mut f = Vec::new();
        policy.create_filter(&refs, &mut f);
        assert_eq!(f.len(), 12_500 + 1);
        assert!(keys.iter().all(|k| policy.key_may_match(k, &f)));
        let probes = 10_000u32;
        let hits = (0..probes).filter(|i| policy.key_may_match(&(i + 1_000_000_000).to_le_bytes(), &f)).count();
        let rate = hits as f64 / f64::from(probes);
        // About 0.8% with these keys; far below means the filter is oversized, far above broken.
        assert!((0.002..0.02).contains(&rate), "false-positive rate {rate}");
    }

    #[test]
    fn varying_lengths_have_no_false_negatives() {
        let policy = BloomFilterPolicy::default();
        let mut n = 1;
        while n <= 10_000 {
            let keys: Vec<Vec<u8>> = (0..n as u32).map(|i| format!("key{i}").into_bytes()).collect();
            let refs: Vec<&[u8]> = keys.iter().map(Vec::as_slice).collect();
            let mut f = Vec::new();
            policy.create_filter(&refs, &mut f);
            assert!(f.len() <= n * 10 / 8 + 40);
            assert!(keys.iter().all(|k| policy.key_may_match(k, &f)), "n={n}");
            n = if n < 10 { n + 1 } else { n * 10 };
        }
    }
}
