//! Reading a writer's state from its files without disturbing it: what a read-only open does at
//! open and at every refresh. `CURRENT` names the MANIFEST, the MANIFEST lists the tables, and the
//! logs it does not cover yet are read whole into memory and replayed into a fresh memtable.
//! Nothing here creates, writes, renames or deletes a file.
//!
//! The writer (another process, usually) keeps going while this reads, so any step can find its
//! file half-written or gone:
//! - a MANIFEST or log being appended ends in a torn record: the log reader stops at the last
//!   complete record, so a batch is applied only from a whole, checksummed record;
//! - `CURRENT` may name a newer MANIFEST by the time it is read, and a table, log or MANIFEST may
//!   be deleted (by a compaction, a flush, a reopen) before it is opened: the attempt is abandoned
//!   and [`catch_up`] tries again, a bounded number of times. The MANIFEST read so far is kept
//!   (`manifest_follower.rs`), so the next attempt reads only the edits appended meanwhile, among
//!   them the one that replaced the missing table, and opens only the tables they add.
//!
//! Why the logs make a prefix of the writer's batches: they are listed after the MANIFEST is read,
//! so every log holding writes that the MANIFEST's tables lack is listed, unless it was deleted in
//! between; and they are read newest first, so a record read from a newer log was written before
//! the older logs were read, and everything written before it is in them. A log deleted in
//! between shows as a missing first log or as a gap in the batches' sequence numbers (which the
//! writer assigns consecutively across logs); either one counts as a race only if the MANIFEST
//! moved meanwhile, so that a database that simply lacks a log still opens. (Within one writer's
//! life each flush retires one log, so logs go in order; a writer reopening deletes many at once,
//! and starts a new MANIFEST, which the last check of an attempt looks for.)

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::manifest_follower::ManifestFollower;
use super::ReadView;
use crate::engine::env::Fs;
use crate::engine::error::{Error, Result};
use crate::engine::filename::{self, FileKind};
use crate::engine::key::SequenceNumber;
use crate::engine::memtable::MemTable;
use crate::engine::sstable::Table;
use crate::engine::table_cache::TableCache;
use crate::engine::wal::{LogReader, ReadOutcome};
use crate::engine::write_batch::WriteBatch;

/// Attempts before a catch-up gives up on a writer that keeps replacing the files it reads.
/// Each race needs a flush or compaction to finish within one attempt, and a retry costs only
/// what changed since the last, so a long run of them means the files are not coming back.
pub const MAX_ATTEMPTS: u32 = 20;

/// The state read from the files at one moment, held for readers.
pub struct View {
    /// The tables, and a memtable of the logs they do not cover; never an immutable memtable.
    pub read: Arc<ReadView>,
    /// The last sequence the view holds: it holds every batch up to here and none after.
    pub seq: SequenceNumber,
    /// Every table `read.version` lists, open, so its data stays readable after the writer
    /// deletes the file.
    pub tables: Vec<Arc<Table>>,
}

impl View {
    /// A view of nothing (what a closed read-only open holds).
    pub fn empty() -> View {
        View {
            read: Arc::new(ReadView { mem: Arc::new(MemTable::new()), imm: None, version: Arc::default() }),
            seq: 0,
            tables: Vec::new(),
        }
    }
}

/// What a catch-up did, for tests and statistics.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CatchUp {
    /// Attempts made, the successful one included (1 when nothing raced).
    pub attempts: u32,
    /// The last sequence now visible.
    pub sequence: SequenceNumber,
    /// The MANIFEST read.
    pub manifest: u64,
    /// Tables in the view.
    pub tables: usize,
    /// Logs replayed into the memtable, oldest first.
    pub logs: Vec<u64>,
    /// Logs whose tail was a torn (still being written) record, dropped.
    pub torn_logs: Vec<u64>,
}

enum Failure {
    /// The writer changed the files under this attempt: try again.
    Raced(Error),
    /// Retrying cannot help.
    Fatal(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        match &e {
            // NOTE: a file named a moment ago and gone now was deleted by the writer.
            Error::Io { source, .. } if source.kind() == io::ErrorKind::NotFound => Failure::Raced(e),
            // A record read while the writer overwrote preallocated zeros can look damaged;
            // damage that is real is still there on every attempt, and reported after the last.
            Error::Corruption(_) => Failure::Raced(e),
            _ => Failure::Fatal(e),
        }
    }
}

/// Reads the state of the database in `dir`, opening (and pinning) its tables through `tables`,
/// going on from what `manifest` has read before. Tries again while the writer races it, up to
/// [`MAX_ATTEMPTS`]; then fails with the last corruption found, or with an `Io` error saying it
/// gave up.
pub fn catch_up(
    fs: &Arc<dyn Fs>,
    dir: &Path,
    tables: &TableCache,
    manifest: &mut ManifestFollower,
) -> Result<(View, CatchUp)> {
    let mut last = None;
    for attempt in 1..=MAX_ATTEMPTS {
        match read_state(fs.as_ref(), dir, tables, manifest) {
            Ok((view, mut report)) => {
                report.attempts = attempt;
                return Ok((view, report));
            }
            Err(Failure::Fatal(e)) => return Err(e),
            Err(Failure::Raced(e)) => {
                last = Some(e);
                // Try again at once, since the edit that explains the race is usually there
                // already; after a few, give the writer's job time to finish what it is doing.
                if attempt < 4 {
                    std::thread::yield_now();
                } else {
                    std::thread::sleep(Duration::from_millis(u64::from(attempt.min(10))));
                }
            }
        }
    }
    Err(match last {
        Some(e @ Error::Corruption(_)) => e,
        last => Error::io(
            "catch up with",
            dir,
            io::Error::other(format!(
                "gave up after {MAX_ATTEMPTS} attempts: the writer kept replacing the files being read (last: {})",
                last.map_or_else(String::new, |e| e.to_string())
            )),
        ),
    })
}

/// The MANIFEST that `CURRENT` names.
fn current_manifest(fs: &dyn Fs, dir: &Path) -> Result<u64> {
    let current = fs.read_to_end(&filename::current_file(dir))?;
    std::str::from_utf8(&current)
        .ok()
        .and_then(|s| s.strip_suffix('\n'))
        .and_then(filename::parse_file_name)
        .and_then(|(kind, n)| (kind == FileKind::Descriptor).then_some(n))
        .ok_or_else(|| Error::corruption("CURRENT file does not name a MANIFEST"))
}

/// True when `CURRENT` no longer names MANIFEST `number`, or that MANIFEST is no longer `size`
/// bytes long: an edit was recorded since it was measured.
fn manifest_moved(fs: &dyn Fs, dir: &Path, number: u64, size: u64) -> bool {
    let same_name = current_manifest(fs, dir).is_ok_and(|n| n == number);
    !same_name || fs.file_size(&filename::descriptor_file(dir, number)).map_or(true, |now| now != size)
}

fn raced(dir: &Path, reason: String) -> Failure {
    Failure::Raced(Error::io("catch up with", dir, io::Error::new(io::ErrorKind::NotFound, reason)))
}

/// One attempt: the MANIFEST, then its tables, then the logs (see the module doc for the order).
fn read_state(
    fs: &dyn Fs,
    dir: &Path,
    tables: &TableCache,
    manifest: &mut ManifestFollower,
) -> std::result::Result<(View, CatchUp), Failure> {
    let named = current_manifest(fs, dir)?;
    manifest.read(fs, dir, named)?;
    let version = manifest.version();
    let pinned = tables.pin(version.files.iter().flatten().map(|f| f.number))?;

    let (log_number, prev_log) = (manifest.log_number, manifest.prev_log_number);
    let mut logs: Vec<u64> = fs
        .children(dir)?
        .iter()
        .filter_map(|name| filename::parse_file_name(name))
        .filter(|&(kind, n)| kind == FileKind::Log && (n >= log_number || (n == prev_log && n != 0)))
        .map(|(_, n)| n)
        .collect();
    logs.sort_unstable();
    let mut contents = Vec::with_capacity(logs.len());
    for &number in logs.iter().rev() {
        contents.push(fs.read_to_end(&filename::log_file(dir, number))?);
    }
    contents.reverse();

    let mem = MemTable::new();
    let mut seq = manifest.last_sequence;
    let mut torn_logs = Vec::new();
    let mut previous: Option<SequenceNumber> = None;
    let mut gap = None;
    for (&number, data) in logs.iter().zip(&contents) {
        let mut reader = LogReader::new(data, number);
        while let Some(record) = reader.next_record()? {
            let batch =
                WriteBatch::from_bytes(record).map_err(|e| Error::corruption(format!("log {number:06}.log: {e}")))?;
            let last = batch.sequence() + u64::from(batch.count()).saturating_sub(1);
            if previous.is_some_and(|p| p + 1 != batch.sequence()) && gap.is_none() {
                gap = Some(number);
            }
            previous = Some(last);
            mem.insert_batch(&batch)?;
            seq = seq.max(last);
        }
        if let Some(ReadOutcome::TornTail { .. }) = reader.outcome() {
            torn_logs.push(number);
        }
    }
    let first_missing = log_number != 0 && !logs.contains(&log_number);
    if (first_missing || gap.is_some()) && manifest_moved(fs, dir, named, manifest.seen()) {
        let reason = match gap {
            Some(n) => format!("batches before log {n:06}.log went missing"),
            None => format!("log {log_number:06}.log went missing"),
        };
        return Err(raced(dir, reason));
    }
    // A writer reopening meanwhile deletes all the older logs at once, in no particular order,
    // which the checks above cannot always see; it always starts a new MANIFEST.
    if current_manifest(fs, dir)? != named {
        return Err(raced(dir, format!("CURRENT moved from MANIFEST-{named:06}")));
    }

    let report = CatchUp { attempts: 0, sequence: seq, manifest: named, tables: pinned.len(), logs, torn_logs };
    let read = Arc::new(ReadView { mem: Arc::new(mem), imm: None, version });
    Ok((View { read, seq, tables: pinned }, report))
}
