//! Opening a database directory: create it or check it, take its lock, read the MANIFEST, and
//! replay the write-ahead logs it does not cover into a fresh memtable.

use std::path::Path;
use std::sync::Arc;

use crate::engine::env::{FileLock, Fs};
use crate::engine::error::{Error, Result};
use crate::engine::filename::{self, FileKind};
use crate::engine::key::SequenceNumber;
use crate::engine::memtable::MemTable;
use crate::engine::options::Options;
use crate::engine::version::VersionSet;
use crate::engine::wal::{LogReader, ReadOutcome};
use crate::engine::write_batch::WriteBatch;

/// What recovery found.
pub(super) struct Recovered {
    pub lock: Box<dyn FileLock>,
    pub versions: VersionSet,
    pub mem: MemTable,
    pub last_sequence: SequenceNumber,
    /// The logs replayed, oldest first; their data is in `mem`.
    pub replayed_logs: Vec<u64>,
    /// Logs whose torn tail was dropped.
    pub torn_logs: Vec<u64>,
}

/// Takes the directory's lock and recovers its state.
pub(super) fn recover(fs: &Arc<dyn Fs>, dir: &Path, options: &Options) -> Result<Recovered> {
    if !fs.exists(dir) {
        if !options.create_if_missing {
            return Err(Error::InvalidArgument(format!(
                "{}: does not exist (create_if_missing is false)",
                dir.display()
            )));
        }
        fs.create_dir_all(dir)?;
    }
    let lock = fs.lock(&filename::lock_file(dir))?;
    if !fs.exists(&filename::current_file(dir)) {
        if !options.create_if_missing {
            return Err(Error::InvalidArgument(format!(
                "{}: does not exist (create_if_missing is false)",
                dir.display()
            )));
        }
        VersionSet::create_new(fs.as_ref(), dir)?;
    } else if options.error_if_exists {
        return Err(Error::InvalidArgument(format!("{}: exists (error_if_exists is true)", dir.display())));
    }

    let mut versions = VersionSet::recover(fs.clone(), dir)?;
    let mut logs: Vec<u64> = fs
        .children(dir)?
        .iter()
        .filter_map(|name| filename::parse_file_name(name))
        .filter(|&(kind, n)| kind == FileKind::Log && (n >= versions.log_number || n == versions.prev_log_number))
        .map(|(_, n)| n)
        .collect();
    logs.sort_unstable();

    let mem = MemTable::new();
    let mut last_sequence = versions.last_sequence;
    let mut torn_logs = Vec::new();
    for &number in &logs {
        versions.mark_file_number_used(number);
        let data = fs.read_to_end(&filename::log_file(dir, number))?;
        let mut reader = LogReader::new(&data, number);
        while let Some(record) = reader.next_record()? {
            let batch =
                WriteBatch::from_bytes(record).map_err(|e| Error::corruption(format!("log {number:06}.log: {e}")))?;
            mem.insert_batch(&batch)?;
            let last = batch.sequence() + u64::from(batch.count()).saturating_sub(1);
            last_sequence = last_sequence.max(last);
        }
        if let Some(ReadOutcome::TornTail { .. }) = reader.outcome() {
            torn_logs.push(number);
        }
    }
    Ok(Recovered { lock, versions, mem, last_sequence, replayed_logs: logs, torn_logs })
}
