//! Appends logical records to a log file in LevelDB's block format (see `format.rs`). Each
//! `add_record` hands all of a record's fragments to the OS in one `append`, and keeps nothing in a
//! user-space buffer afterwards: once it returns, a process kill cannot lose the record.

use std::sync::Arc;

use super::format::{RecordType, BLOCK_SIZE, HEADER_SIZE};
use crate::engine::crc;
use crate::engine::env::WritableFile;
use crate::engine::error::Result;

/// Writes records to one log file.
///
/// Not thread-safe by itself: the database serialises writers. `file()` may be synced from
/// another thread while records are appended.
pub struct LogWriter {
    file: Arc<dyn WritableFile>,
    block_offset: usize,
    size: u64,
    /// The file holds zeros (or records) up to here; see `prepare_for_sync`.
    zeroed_to: u64,
}

/// How far ahead of the records a log that is synced gets zero-filled, at a time.
const PREALLOCATE_STEP: u64 = 1 << 20;

impl LogWriter {
    /// A writer at the start of an empty file.
    pub fn new(file: Arc<dyn WritableFile>) -> LogWriter {
        LogWriter { file, block_offset: 0, size: 0, zeroed_to: 0 }
    }

    /// The file being written, for syncing outside the writer's lock.
    pub fn file(&self) -> &Arc<dyn WritableFile> {
        &self.file
    }

    /// Bytes appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Called before appending a record of `len` bytes that will be synced: makes sure the record
    /// lands in zero-filled space the file already has, so that its sync need not commit a new
    /// file size. Logs that are never synced are never preallocated (it would double their
    /// writes). Readers drop the zero tail this leaves, as LevelDB's do.
    pub fn prepare_for_sync(&mut self, len: usize) {
        // A generous bound on the record with its fragment headers and block padding.
        let needed = self.size + (len + HEADER_SIZE * (len / BLOCK_SIZE + 2) + HEADER_SIZE) as u64;
        if needed <= self.zeroed_to {
            return;
        }
        let from = self.zeroed_to.max(self.size);
        let to = needed + PREALLOCATE_STEP;
        // NOTE: failure is harmless: whatever zeros landed are a tail readers drop, and a real
        // disk fault surfaces on the append that follows.
        if self.file.preallocate(from, to - from).is_ok() {
            self.zeroed_to = to;
        }
    }

    /// Appends one logical record. On error the file's tail is indeterminate and the caller must
    /// stop writing to it.
    pub fn add_record(&mut self, data: &[u8]) -> Result<()> {
        let mut buf = Vec::with_capacity(data.len() + HEADER_SIZE * (data.len() / BLOCK_SIZE + 2));
        let mut block_offset = self.block_offset;
        let mut left = data;
        let mut first = true;
        loop {
            let leftover = BLOCK_SIZE - block_offset;
            if leftover < HEADER_SIZE {
                // Too little room for a header: pad the block with zeros, as LevelDB does.
                buf.resize(buf.len() + leftover, 0);
                block_offset = 0;
            }
            let avail = BLOCK_SIZE - block_offset - HEADER_SIZE;
            let (fragment, rest) = left.split_at(left.len().min(avail));
            let last = rest.is_empty();
            let kind = match (first, last) {
                (true, true) => RecordType::Full,
                (true, false) => RecordType::First,
                (false, true) => RecordType::Last,
                (false, false) => RecordType::Middle,
            };
            emit(&mut buf, kind, fragment);
            block_offset += HEADER_SIZE + fragment.len();
            left = rest;
            first = false;
            if last {
                break;
            }
        }
        self.file.append(&buf)?;
        self.block_offset = block_offset;
        self.size += buf.len() as u64;
        Ok(())
    }
}

fn emit(buf: &mut Vec<u8>, kind: RecordType, fragment: &[u8]) {
    let type_byte = kind as u8;
    let crc = crc::mask(crc::extend(crc::value(&[type_byte]), fragment));
    buf.extend_from_slice(&crc.to_le_bytes());
    // NOTE: a fragment is at most BLOCK_SIZE - HEADER_SIZE bytes, so it fits the u16 length.
    buf.extend_from_slice(&(fragment.len() as u16).to_le_bytes());
    buf.push(type_byte);
    buf.extend_from_slice(fragment);
}
