//! Deleting a database and repairing a damaged one, the statics `Todb.destroy()` and
//! `Todb.repair()`. Both take the directory's lock, so neither runs while the database is open.

use std::path::Path;
use std::sync::Arc;

use super::table_writer;
use crate::engine::env::Fs;
use crate::engine::error::Result;
use crate::engine::filename::{self, FileKind};
use crate::engine::iter::InternalIterator;
use crate::engine::key::{self, COMPARATOR_NAME};
use crate::engine::memtable::MemTable;
use crate::engine::options::Options;
use crate::engine::sstable::Table;
use crate::engine::version::set::set_current_file;
use crate::engine::version::{FileMeta, VersionEdit};
use crate::engine::wal::LogReader;
use crate::engine::write_batch::WriteBatch;

/// Deletes every database file in `dir`, then `dir` itself if nothing else is left in it.
/// A missing directory is not an error. Fails with `Error::Locked` while the database is open.
pub fn destroy(fs: &Arc<dyn Fs>, dir: &Path) -> Result<()> {
    if !fs.exists(dir) {
        return Ok(());
    }
    let lock_path = filename::lock_file(dir);
    let lock = fs.lock(&lock_path)?;
    let mut first_error = None;
    for name in fs.children(dir)? {
        match filename::parse_file_name(&name) {
            Some((FileKind::Lock, _)) | None => {}
            Some(_) => {
                if let Err(e) = fs.remove_file(&dir.join(&name)) {
                    first_error.get_or_insert(e);
                }
            }
        }
    }
    drop(lock);
    let _ = fs.remove_file(&lock_path);
    // Other people's files may remain; then the directory stays, as LevelDB leaves it.
    let _ = fs.remove_dir(dir);
    first_error.map_or(Ok(()), Err)
}

/// Scans a table whole: its key range and newest sequence, or `None` when any of it is unreadable
/// (such a table is left out, as LevelDB's repair leaves out what it cannot read).
fn scan_table(fs: &dyn Fs, dir: &Path, name: &str, number: u64) -> Option<(FileMeta, u64)> {
    let path = dir.join(name);
    let file = fs.open_random(&path).ok()?;
    let size = file.size();
    let table = Table::open(file, number, None, true).ok()?;
    let mut it = table.iter(false);
    it.seek_to_first();
    let mut meta = FileMeta { number, size, smallest: Vec::new(), largest: Vec::new() };
    let mut max_seq = 0;
    while it.valid() {
        let parsed = key::parse_internal_key(it.key())?;
        max_seq = max_seq.max(parsed.seq);
        if meta.smallest.is_empty() {
            meta.smallest = it.key().to_vec();
        }
        meta.largest = it.key().to_vec();
        it.next();
    }
    it.status().ok()?;
    (!meta.smallest.is_empty()).then_some((meta, max_seq))
}

/// Rebuilds the MANIFEST from what can be read, as LevelDB's `RepairDB` does: the batches that
/// survive in the logs (damaged regions are skipped) are written to a new table, every readable
/// table is listed at level 0, and a new MANIFEST naming them replaces the old. Returns the number
/// of tables listed.
pub fn repair(fs: &Arc<dyn Fs>, dir: &Path) -> Result<u64> {
    if !fs.exists(dir) {
        return Ok(0);
    }
    let _lock = fs.lock(&filename::lock_file(dir))?;
    let (mut logs, mut tables) = (Vec::new(), Vec::new());
    let mut max_number = 1;
    for name in fs.children(dir)? {
        if let Some((kind, n)) = filename::parse_file_name(&name) {
            max_number = max_number.max(n);
            match kind {
                FileKind::Log => logs.push(n),
                FileKind::Table => tables.push((n, name)),
                _ => {}
            }
        }
    }
    logs.sort_unstable();
    let mut next_number = max_number + 1;
    let mut last_sequence = 0;
    let mut edit = VersionEdit::default();

    let mem = Arc::new(MemTable::new());
    for &number in &logs {
        let Ok(data) = fs.read_to_end(&filename::log_file(dir, number)) else { continue };
        let mut reader = LogReader::skipping_damage(&data, number);
        while let Ok(Some(record)) = reader.next_record() {
            let Ok(batch) = WriteBatch::from_bytes(record) else { continue };
            last_sequence = u64::max(last_sequence, batch.sequence() + u64::from(batch.count()).saturating_sub(1));
            mem.insert_batch(&batch)?;
        }
    }
    if !mem.is_empty() {
        let number = next_number;
        next_number += 1;
        if let Some(meta) = table_writer::write_table(fs.as_ref(), dir, number, &Options::default(), &mut mem.iter())? {
            edit.new_files.push((0, meta));
        }
    }
    for (number, name) in &tables {
        if let Some((meta, max_seq)) = scan_table(fs.as_ref(), dir, name, *number) {
            last_sequence = last_sequence.max(max_seq);
            edit.new_files.push((0, meta));
        }
    }
    let listed = edit.new_files.len() as u64;
    let manifest_number = next_number;
    edit.comparator = Some(COMPARATOR_NAME.to_owned());
    edit.log_number = Some(0);
    edit.prev_log_number = Some(0);
    edit.next_file_number = Some(manifest_number + 1);
    edit.last_sequence = Some(last_sequence);
    let mut manifest = crate::engine::wal::LogWriter::new(fs.create(&filename::descriptor_file(dir, manifest_number))?);
    manifest.add_record(&edit.encode())?;
    manifest.file().sync()?;
    set_current_file(fs.as_ref(), dir, manifest_number)?;
    for name in fs.children(dir)? {
        match filename::parse_file_name(&name) {
            Some((FileKind::Log, _)) => {
                let _ = fs.remove_file(&dir.join(&name));
            }
            Some((FileKind::Descriptor, n)) if n != manifest_number => {
                let _ = fs.remove_file(&dir.join(&name));
            }
            _ => {}
        }
    }
    Ok(listed)
}
