//! A write batch in LevelDB's `WriteBatch` encoding, which is also the payload of each log record:
//!
//! ```text
//! sequence: fixed64 | count: fixed32 | record*
//! record := kTypeValue(0x01) varstring(key) varstring(value)
//!         | kTypeDeletion(0x00) varstring(key)
//! varstring := varint32(len) bytes
//! ```
//!
//! Entry `i` of a batch is applied with sequence `sequence + i`. A batch is logged as one record
//! and published to readers all at once, so it is atomic. See docs/format.md, "WriteBatch".

use crate::engine::coding::{decode_fixed32, decode_fixed64, decode_length_prefixed, put_length_prefixed};
use crate::engine::error::{Error, Result};
use crate::engine::key::{SequenceNumber, ValueKind};

/// Bytes of the sequence and count that open every batch.
pub const HEADER_SIZE: usize = 8 + 4;

/// An ordered list of puts and deletes applied atomically.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteBatch {
    rep: Vec<u8>,
}

/// One operation of a batch, borrowed from its encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchOp<'a> {
    /// Put or delete.
    pub kind: ValueKind,
    /// The user key.
    pub key: &'a [u8],
    /// The value; empty for a delete.
    pub value: &'a [u8],
}

impl Default for WriteBatch {
    fn default() -> Self {
        WriteBatch::new()
    }
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> WriteBatch {
        WriteBatch { rep: vec![0; HEADER_SIZE] }
    }

    /// An empty batch with room for `bytes` bytes of encoded operations.
    pub fn with_capacity(bytes: usize) -> WriteBatch {
        let mut rep = Vec::with_capacity(HEADER_SIZE + bytes);
        rep.resize(HEADER_SIZE, 0);
        WriteBatch { rep }
    }

    /// Parses a batch read from a log record, checking that every record is well formed.
    pub fn from_bytes(rep: Vec<u8>) -> Result<WriteBatch> {
        if rep.len() < HEADER_SIZE {
            return Err(Error::corruption("write batch shorter than its header"));
        }
        let batch = WriteBatch { rep };
        let mut seen = 0u32;
        for op in batch.iter() {
            op?;
            seen += 1;
        }
        if seen != batch.count() {
            return Err(Error::corruption("write batch count does not match its records"));
        }
        Ok(batch)
    }

    /// Adds a put of `key` to `value`.
    pub fn put(&mut self, key: &[u8], value: &[u8]) {
        self.set_count(self.count() + 1);
        self.rep.push(ValueKind::Value as u8);
        put_length_prefixed(&mut self.rep, key);
        put_length_prefixed(&mut self.rep, value);
    }

    /// Adds a delete of `key`.
    pub fn delete(&mut self, key: &[u8]) {
        self.set_count(self.count() + 1);
        self.rep.push(ValueKind::Deletion as u8);
        put_length_prefixed(&mut self.rep, key);
    }

    /// Removes every operation.
    pub fn clear(&mut self) {
        self.rep.clear();
        self.rep.resize(HEADER_SIZE, 0);
    }

    /// The number of operations.
    pub fn count(&self) -> u32 {
        self.rep.get(8..).and_then(decode_fixed32).unwrap_or(0)
    }

    fn set_count(&mut self, n: u32) {
        if let Some(slot) = self.rep.get_mut(8..12) {
            slot.copy_from_slice(&n.to_le_bytes());
        }
    }

    /// The sequence number of the first operation.
    pub fn sequence(&self) -> SequenceNumber {
        decode_fixed64(&self.rep).unwrap_or(0)
    }

    /// Sets the sequence number of the first operation.
    pub fn set_sequence(&mut self, seq: SequenceNumber) {
        if let Some(slot) = self.rep.get_mut(..8) {
            slot.copy_from_slice(&seq.to_le_bytes());
        }
    }

    /// The encoded batch, as it goes into a log record.
    pub fn data(&self) -> &[u8] {
        &self.rep
    }

    /// The encoded size in bytes.
    pub fn byte_size(&self) -> usize {
        self.rep.len()
    }

    /// True when the batch holds no operation.
    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }

    /// Appends the operations of `other` after this batch's.
    pub fn append(&mut self, other: &WriteBatch) {
        self.set_count(self.count() + other.count());
        self.rep.extend_from_slice(other.rep.get(HEADER_SIZE..).unwrap_or(&[]));
    }

    /// The operations in order. Yields `Err(Corruption)` at the first malformed record.
    pub fn iter(&self) -> BatchIter<'_> {
        BatchIter { rest: self.rep.get(HEADER_SIZE..).unwrap_or(&[]), failed: false }
    }
}

/// Iterator over a batch's operations.
pub struct BatchIter<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Iterator for BatchIter<'a> {
    type Item = Result<BatchOp<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        let (&tag, rest) = self.rest.split_first()?;
        let parsed = match ValueKind::from_byte(tag) {
            Some(ValueKind::Value) => decode_length_prefixed(rest).and_then(|(key, n)| {
                let rest = rest.get(n..)?;
                let (value, m) = decode_length_prefixed(rest)?;
                Some((BatchOp { kind: ValueKind::Value, key, value }, rest.get(m..)?))
            }),
            Some(ValueKind::Deletion) => decode_length_prefixed(rest)
                .and_then(|(key, n)| Some((BatchOp { kind: ValueKind::Deletion, key, value: &[] }, rest.get(n..)?))),
            None => None,
        };
        match parsed {
            Some((op, rest)) => {
                self.rest = rest;
                Some(Ok(op))
            }
            None => {
                self.failed = true;
                Some(Err(Error::corruption("malformed write batch record")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut b = WriteBatch::new();
        b.put(b"a", b"1");
        b.delete(b"b");
        b.put(b"", b"");
        b.put(&[0, 255], &vec![9u8; 1000]);
        b.set_sequence(42);
        let parsed = WriteBatch::from_bytes(b.data().to_vec()).unwrap();
        assert_eq!(parsed.sequence(), 42);
        assert_eq!(parsed.count(), 4);
        let ops: Vec<_> = parsed.iter().map(|op| op.unwrap()).collect();
        assert_eq!(ops[0], BatchOp { kind: ValueKind::Value, key: b"a", value: b"1" });
        assert_eq!(ops[1], BatchOp { kind: ValueKind::Deletion, key: b"b", value: b"" });
        assert_eq!(ops[2].key, b"");
        assert_eq!(ops[3].value.len(), 1000);
    }

    #[test]
    fn append_and_clear() {
        let mut a = WriteBatch::new();
        a.put(b"x", b"1");
        let mut b = WriteBatch::new();
        b.delete(b"y");
        a.append(&b);
        assert_eq!(a.count(), 2);
        assert_eq!(a.iter().count(), 2);
        a.clear();
        assert!(a.is_empty());
        assert_eq!(a.byte_size(), HEADER_SIZE);
    }

    #[test]
    fn every_truncation_and_bad_count_is_refused() {
        let mut b = WriteBatch::new();
        b.put(b"key", b"value");
        b.delete(b"other");
        let data = b.data().to_vec();
        for cut in 0..data.len() {
            assert!(WriteBatch::from_bytes(data[..cut].to_vec()).is_err(), "cut {cut}");
        }
        let mut wrong_count = data.clone();
        wrong_count[8] = 3;
        assert!(WriteBatch::from_bytes(wrong_count).is_err());
        let mut bad_tag = data;
        bad_tag[HEADER_SIZE] = 9;
        assert!(WriteBatch::from_bytes(bad_tag).is_err());
    }
}
