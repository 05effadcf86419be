//! Deleting a database and repairing a damaged one, the statics `Todb.destroy()` and
//! `Todb.repair()`. Both take the directory's lock, so neither runs while the database is open.

use std::path::Path;
use std::sync::Arc;

use crate::engine::env::Fs;
use crate::engine::error::Result;
use crate::engine::filename::{self, FileKind};
use crate::engine::key::COMPARATOR_NAME;
use crate::engine::version::set::set_current_file;
use crate::engine::version::VersionEdit;
use crate::engine::wal::{LogReader, LogWriter};
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

/// Rebuilds the MANIFEST from what can be read: every batch that survives in the logs (damaged
/// regions are skipped, as LevelDB's repair does) is rewritten into one fresh log, and a new
/// MANIFEST pointing at it replaces the old. Returns the number of batches recovered.
pub fn repair(fs: &Arc<dyn Fs>, dir: &Path) -> Result<u64> {
    if !fs.exists(dir) {
        return Ok(0);
    }
    let _lock = fs.lock(&filename::lock_file(dir))?;
    let mut logs = Vec::new();
    let mut max_number = 1;
    for name in fs.children(dir)? {
        if let Some((kind, n)) = filename::parse_file_name(&name) {
            max_number = max_number.max(n);
            if kind == FileKind::Log {
                logs.push(n);
            }
        }
    }
    logs.sort_unstable();
    let log_number = max_number + 1;
    let manifest_number = max_number + 2;
    let writer_file = fs.create(&filename::log_file(dir, log_number))?;
    let mut writer = LogWriter::new(writer_file);
    let mut last_sequence = 0;
    let mut recovered = 0;
    for &number in &logs {
        let Ok(data) = fs.read_to_end(&filename::log_file(dir, number)) else { continue };
        let mut reader = LogReader::skipping_damage(&data, number);
        while let Ok(Some(record)) = reader.next_record() {
            let Ok(batch) = WriteBatch::from_bytes(record) else { continue };
            last_sequence = u64::max(last_sequence, batch.sequence() + u64::from(batch.count()));
            writer.add_record(batch.data())?;
            recovered += 1;
        }
    }
    writer.file().sync()?;
    let edit = VersionEdit {
        comparator: Some(COMPARATOR_NAME.to_owned()),
        log_number: Some(log_number),
        prev_log_number: Some(0),
        next_file_number: Some(manifest_number + 1),
        last_sequence: Some(last_sequence),
        ..VersionEdit::default()
    };
    let mut manifest = LogWriter::new(fs.create(&filename::descriptor_file(dir, manifest_number))?);
    manifest.add_record(&edit.encode())?;
    manifest.file().sync()?;
    set_current_file(fs.as_ref(), dir, manifest_number)?;
    for name in fs.children(dir)? {
        match filename::parse_file_name(&name) {
            Some((FileKind::Log, n)) if n != log_number => {
                let _ = fs.remove_file(&dir.join(&name));
            }
            Some((FileKind::Descriptor, n)) if n != manifest_number => {
                let _ = fs.remove_file(&dir.join(&name));
            }
            _ => {}
        }
    }
    Ok(recovered)
}
