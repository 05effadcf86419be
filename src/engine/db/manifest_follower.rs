//! Follows a MANIFEST that another process is appending to, for a read-only open: the edits are
//! applied as they are read, and the next read resumes after the last complete record instead of
//! parsing the whole file again. A writer's MANIFEST grows by an edit per flush and compaction
//! for as long as it stays open, so re-reading it all made each catch-up slower than the
//! compactions it was racing; resuming makes a retry cost only what was appended meanwhile.
//!
//! Reads only; a torn last record (an append in progress) is left for the next read.

use std::path::Path;
use std::sync::Arc;

use crate::engine::env::Fs;
use crate::engine::error::{Error, Result};
use crate::engine::filename;
use crate::engine::key::{SequenceNumber, COMPARATOR_NAME};
use crate::engine::version::{FileMeta, Version, VersionEdit, NUM_LEVELS};
use crate::engine::wal::LogReader;

/// The state recorded in one MANIFEST, as far as it has been read.
#[derive(Default)]
pub struct ManifestFollower {
    /// The MANIFEST followed; 0 before the first read.
    number: u64,
    /// Bytes of it applied: the end of the last complete record.
    consumed: u64,
    /// Bytes it had when last read (a torn record beyond `consumed` included).
    seen: u64,
    levels: [Vec<Arc<FileMeta>>; NUM_LEVELS],
    /// Logs numbered below this hold nothing the tables lack.
    pub log_number: u64,
    /// LevelDB's previous-log field (0 when unused).
    pub prev_log_number: u64,
    /// The last sequence the MANIFEST records (the logs may hold later ones).
    pub last_sequence: SequenceNumber,
    required: [bool; 3],
}

impl ManifestFollower {
    /// The bytes the MANIFEST had when last read.
    pub fn seen(&self) -> u64 {
        self.seen
    }

    /// The tables listed, as of the last complete record read.
    pub fn version(&self) -> Arc<Version> {
        Arc::new(Version::new(self.levels.clone()))
    }

    /// Reads MANIFEST `number` of `dir` up to its last complete record, starting over if it is not
    /// the one followed so far. Fails like `VersionSet::recover` on damage or missing fields; an
    /// `Io` error of kind `NotFound` means it was deleted (a newer one replaced it).
    pub fn read(&mut self, fs: &dyn Fs, dir: &Path, number: u64) -> Result<()> {
        if number != self.number {
            *self = ManifestFollower { number, ..ManifestFollower::default() };
        }
        let data = fs.read_to_end(&filename::descriptor_file(dir, number))?;
        if (data.len() as u64) < self.consumed {
            // A MANIFEST only grows; this one cannot be the file that was being followed.
            *self = ManifestFollower::default();
            return Err(Error::corruption(format!("MANIFEST-{number:06} shrank while being read")));
        }
        self.seen = data.len() as u64;
        let mut reader = LogReader::resume(&data, number, self.consumed);
        while let Some(record) = reader.next_record()? {
            self.apply(&VersionEdit::decode(&record)?)?;
            self.consumed = reader.position();
        }
        if !self.required.iter().all(|&seen| seen) {
            return Err(Error::corruption(format!("MANIFEST-{number:06} lacks required fields")));
        }
        Ok(())
    }

    fn apply(&mut self, edit: &VersionEdit) -> Result<()> {
        if let Some(name) = &edit.comparator {
            if name != COMPARATOR_NAME {
                return Err(Error::InvalidArgument(format!(
                    "{name} does not match existing comparator {COMPARATOR_NAME}"
                )));
            }
        }
        if let Some(n) = edit.log_number {
            self.log_number = n;
            self.required[0] = true;
        }
        if let Some(n) = edit.prev_log_number {
            self.prev_log_number = n;
        }
        if let Some(s) = edit.last_sequence {
            self.last_sequence = s;
            self.required[1] = true;
        }
        self.required[2] |= edit.next_file_number.is_some();
        for (level, number) in &edit.deleted_files {
            if let Some(files) = self.levels.get_mut(*level) {
                files.retain(|f| f.number != *number);
            }
        }
        for (level, meta) in &edit.new_files {
            let files = self.levels.get_mut(*level).ok_or_else(|| Error::corruption("MANIFEST: bad level"))?;
            files.push(Arc::new(meta.clone()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::env::MemFs;
    use crate::engine::version::VersionSet;
    use crate::engine::{Db, Options, WriteOptions};

    #[test]
    fn following_in_steps_matches_reading_it_whole() {
        let fs = MemFs::new();
        let dir = Path::new("/db");
        let options = Options { write_buffer_size: 4 << 10, max_file_size: 4 << 10, ..Options::default() };
        let db = Db::open(Arc::new(fs.clone()), dir, options).unwrap();
        let mut follower = ManifestFollower::default();
        for round in 0..5u32 {
            for i in 0..400u32 {
                db.put(format!("{:05}", i * 7 % 1000).as_bytes(), &[round as u8; 60], WriteOptions::default()).unwrap();
            }
            let number = VersionSet::recover(Arc::new(fs.clone()), dir).unwrap().manifest_number();
            follower.read(&fs, dir, number).unwrap();
            let whole = VersionSet::recover(Arc::new(fs.clone()), dir).unwrap();
            let numbers = |levels: &[Vec<Arc<FileMeta>>]| -> Vec<Vec<u64>> {
                levels.iter().map(|l| l.iter().map(|f| f.number).collect()).collect()
            };
            // NOTE: the writer may append an edit after the follower's read; compare only when the
            // whole read saw the same bytes.
            if follower.seen() == fs.file_size(&filename::descriptor_file(dir, number)).unwrap() {
                assert_eq!(numbers(&follower.version().files), numbers(&whole.current().files), "round {round}");
                assert_eq!(follower.log_number, whole.log_number);
            }
        }
        let missing = follower.read(&fs, dir, 999_999).unwrap_err();
        assert!(
            matches!(&missing, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound),
            "{missing}"
        );
    }
}
