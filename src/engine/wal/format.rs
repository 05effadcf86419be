//! The write-ahead log's physical format, LevelDB's `doc/log_format.md`: the file is a sequence
//! of 32 KiB blocks; each record is `checksum: u32 (masked crc32c of type and data) | length: u16 |
//! type: u8 | data`, all little-endian. A record never straddles a block: a logical record that does
//! not fit is split into FIRST, MIDDLE... LAST fragments, and a block tail shorter than a header is
//! zero-filled. See docs/format.md, "Write-ahead log".

/// Bytes per block.
pub const BLOCK_SIZE: usize = 32 * 1024;

/// checksum (4 bytes) + length (2 bytes) + type (1 byte).
pub const HEADER_SIZE: usize = 4 + 2 + 1;

/// A fragment's place in its logical record. The values are on disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordType {
    /// Zero-filled space: preallocated or the padding at a block's end.
    Zero = 0,
    /// A whole logical record.
    Full = 1,
    /// The first fragment.
    First = 2,
    /// An inner fragment.
    Middle = 3,
    /// The final fragment.
    Last = 4,
}

impl RecordType {
    /// Decodes a type byte.
    pub fn from_byte(b: u8) -> Option<RecordType> {
        match b {
            0 => Some(RecordType::Zero),
            1 => Some(RecordType::Full),
            2 => Some(RecordType::First),
            3 => Some(RecordType::Middle),
            4 => Some(RecordType::Last),
            _ => None,
        }
    }
}
