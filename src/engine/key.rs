//! Internal keys: the user key followed by an 8-byte little-endian tag `(sequence << 8) | kind`.
//! They sort by user key ascending (bytewise, LevelDB's `leveldb.BytewiseComparator`), then by
//! sequence descending, so that the newest version of a key comes first. Memtables, log replay and
//! tables all order entries this way. See docs/format.md, "Internal keys".

use std::cmp::Ordering;

use crate::engine::coding::{decode_fixed64, put_fixed64};

/// A write's position in the total order of writes. Only the low 56 bits are usable.
pub type SequenceNumber = u64;

/// The largest sequence number a tag can hold.
pub const MAX_SEQUENCE: SequenceNumber = (1 << 56) - 1;

/// The name LevelDB records in the MANIFEST for bytewise ordering. A directory that names another
/// comparator was written with a custom ordering todb does not know and must not be opened.
pub const COMPARATOR_NAME: &str = "leveldb.BytewiseComparator";

/// Bytes of the tag that follows the user key.
pub const TAG_SIZE: usize = 8;

/// What an entry records about its key. The numeric values are LevelDB's and are on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueKind {
    /// A tombstone: the key was deleted at this sequence.
    Deletion = 0,
    /// The key was set to the entry's value at this sequence.
    Value = 1,
}

impl ValueKind {
    /// Decodes a kind byte; anything else is corruption.
    pub fn from_byte(b: u8) -> Option<ValueKind> {
        match b {
            0 => Some(ValueKind::Deletion),
            1 => Some(ValueKind::Value),
            _ => None,
        }
    }
}

/// The kind used when building a seek target: `Value` has the highest number, so a target of
/// `(key, seq, Value)` sorts before every entry of `key` with sequence `<= seq`.
pub const KIND_FOR_SEEK: ValueKind = ValueKind::Value;

/// Packs a sequence and kind into a tag.
pub fn pack_tag(seq: SequenceNumber, kind: ValueKind) -> u64 {
    debug_assert!(seq <= MAX_SEQUENCE);
    (seq << 8) | kind as u64
}

/// Appends the internal key for `(user_key, seq, kind)` to `dst`.
pub fn append_internal_key(dst: &mut Vec<u8>, user_key: &[u8], seq: SequenceNumber, kind: ValueKind) {
    dst.extend_from_slice(user_key);
    put_fixed64(dst, pack_tag(seq, kind));
}

/// Builds an internal key.
pub fn internal_key(user_key: &[u8], seq: SequenceNumber, kind: ValueKind) -> Vec<u8> {
    let mut key = Vec::with_capacity(user_key.len() + TAG_SIZE);
    append_internal_key(&mut key, user_key, seq, kind);
    key
}

/// The seek target that finds the newest version of `user_key` visible at `seq`.
pub fn lookup_key(user_key: &[u8], seq: SequenceNumber) -> Vec<u8> {
    internal_key(user_key, seq, KIND_FOR_SEEK)
}

/// An internal key split into its parts. Borrowed from the encoded bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedKey<'a> {
    /// The key as the user wrote it.
    pub user_key: &'a [u8],
    /// The write's sequence number.
    pub seq: SequenceNumber,
    /// Whether the entry is a value or a tombstone.
    pub kind: ValueKind,
}

/// Splits an encoded internal key; `None` when it is shorter than a tag or the kind is unknown.
pub fn parse_internal_key(ikey: &[u8]) -> Option<ParsedKey<'_>> {
    let split = ikey.len().checked_sub(TAG_SIZE)?;
    let (user_key, tag) = ikey.split_at(split);
    let tag = decode_fixed64(tag)?;
    let kind = ValueKind::from_byte((tag & 0xff) as u8)?;
    Some(ParsedKey { user_key, seq: tag >> 8, kind })
}

/// The user-key part of an internal key. Keys shorter than a tag yield themselves; callers that
/// need validation use [`parse_internal_key`].
pub fn user_key(ikey: &[u8]) -> &[u8] {
    ikey.get(..ikey.len().saturating_sub(TAG_SIZE)).unwrap_or(ikey)
}

fn tag_of(ikey: &[u8]) -> u64 {
    ikey.get(ikey.len().saturating_sub(TAG_SIZE)..).and_then(decode_fixed64).unwrap_or(0)
}

/// The internal-key order: user key ascending, then tag (sequence, kind) descending.
#[inline]
pub fn compare_internal(a: &[u8], b: &[u8]) -> Ordering {
    user_key(a).cmp(user_key(b)).then_with(|| tag_of(b).cmp(&tag_of(a)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for key in [&b""[..], b"a", b"\x00\xff", &[7u8; 300]] {
            for seq in [0, 1, 255, 256, MAX_SEQUENCE] {
                for kind in [ValueKind::Value, ValueKind::Deletion] {
                    let ikey = internal_key(key, seq, kind);
                    let parsed = parse_internal_key(&ikey).expect("valid key");
                    assert_eq!(parsed, ParsedKey { user_key: key, seq, kind });
                    assert_eq!(user_key(&ikey), key);
                }
            }
        }
    }

    #[test]
    fn order_is_user_key_then_newest_first() {
        let a1 = internal_key(b"a", 1, ValueKind::Value);
        let a2 = internal_key(b"a", 2, ValueKind::Value);
        let a2d = internal_key(b"a", 2, ValueKind::Deletion);
        let b0 = internal_key(b"b", 0, ValueKind::Value);
        let ab = internal_key(b"ab", 9, ValueKind::Value);
        assert_eq!(compare_internal(&a2, &a1), Ordering::Less);
        assert_eq!(compare_internal(&a2, &a2d), Ordering::Less);
        assert_eq!(compare_internal(&a1, &ab), Ordering::Less);
        assert_eq!(compare_internal(&ab, &b0), Ordering::Less);
        assert_eq!(compare_internal(&lookup_key(b"a", 2), &a2), Ordering::Equal);
        assert_eq!(compare_internal(&lookup_key(b"a", 1), &a2), Ordering::Greater);
    }

    #[test]
    fn garbage_is_refused() {
        assert!(parse_internal_key(b"short").is_none());
        let mut bad = internal_key(b"k", 5, ValueKind::Value);
        let n = bad.len();
        bad[n - TAG_SIZE] = 7;
        assert!(parse_internal_key(&bad).is_none());
    }
}
