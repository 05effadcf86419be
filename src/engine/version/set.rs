//! The version set: the database's persistent counters (next file number, log number, last
//! sequence) and the tables live at each level, recovered from the MANIFEST that `CURRENT` names
//! and kept up to date by appending [`VersionEdit`]s to it.
//!
//! Crash safety: a new MANIFEST is written whole and synced before `CURRENT` is switched to it, and
//! `CURRENT` is replaced by writing a temporary file, syncing it, renaming it over the old one and
//! syncing the directory. A crash at any point leaves `CURRENT` naming a complete MANIFEST.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::edit::{FileMeta, VersionEdit, NUM_LEVELS};
use super::version::Version;
use crate::engine::env::{write_file_synced, Fs};
use crate::engine::error::{Error, Result};
use crate::engine::filename;
use crate::engine::key::{SequenceNumber, COMPARATOR_NAME};
use crate::engine::wal::{LogReader, LogWriter};

/// The recovered and current state of the MANIFEST.
pub struct VersionSet {
    fs: Arc<dyn Fs>,
    dir: PathBuf,
    /// The next number to give a file; shared, so that file numbers can be taken without the
    /// versions lock (which is held across MANIFEST syncs).
    next_file: Arc<AtomicU64>,
    /// Logs numbered below this hold nothing that is not in a table.
    pub log_number: u64,
    /// LevelDB's previous-log field; todb writes 0 and honours a non-zero value when recovering.
    pub prev_log_number: u64,
    /// The last sequence number recorded in the MANIFEST (logs may hold later ones).
    pub last_sequence: SequenceNumber,
    /// Live tables per level.
    pub levels: [Vec<Arc<FileMeta>>; NUM_LEVELS],
    /// Where the next compaction of each level resumes.
    pub compact_pointers: [Vec<u8>; NUM_LEVELS],
    manifest: Option<LogWriter>,
    manifest_number: u64,
}

impl VersionSet {
    /// Writes the MANIFEST and `CURRENT` of a new, empty database in `dir`.
    pub fn create_new(fs: &dyn Fs, dir: &Path) -> Result<()> {
        let edit = VersionEdit {
            comparator: Some(COMPARATOR_NAME.to_owned()),
            log_number: Some(0),
            next_file_number: Some(2),
            last_sequence: Some(0),
            ..VersionEdit::default()
        };
        let path = filename::descriptor_file(dir, 1);
        let mut writer = LogWriter::new(fs.create(&path)?);
        writer.add_record(&edit.encode())?;
        writer.file().sync()?;
        set_current_file(fs, dir, 1)
    }

    /// Reads `CURRENT` and the MANIFEST it names.
    pub fn recover(fs: Arc<dyn Fs>, dir: &Path) -> Result<VersionSet> {
        let current = fs.read_to_end(&filename::current_file(dir))?;
        let name = std::str::from_utf8(&current)
            .ok()
            .and_then(|s| s.strip_suffix('\n'))
            .filter(|s| !s.is_empty() && !s.contains('/'))
            .ok_or_else(|| Error::corruption("CURRENT file does not name a MANIFEST"))?;
        let manifest_number = match filename::parse_file_name(name) {
            Some((filename::FileKind::Descriptor, n)) => n,
            _ => return Err(Error::corruption(format!("CURRENT names {name:?}, not a MANIFEST"))),
        };
        let path = dir.join(name);
        if !fs.exists(&path) {
            return Err(Error::corruption(format!("CURRENT points to a missing MANIFEST {name}")));
        }
        let data = fs.read_to_end(&path)?;
        let mut set = VersionSet {
            fs,
            dir: dir.to_owned(),
            next_file: Arc::new(AtomicU64::new(0)),
            log_number: 0,
            prev_log_number: 0,
            last_sequence: 0,
            levels: Default::default(),
            compact_pointers: Default::default(),
            manifest: None,
            manifest_number,
        };
        let mut reader = LogReader::new(&data, manifest_number);
        let (mut have_next, mut have_log, mut have_seq) = (false, false, false);
        while let Some(record) = reader.next_record()? {
            let edit = VersionEdit::decode(&record)?;
            if let Some(name) = &edit.comparator {
                if name != COMPARATOR_NAME {
                    return Err(Error::InvalidArgument(format!(
                        "{name} does not match existing comparator {COMPARATOR_NAME}"
                    )));
                }
            }
            have_next |= edit.next_file_number.is_some();
            have_log |= edit.log_number.is_some();
            have_seq |= edit.last_sequence.is_some();
            set.apply(&edit)?;
        }
        if !(have_next && have_log && have_seq) {
            return Err(Error::corruption(format!("MANIFEST-{manifest_number:06} lacks required fields")));
        }
        set.mark_file_number_used(manifest_number);
        Ok(set)
    }

    fn apply(&mut self, edit: &VersionEdit) -> Result<()> {
        if let Some(n) = edit.log_number {
            self.log_number = n;
        }
        if let Some(n) = edit.prev_log_number {
            self.prev_log_number = n;
        }
        if let Some(n) = edit.next_file_number {
            self.next_file.fetch_max(n, Ordering::AcqRel);
        }
        if let Some(s) = edit.last_sequence {
            self.last_sequence = s;
        }
        for (level, key) in &edit.compact_pointers {
            self.compact_pointers[*level] = key.clone();
        }
        for (level, number) in &edit.deleted_files {
            self.levels[*level].retain(|f| f.number != *number);
        }
        for (level, meta) in &edit.new_files {
            self.levels[*level].push(Arc::new(meta.clone()));
        }
        Ok(())
    }

    /// The live tables as a [`Version`].
    pub fn current(&self) -> Arc<Version> {
        Arc::new(Version::new(self.levels.clone()))
    }

    /// Allocates a file number.
    pub fn new_file_number(&self) -> u64 {
        self.next_file.fetch_add(1, Ordering::AcqRel)
    }

    /// The next file number to be handed out.
    pub fn next_file_number(&self) -> u64 {
        self.next_file.load(Ordering::Acquire)
    }

    /// The shared allocator behind [`VersionSet::new_file_number`].
    pub fn file_numbers(&self) -> Arc<AtomicU64> {
        self.next_file.clone()
    }

    /// Makes sure `number` is never handed out again.
    pub fn mark_file_number_used(&mut self, number: u64) {
        self.next_file.fetch_max(number + 1, Ordering::AcqRel);
    }

    /// The MANIFEST being appended to.
    pub fn manifest_number(&self) -> u64 {
        self.manifest_number
    }

    /// Records `edit` durably in the MANIFEST, then applies it. The first call after recovery
    /// starts a new MANIFEST holding a snapshot of the whole state, and points `CURRENT` at it.
    pub fn log_and_apply(&mut self, mut edit: VersionEdit) -> Result<()> {
        if edit.next_file_number.is_none() {
            edit.next_file_number = Some(self.next_file_number());
        }
        if edit.last_sequence.is_none() {
            edit.last_sequence = Some(self.last_sequence);
        }
        let record = edit.encode();
        if let Some(writer) = self.manifest.as_mut() {
            // IMPORTANT: the files this edit names (new tables, a new log) must be durable in the
            // directory before the edit is, or a power loss could leave the MANIFEST naming files
            // that are gone. LevelDB does the same (SyncDirIfManifest).
            self.fs.sync_dir(&self.dir)?;
            writer.add_record(&record)?;
            writer.file().sync()?;
            return self.apply(&edit);
        }
        // NOTE: the new MANIFEST's number is reserved before the snapshot is encoded, so the
        // snapshot's next-file field already counts it.
        let number = self.new_file_number();
        let path = filename::descriptor_file(&self.dir, number);
        let mut writer = LogWriter::new(self.fs.create(&path)?);
        writer.add_record(&self.snapshot_edit().encode())?;
        writer.add_record(&record)?;
        writer.file().sync()?;
        set_current_file(self.fs.as_ref(), &self.dir, number)?;
        self.manifest = Some(writer);
        self.manifest_number = number;
        self.apply(&edit)
    }

    fn snapshot_edit(&self) -> VersionEdit {
        let mut edit = VersionEdit {
            comparator: Some(COMPARATOR_NAME.to_owned()),
            log_number: Some(self.log_number),
            prev_log_number: Some(self.prev_log_number),
            next_file_number: Some(self.next_file_number()),
            last_sequence: Some(self.last_sequence),
            ..VersionEdit::default()
        };
        for (level, key) in self.compact_pointers.iter().enumerate() {
            if !key.is_empty() {
                edit.compact_pointers.push((level, key.clone()));
            }
        }
        for (level, files) in self.levels.iter().enumerate() {
            edit.new_files.extend(files.iter().map(|f| (level, f.as_ref().clone())));
        }
        edit
    }
}

/// Points `CURRENT` at `MANIFEST-<number>` atomically.
pub fn set_current_file(fs: &dyn Fs, dir: &Path, number: u64) -> Result<()> {
    let tmp = filename::temp_file(dir, number);
    let contents = format!("MANIFEST-{number:06}\n");
    write_file_synced(fs, &tmp, contents.as_bytes())?;
    if let Err(e) = fs.rename(&tmp, &filename::current_file(dir)) {
        let _ = fs.remove_file(&tmp);
        return Err(e);
    }
    fs.sync_dir(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::env::MemFs;
    use crate::engine::key::{internal_key, ValueKind};

    #[test]
    fn create_recover_and_log_edits() {
        let fs: Arc<dyn Fs> = Arc::new(MemFs::new());
        let dir = Path::new("/db");
        fs.create_dir_all(dir).unwrap();
        VersionSet::create_new(fs.as_ref(), dir).unwrap();
        let mut set = VersionSet::recover(fs.clone(), dir).unwrap();
        assert_eq!((set.next_file_number(), set.log_number, set.last_sequence), (2, 0, 0));
        let log = set.new_file_number();
        set.last_sequence = 99;
        let meta = FileMeta {
            number: 5,
            size: 10,
            smallest: internal_key(b"a", 1, ValueKind::Value),
            largest: internal_key(b"b", 2, ValueKind::Value),
        };
        let edit = VersionEdit { log_number: Some(log), new_files: vec![(1, meta)], ..Default::default() };
        set.log_and_apply(edit).unwrap();
        let first_manifest = set.manifest_number();
        set.log_and_apply(VersionEdit { deleted_files: vec![], ..Default::default() }).unwrap();
        assert_eq!(set.manifest_number(), first_manifest, "appends to the open MANIFEST");

        let again = VersionSet::recover(fs.clone(), dir).unwrap();
        assert_eq!(again.log_number, log);
        assert_eq!(again.last_sequence, 99);
        assert_eq!(again.levels[1].len(), 1);
        assert!(again.next_file_number() > first_manifest);
    }

    #[test]
    fn bad_current_is_corruption() {
        let fs: Arc<dyn Fs> = Arc::new(MemFs::new());
        let dir = Path::new("/db");
        fs.create_dir_all(dir).unwrap();
        for contents in [&b""[..], b"MANIFEST-000009\n", b"garbage\n", b"MANIFEST-000001"] {
            write_file_synced(fs.as_ref(), &filename::current_file(dir), contents).unwrap();
            let err = VersionSet::recover(fs.clone(), dir).err().expect("must fail");
            assert!(err.is_corruption(), "{contents:?}: {err}");
        }
    }
}
