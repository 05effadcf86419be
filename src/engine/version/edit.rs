//! A version edit: one record of the MANIFEST, describing how the set of live files changed. The
//! encoding is LevelDB's (`db/version_edit.cc`), a sequence of tagged fields:
//!
//! ```text
//! 1 comparator:    varstring                 5 compact pointer: varint32 level, varstring ikey
//! 2 log number:    varint64                  6 deleted file:    varint32 level, varint64 number
//! 3 next file:     varint64                  7 new file:        varint32 level, varint64 number,
//! 4 last sequence: varint64                                     varint64 size, varstring smallest,
//! 9 prev log:      varint64                                     varstring largest
//! ```
//!
//! Tag 8 (large value refs) was retired by LevelDB and is refused. See docs/format.md, "MANIFEST".

use crate::engine::coding::{
    decode_length_prefixed, decode_varint32, decode_varint64, put_length_prefixed, put_varint32, put_varint64,
};
use crate::engine::error::{Error, Result};
use crate::engine::key::SequenceNumber;

/// The number of levels, as in LevelDB.
pub const NUM_LEVELS: usize = 7;

const TAG_COMPARATOR: u32 = 1;
const TAG_LOG_NUMBER: u32 = 2;
const TAG_NEXT_FILE: u32 = 3;
const TAG_LAST_SEQUENCE: u32 = 4;
const TAG_COMPACT_POINTER: u32 = 5;
const TAG_DELETED_FILE: u32 = 6;
const TAG_NEW_FILE: u32 = 7;
const TAG_PREV_LOG_NUMBER: u32 = 9;

/// What the MANIFEST records about one table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileMeta {
    /// The file number (`NNNNNN.ldb`).
    pub number: u64,
    /// Size in bytes.
    pub size: u64,
    /// The smallest internal key in the table.
    pub smallest: Vec<u8>,
    /// The largest internal key in the table.
    pub largest: Vec<u8>,
}

/// A change to the database's file set and counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VersionEdit {
    /// The comparator's name, recorded once per MANIFEST.
    pub comparator: Option<String>,
    /// Logs numbered below this are no longer needed.
    pub log_number: Option<u64>,
    /// The log that was live before `log_number` (LevelDB's compatibility field).
    pub prev_log_number: Option<u64>,
    /// The next file number to allocate.
    pub next_file_number: Option<u64>,
    /// The last sequence number used.
    pub last_sequence: Option<SequenceNumber>,
    /// Where the next compaction of a level resumes.
    pub compact_pointers: Vec<(usize, Vec<u8>)>,
    /// Tables removed: `(level, number)`.
    pub deleted_files: Vec<(usize, u64)>,
    /// Tables added: `(level, meta)`.
    pub new_files: Vec<(usize, FileMeta)>,
}

fn corrupt(what: &str) -> Error {
    Error::corruption(format!("MANIFEST: bad {what}"))
}

fn read_level(src: &[u8], pos: &mut usize) -> Result<usize> {
    let (level, n) = src.get(*pos..).and_then(decode_varint32).ok_or_else(|| corrupt("level"))?;
    *pos += n;
    let level = level as usize;
    if level >= NUM_LEVELS {
        return Err(corrupt("level"));
    }
    Ok(level)
}

fn read_u64(src: &[u8], pos: &mut usize, what: &str) -> Result<u64> {
    let (v, n) = src.get(*pos..).and_then(decode_varint64).ok_or_else(|| corrupt(what))?;
    *pos += n;
    Ok(v)
}

fn read_bytes(src: &[u8], pos: &mut usize, what: &str) -> Result<Vec<u8>> {
    let (bytes, n) = src.get(*pos..).and_then(decode_length_prefixed).ok_or_else(|| corrupt(what))?;
    *pos += n;
    Ok(bytes.to_vec())
}

impl VersionEdit {
    /// Appends the encoding of this edit to `dst`.
    pub fn encode_to(&self, dst: &mut Vec<u8>) {
        if let Some(name) = &self.comparator {
            put_varint32(dst, TAG_COMPARATOR);
            put_length_prefixed(dst, name.as_bytes());
        }
        for (tag, value) in [
            (TAG_LOG_NUMBER, self.log_number),
            (TAG_PREV_LOG_NUMBER, self.prev_log_number),
            (TAG_NEXT_FILE, self.next_file_number),
            (TAG_LAST_SEQUENCE, self.last_sequence),
        ] {
            if let Some(v) = value {
                put_varint32(dst, tag);
                put_varint64(dst, v);
            }
        }
        for (level, key) in &self.compact_pointers {
            put_varint32(dst, TAG_COMPACT_POINTER);
            put_varint32(dst, *level as u32);
            put_length_prefixed(dst, key);
        }
        for (level, number) in &self.deleted_files {
            put_varint32(dst, TAG_DELETED_FILE);
            put_varint32(dst, *level as u32);
            put_varint64(dst, *number);
        }
        for (level, f) in &self.new_files {
            put_varint32(dst, TAG_NEW_FILE);
            put_varint32(dst, *level as u32);
            put_varint64(dst, f.number);
            put_varint64(dst, f.size);
            put_length_prefixed(dst, &f.smallest);
            put_length_prefixed(dst, &f.largest);
        }
    }

    /// The encoding of this edit.
    pub fn encode(&self) -> Vec<u8> {
        let mut dst = Vec::new();
        self.encode_to(&mut dst);
        dst
    }

    /// Decodes one MANIFEST record. Unknown tags and truncated fields are corruption.
    pub fn decode(src: &[u8]) -> Result<VersionEdit> {
        let mut edit = VersionEdit::default();
        let mut pos = 0;
        while pos < src.len() {
            let (tag, n) = src.get(pos..).and_then(decode_varint32).ok_or_else(|| corrupt("tag"))?;
            pos += n;
            match tag {
                TAG_COMPARATOR => {
                    let name = read_bytes(src, &mut pos, "comparator name")?;
                    edit.comparator = Some(String::from_utf8(name).map_err(|_| corrupt("comparator name"))?);
                }
                TAG_LOG_NUMBER => edit.log_number = Some(read_u64(src, &mut pos, "log number")?),
                TAG_PREV_LOG_NUMBER => edit.prev_log_number = Some(read_u64(src, &mut pos, "previous log number")?),
                TAG_NEXT_FILE => edit.next_file_number = Some(read_u64(src, &mut pos, "next file number")?),
                TAG_LAST_SEQUENCE => edit.last_sequence = Some(read_u64(src, &mut pos, "last sequence")?),
                TAG_COMPACT_POINTER => {
                    let level = read_level(src, &mut pos)?;
                    let key = read_bytes(src, &mut pos, "compaction pointer")?;
                    edit.compact_pointers.push((level, key));
                }
                TAG_DELETED_FILE => {
                    let level = read_level(src, &mut pos)?;
                    let number = read_u64(src, &mut pos, "deleted file")?;
                    edit.deleted_files.push((level, number));
                }
                TAG_NEW_FILE => {
                    let level = read_level(src, &mut pos)?;
                    let number = read_u64(src, &mut pos, "new file number")?;
                    let size = read_u64(src, &mut pos, "new file size")?;
                    let smallest = read_bytes(src, &mut pos, "new file smallest key")?;
                    let largest = read_bytes(src, &mut pos, "new file largest key")?;
                    edit.new_files.push((level, FileMeta { number, size, smallest, largest }));
                }
                _ => return Err(corrupt("tag")),
            }
        }
        Ok(edit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::key::{internal_key, ValueKind};

    fn sample() -> VersionEdit {
        VersionEdit {
            comparator: Some("leveldb.BytewiseComparator".into()),
            log_number: Some(7),
            prev_log_number: Some(0),
            next_file_number: Some(12),
            last_sequence: Some(1 << 40),
            compact_pointers: vec![(1, internal_key(b"m", 3, ValueKind::Value))],
            deleted_files: vec![(0, 4), (2, 9)],
            new_files: vec![(
                1,
                FileMeta {
                    number: 10,
                    size: 4096,
                    smallest: internal_key(b"a", 1, ValueKind::Value),
                    largest: internal_key(b"z", 2, ValueKind::Deletion),
                },
            )],
        }
    }

    #[test]
    fn round_trip() {
        let edit = sample();
        assert_eq!(VersionEdit::decode(&edit.encode()).unwrap(), edit);
        assert_eq!(VersionEdit::decode(&[]).unwrap(), VersionEdit::default());
    }

    #[test]
    fn truncations_and_bad_tags_are_corruption() {
        let data = sample().encode();
        // A cut can land on a field boundary and decode to a shorter valid edit; it must then
        // equal what a prefix of the fields gives, never invent values.
        for cut in 0..data.len() {
            if let Ok(edit) = VersionEdit::decode(&data[..cut]) {
                assert!(edit.new_files.len() <= 1 && edit.encode() == data[..cut], "cut {cut}");
            }
        }
        assert!(VersionEdit::decode(&[8, 0]).is_err(), "retired tag 8");
        assert!(VersionEdit::decode(&[TAG_DELETED_FILE as u8, 7, 1]).is_err(), "level out of range");
    }
}
