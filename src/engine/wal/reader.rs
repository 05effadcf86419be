//! Reads logical records back from a log file's bytes, and decides what damage means.
//!
//! todb's rule (a deliberate difference from LevelDB, recorded in docs/format.md): damage at the
//! *tail* of a log is what a crash in the middle of an append leaves behind, so it is dropped
//! silently and the records before it are kept. The tail is a fragment that runs past the end of
//! the file, a logical record whose last fragment never arrived, or a damaged fragment after
//! which the file holds only zeros. Damage anywhere before the tail fails recovery with
//! `Error::Corruption`, where LevelDB would skip the damaged blocks and open anyway.

use super::format::{RecordType, BLOCK_SIZE, HEADER_SIZE};
use crate::engine::coding::decode_fixed32;
use crate::engine::crc;
use crate::engine::error::{Error, Result};

/// How reading the log ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadOutcome {
    /// Every byte belonged to a complete record (or block padding).
    Clean,
    /// A torn tail was dropped; the records before `valid_len` were kept.
    TornTail {
        /// Offset just past the last complete logical record.
        valid_len: u64,
    },
}

/// Iterates over the logical records in a log file's contents.
pub struct LogReader<'a> {
    data: &'a [u8],
    pos: usize,
    file_number: u64,
    last_record_end: usize,
    outcome: Option<ReadOutcome>,
    // Repair mode: skip damage to the next block, as LevelDB's reader does, instead of failing.
    skip_damage: bool,
    dropped_bytes: u64,
}

enum Fragment<'a> {
    Record(RecordType, &'a [u8]),
    Padding,
    Eof,
    Torn,
}

impl<'a> LogReader<'a> {
    /// A reader over `data`, the whole contents of log `file_number` (named in errors).
    pub fn new(data: &'a [u8], file_number: u64) -> LogReader<'a> {
        LogReader { data, pos: 0, file_number, last_record_end: 0, outcome: None, skip_damage: false, dropped_bytes: 0 }
    }

    /// A reader over `data`, the whole contents of log `file_number`, that starts at `offset`:
    /// the [`LogReader::position`] an earlier reader of the same file reached, to read only the
    /// records appended since. An offset past the end reads nothing.
    pub fn resume(data: &'a [u8], file_number: u64, offset: u64) -> LogReader<'a> {
        let at = usize::try_from(offset).unwrap_or(usize::MAX).min(data.len());
        LogReader { pos: at, last_record_end: at, ..LogReader::new(data, file_number) }
    }

    /// The offset just past the last complete record returned (where a later reader resumes).
    pub fn position(&self) -> u64 {
        self.last_record_end as u64
    }

    /// A reader for repair: damage before the tail is skipped up to the next block, with the
    /// bytes lost counted in `dropped_bytes`, instead of failing.
    pub fn skipping_damage(data: &'a [u8], file_number: u64) -> LogReader<'a> {
        LogReader { skip_damage: true, ..LogReader::new(data, file_number) }
    }

    /// Bytes skipped because of damage (repair mode only).
    pub fn dropped_bytes(&self) -> u64 {
        self.dropped_bytes
    }

    /// How the read ended; `None` until `next_record` has returned `Ok(None)`.
    pub fn outcome(&self) -> Option<ReadOutcome> {
        self.outcome
    }

    /// The next logical record, `Ok(None)` at the end (including a dropped torn tail), or
    /// `Err(Corruption)` for damage before the tail.
    pub fn next_record(&mut self) -> Result<Option<Vec<u8>>> {
        let mut assembled: Option<Vec<u8>> = None;
        loop {
            let start = self.pos;
            match self.read_fragment()? {
                Fragment::Padding => continue,
                Fragment::Eof => {
                    return Ok(self.finish(if assembled.is_some() { Some(start) } else { None }));
                }
                Fragment::Torn => return Ok(self.finish(Some(start))),
                Fragment::Record(kind, payload) => match (kind, assembled.as_mut()) {
                    (RecordType::Full, None) => {
                        self.last_record_end = self.pos;
                        return Ok(Some(payload.to_vec()));
                    }
                    (RecordType::First, None) => assembled = Some(payload.to_vec()),
                    (RecordType::Middle, Some(buf)) => buf.extend_from_slice(payload),
                    (RecordType::Last, Some(buf)) => {
                        buf.extend_from_slice(payload);
                        self.last_record_end = self.pos;
                        return Ok(assembled);
                    }
                    _ => {
                        if !self.skip_damage {
                            return Err(self.corruption(start, "fragment out of order"));
                        }
                        self.dropped_bytes += assembled.take().map_or(0, |b| b.len() as u64);
                        if matches!(kind, RecordType::First) {
                            assembled = Some(payload.to_vec());
                        } else if matches!(kind, RecordType::Full) {
                            self.last_record_end = self.pos;
                            return Ok(Some(payload.to_vec()));
                        }
                    }
                },
            }
        }
    }

    fn finish(&mut self, torn_at: Option<usize>) -> Option<Vec<u8>> {
        self.outcome = Some(match torn_at {
            None if self.last_record_end == self.data.len() => ReadOutcome::Clean,
            _ => ReadOutcome::TornTail { valid_len: self.last_record_end as u64 },
        });
        self.pos = self.data.len();
        None
    }

    fn corruption(&self, offset: usize, reason: &str) -> Error {
        Error::corruption(format!("log {:06}.log at offset {offset}: {reason}", self.file_number))
    }

    fn rest_is_zero(&self, from: usize) -> bool {
        self.data.get(from..).is_none_or(|rest| rest.iter().all(|&b| b == 0))
    }

    /// Damage at `start`: the tail if nothing but zeros follows `end`, otherwise corruption.
    fn damaged(&mut self, start: usize, end: usize, reason: &str) -> Result<Fragment<'a>> {
        if self.rest_is_zero(end) {
            Ok(Fragment::Torn)
        } else if self.skip_damage {
            let next_block = (start / BLOCK_SIZE + 1) * BLOCK_SIZE;
            self.dropped_bytes += (next_block.min(self.data.len()) - start) as u64;
            self.pos = next_block;
            Ok(Fragment::Padding)
        } else {
            Err(self.corruption(start, reason))
        }
    }

    fn read_fragment(&mut self) -> Result<Fragment<'a>> {
        let start = self.pos;
        if start >= self.data.len() {
            return Ok(Fragment::Eof);
        }
        let block_left = BLOCK_SIZE - start % BLOCK_SIZE;
        if block_left < HEADER_SIZE {
            // The zero padding LevelDB leaves at a block's end.
            self.pos = start + block_left;
            return Ok(if self.pos >= self.data.len() { Fragment::Eof } else { Fragment::Padding });
        }
        let Some(header) = self.data.get(start..start + HEADER_SIZE) else {
            return Ok(if start >= self.data.len() { Fragment::Eof } else { Fragment::Torn });
        };
        let stored_crc = decode_fixed32(header).unwrap_or(0);
        let length = usize::from(u16::from_le_bytes([header[4], header[5]]));
        let type_byte = header[6];
        let end = start + HEADER_SIZE + length;
        if HEADER_SIZE + length > block_left {
            // A length that leaves its block can only be a damaged header.
            return self.damaged(start, start + block_left, "record length overruns its block");
        }
        let Some(payload) = self.data.get(start + HEADER_SIZE..end) else {
            return Ok(Fragment::Torn);
        };
        if type_byte == RecordType::Zero as u8 && length == 0 && stored_crc == 0 {
            // Zeroed space (a preallocated or partly persisted tail).
            return self.damaged(start, start, "unexpected zero-filled record");
        }
        let actual = crc::extend(crc::value(&[type_byte]), payload);
        if crc::unmask(stored_crc) != actual {
            return self.damaged(start, end, "checksum mismatch");
        }
        let Some(kind) = RecordType::from_byte(type_byte).filter(|k| *k != RecordType::Zero) else {
            return self.damaged(start, end, "unknown record type");
        };
        self.pos = end;
        Ok(Fragment::Record(kind, payload))
    }
}

#[cfg(test)]
mod tests {
    use super::super::LogWriter;
    use super::*;
    use crate::engine::env::{Fs, MemFs};
    use std::path::Path;

    fn write_log(records: &[Vec<u8>]) -> Vec<u8> {
        let fs = MemFs::new();
        fs.create_dir_all(Path::new("/d")).unwrap();
        let path = Path::new("/d/000001.log");
        let mut writer = LogWriter::new(fs.create(path).unwrap());
        for r in records {
            writer.add_record(r).unwrap();
        }
        assert_eq!(writer.size(), fs.file_size(path).unwrap());
        fs.read_to_end(path).unwrap()
    }

    fn read_all(data: &[u8]) -> Result<(Vec<Vec<u8>>, ReadOutcome)> {
        let mut reader = LogReader::new(data, 1);
        let mut out = Vec::new();
        while let Some(r) = reader.next_record()? {
            out.push(r);
        }
        Ok((out, reader.outcome().unwrap()))
    }

    fn sample() -> Vec<Vec<u8>> {
        vec![b"small".to_vec(), vec![7u8; BLOCK_SIZE * 2 + 100], Vec::new(), b"after".to_vec()]
    }

    #[test]
    fn round_trip_with_fragmented_and_empty_records() {
        let records = sample();
        let data = write_log(&records);
        assert_eq!(read_all(&data).unwrap(), (records, ReadOutcome::Clean));
    }

    #[test]
    fn record_ending_exactly_at_block_edge_and_padding() {
        // The first record fills the block exactly; the second leaves 6 bytes (< header) to pad.
        let exact = vec![1u8; BLOCK_SIZE - HEADER_SIZE];
        let pad = vec![2u8; BLOCK_SIZE - 2 * HEADER_SIZE - 6];
        let records = vec![exact, b"x".to_vec(), pad, b"next block".to_vec()];
        let data = write_log(&records);
        assert_eq!(read_all(&data).unwrap().0, records);
        // Fragmenting right at the edge: a record needing one more byte than fits.
        let spill = vec![vec![3u8; BLOCK_SIZE - HEADER_SIZE + 1]];
        assert_eq!(read_all(&write_log(&spill)).unwrap().0, spill);
    }

    #[test]
    fn every_truncation_keeps_a_prefix() {
        let records = sample();
        let data = write_log(&records);
        for cut in 0..data.len() {
            let (got, outcome) = read_all(&data[..cut]).unwrap_or_else(|e| panic!("cut {cut}: {e}"));
            assert!(got.len() < records.len() || cut == data.len(), "cut {cut}");
            assert_eq!(&records[..got.len()], &got[..], "cut {cut} must yield a prefix");
            if cut > 0 && got.len() < records.len() {
                assert!(matches!(outcome, ReadOutcome::TornTail { .. } | ReadOutcome::Clean));
            }
        }
    }

    #[test]
    fn every_bit_flip_is_detected_or_is_the_tail() {
        let records = sample();
        let data = write_log(&records);
        for i in 0..data.len() {
            let mut bad = data.clone();
            bad[i] ^= 0x80;
            match read_all(&bad) {
                // Accepted only if what was returned is a true prefix (the flip hit the tail).
                Ok((got, _)) => assert_eq!(&records[..got.len()], &got[..], "flip at {i}"),
                Err(e) => assert!(e.is_corruption(), "flip at {i}: {e}"),
            }
        }
    }

    #[test]
    fn damage_before_the_tail_is_corruption() {
        let data = write_log(&[b"one".to_vec(), b"two".to_vec(), b"three".to_vec()]);
        let mut bad = data.clone();
        bad[HEADER_SIZE] ^= 1; // a payload byte of the first record
        assert!(read_all(&bad).unwrap_err().is_corruption());
        // The same damage in the last record is a torn tail.
        let mut tail = data.clone();
        let n = tail.len();
        tail[n - 1] ^= 1;
        let (got, outcome) = read_all(&tail).unwrap();
        assert_eq!(got, vec![b"one".to_vec(), b"two".to_vec()]);
        assert_eq!(outcome, ReadOutcome::TornTail { valid_len: (2 * HEADER_SIZE + 6) as u64 });
    }

    #[test]
    fn repair_mode_skips_a_damaged_block_and_keeps_the_rest() {
        let mut records = vec![b"one".to_vec()];
        records.push(vec![5u8; BLOCK_SIZE]); // spans into the second block
        records.push(b"later".to_vec());
        let data = write_log(&records);
        let mut bad = data.clone();
        bad[HEADER_SIZE] ^= 1; // damage the first record
        assert!(read_all(&bad).is_err());
        let mut reader = LogReader::skipping_damage(&bad, 1);
        let mut got = Vec::new();
        while let Some(r) = reader.next_record().unwrap() {
            got.push(r);
        }
        // The first block is lost (with the first fragment of the big record); "later" survives.
        assert_eq!(got, vec![b"later".to_vec()]);
        assert!(reader.dropped_bytes() >= BLOCK_SIZE as u64);
    }

    #[test]
    fn a_resumed_reader_returns_only_later_records() {
        let records = sample();
        let data = write_log(&records);
        let mut first = LogReader::new(&data, 1);
        first.next_record().unwrap();
        first.next_record().unwrap();
        let mut rest = LogReader::resume(&data, 1, first.position());
        let mut got = Vec::new();
        while let Some(r) = rest.next_record().unwrap() {
            got.push(r);
        }
        assert_eq!(got, records[2..].to_vec());
        assert_eq!(rest.position(), data.len() as u64);
        assert_eq!(LogReader::resume(&data, 1, data.len() as u64 + 9).next_record().unwrap(), None);
    }

    #[test]
    fn zero_filled_tail_is_ignored() {
        let mut data = write_log(&[b"one".to_vec()]);
        data.extend_from_slice(&[0u8; 100]);
        assert_eq!(read_all(&data).unwrap().0, vec![b"one".to_vec()]);
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for len in [0usize, 1, 6, 7, 8, 100, BLOCK_SIZE + 3] {
            let garbage: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    seed as u8
                })
                .collect();
            let _ = read_all(&garbage);
        }
    }
}
