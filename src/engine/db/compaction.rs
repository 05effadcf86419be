//! Leveled compaction, as LevelDB does it: level 0 is compacted when it holds
//! [`L0_COMPACTION_TRIGGER`] tables, each deeper level when its bytes exceed its budget (10 MiB for
//! level 1, ten times more per level). A compaction merges its input tables with the overlapping
//! tables of the next level and writes the result there, dropping versions that no snapshot can see
//! and deletion markers that no deeper level needs.
//!
//! Output tables are cut at `max_file_size`, but only between user keys, so the versions of one
//! key never straddle two tables of a level and each level stays a non-overlapping sorted run.
//! A large job is merged in several key ranges at once (see `subcompaction`); [`merge`] is the
//! merge of one range.

use std::sync::{Arc, Mutex};

use super::subcompaction::{self, KeyRange};
use super::table_writer::OpenTable;
use super::{lock, Inner, ReadView};
use crate::engine::error::{Error, Result};
use crate::engine::iter::{InternalIterator, LevelIterator, MergingIterator};
use crate::engine::key::{self, ValueKind, MAX_SEQUENCE};
use crate::engine::version::{FileMeta, Version, VersionEdit, NUM_LEVELS};

/// Level-0 table count that triggers a compaction.
pub const L0_COMPACTION_TRIGGER: usize = 4;

/// Byte budget of `level` (1 and deeper).
pub fn max_bytes_for_level(level: usize) -> u64 {
    let mut bytes = 10u64 << 20;
    for _ in 1..level {
        bytes *= 10;
    }
    bytes
}

/// A compaction's inputs: tables of `level` and the overlapping tables of `level + 1`.
pub(super) struct Job {
    level: usize,
    inputs: Vec<Arc<FileMeta>>,
    next_inputs: Vec<Arc<FileMeta>>,
}

impl Job {
    /// The tables of the level being compacted.
    pub fn inputs(&self) -> &[Arc<FileMeta>] {
        &self.inputs
    }

    /// The tables of the next level that the inputs overlap.
    pub fn next_inputs(&self) -> &[Arc<FileMeta>] {
        &self.next_inputs
    }
}

fn user_range(files: &[Arc<FileMeta>]) -> Option<(Vec<u8>, Vec<u8>)> {
    let lo = files.iter().map(|f| key::user_key(&f.smallest)).min()?;
    let hi = files.iter().map(|f| key::user_key(&f.largest)).max()?;
    Some((lo.to_vec(), hi.to_vec()))
}

fn job_for(version: &Version, level: usize, inputs: Vec<Arc<FileMeta>>) -> Option<Job> {
    let (lo, hi) = user_range(&inputs)?;
    let next_inputs = version.overlapping(level + 1, Some(&lo), Some(&hi));
    Some(Job { level, inputs, next_inputs })
}

/// The compaction the levels need most, if any is due.
pub(super) fn pick(inner: &Inner, version: &Version) -> Option<Job> {
    let mut best = (0.0f64, 0usize);
    for level in 0..NUM_LEVELS - 1 {
        let score = if level == 0 {
            version.files[0].len() as f64 / L0_COMPACTION_TRIGGER as f64
        } else {
            version.level_bytes(level) as f64 / max_bytes_for_level(level) as f64
        };
        if score > best.0 {
            best = (score, level);
        }
    }
    let (score, level) = best;
    if score < 1.0 {
        // No level is over budget: compact a table that reads keep consulting in vain, if any.
        let (level, number) = lock(&inner.seek_candidate).take()?;
        let file = version.files.get(level)?.iter().find(|f| f.number == number)?.clone();
        let inputs = if level == 0 {
            version.overlapping(0, Some(key::user_key(&file.smallest)), Some(key::user_key(&file.largest)))
        } else {
            vec![file]
        };
        return job_for(version, level, inputs);
    }
    if level == 0 {
        // All of level 0: its tables overlap, and taking them all keeps newer versions together
        // with the older ones they shadow.
        return job_for(version, 0, version.files[0].clone());
    }
    // Resume after the last key compacted at this level, wrapping around, as LevelDB does.
    let pointer = lock(&inner.versions).compact_pointers[level].clone();
    let files = &version.files[level];
    let file = files
        .iter()
        .find(|f| pointer.is_empty() || key::compare_internal(&f.largest, &pointer).is_gt())
        .or_else(|| files.first())?;
    job_for(version, level, vec![file.clone()])
}

/// Compacts every table overlapping `[start, end]` down the levels (`compactRange`).
pub(super) fn compact_range(inner: &Inner, start: Option<&[u8]>, end: Option<&[u8]>) -> Result<()> {
    for level in 0..NUM_LEVELS - 1 {
        let version = inner.view().version.clone();
        let deeper_has_files = version.files.iter().skip(level + 1).any(|f| !f.is_empty());
        let inputs = version.overlapping(level, start, end);
        if inputs.is_empty() || (!deeper_has_files && level > 0) {
            continue;
        }
        if let Some(job) = job_for(&version, level, inputs) {
            run(inner, job)?;
        }
    }
    Ok(())
}

/// Runs `job` and installs its result.
pub(super) fn run(inner: &Inner, job: Job) -> Result<()> {
    let mut edit = VersionEdit::default();
    for f in &job.inputs {
        edit.deleted_files.push((job.level, f.number));
    }
    for f in &job.next_inputs {
        edit.deleted_files.push((job.level + 1, f.number));
    }
    if let Some(last) = job.inputs.iter().map(|f| &f.largest).max_by(|a, b| key::compare_internal(a, b)) {
        edit.compact_pointers.push((job.level, last.clone()));
    }
    if job.level > 0 && job.inputs.len() == 1 && job.next_inputs.is_empty() {
        // Nothing to merge with: move the table down without rewriting it.
        if let Some(f) = job.inputs.first() {
            edit.new_files.push((job.level + 1, f.as_ref().clone()));
        }
        return inner.install(edit, |v, version| ReadView { mem: v.mem.clone(), imm: v.imm.clone(), version });
    }

    let version = inner.view().version.clone();
    let smallest_snapshot =
        inner.snapshots.oldest().unwrap_or_else(|| inner.last_sequence.load(std::sync::atomic::Ordering::Acquire));

    let outputs = Mutex::new(Vec::new());
    let result =
        subcompaction::merge(inner, &job, &version, smallest_snapshot, &outputs).and_then(|metas| match metas {
            None => Ok(false),
            Some(metas) => {
                edit.new_files.extend(metas.into_iter().map(|m| (job.level + 1, m)));
                inner.install(edit, |v, version| ReadView { mem: v.mem.clone(), imm: v.imm.clone(), version })?;
                Ok(true)
            }
        });
    let installed = matches!(result, Ok(true));
    for number in outputs.into_inner().unwrap_or_else(|e| e.into_inner()) {
        inner.finish_output(number, installed);
    }
    result.map(|_| ())
}

/// Merges the job's inputs over the user keys in `range` and writes the entries that survive to
/// output tables, recording each table's number in `outputs` as it is taken. `None` when the
/// database is closing and the work was abandoned. The `main` merge (one per job, on the worker)
/// also flushes a full memtable when it finds one.
pub(super) fn merge(
    inner: &Inner,
    job: &Job,
    version: &Version,
    range: &KeyRange,
    smallest_snapshot: u64,
    main: bool,
    outputs: &Mutex<Vec<u64>>,
) -> Result<Option<Vec<FileMeta>>> {
    let mut children: Vec<Box<dyn InternalIterator>> = Vec::new();
    for f in &job.inputs {
        children.push(Box::new(LevelIterator::sequential(inner.tables.clone(), vec![f.clone()])));
    }
    if !job.next_inputs.is_empty() {
        children.push(Box::new(LevelIterator::sequential(inner.tables.clone(), job.next_inputs.clone())));
    }
    let mut merged = MergingIterator::new(children);
    match &range.start {
        Some(start) => merged.seek(&key::lookup_key(start, MAX_SEQUENCE)),
        None => merged.seek_to_first(),
    }
    let mut metas = Vec::new();
    let mut out: Option<OpenTable> = None;
    let mut current_user_key: Option<Vec<u8>> = None;
    let mut last_seq_for_key = MAX_SEQUENCE;
    let mut count = 0u64;
    while merged.valid() {
        count += 1;
        if count.is_multiple_of(1024) {
            if lock(&inner.bg).shutting_down {
                return Ok(None);
            }
            // Writers may be waiting for the memtable being flushed: flush it now rather than
            // after this whole compaction, as LevelDB does.
            if main {
                super::background::flush_waiting(inner)?;
            }
        }
        let ikey = merged.key();
        let parsed =
            key::parse_internal_key(ikey).ok_or_else(|| Error::corruption("compaction input: bad internal key"))?;
        let new_user_key = current_user_key.as_deref() != Some(parsed.user_key);
        if new_user_key && range.ends_before(parsed.user_key) {
            break;
        }
        if new_user_key {
            // Cut between user keys only, once the table is big enough.
            if out.as_ref().is_some_and(|t| t.file_size() >= inner.options.max_file_size as u64) {
                if let Some(table) = out.take() {
                    metas.push(table.finish()?);
                }
            }
            current_user_key = Some(parsed.user_key.to_vec());
            last_seq_for_key = MAX_SEQUENCE;
        }
        let drop = if last_seq_for_key <= smallest_snapshot {
            // A newer version of this key is visible to every reader: this one never will be.
            true
        } else {
            parsed.kind == ValueKind::Deletion
                && parsed.seq <= smallest_snapshot
                && version.is_base_level_for(job.level + 1, parsed.user_key)
        };
        last_seq_for_key = parsed.seq;
        if !drop {
            if out.is_none() {
                let number = inner.new_output_number();
                lock(outputs).push(number);
                out = Some(OpenTable::create_deferring(inner.fs.as_ref(), &inner.dir, number, &inner.options)?);
            }
            if let Some(table) = out.as_mut() {
                table.add(ikey, merged.value())?;
            }
        }
        merged.next();
    }
    merged.status()?;
    if let Some(table) = out.take() {
        metas.push(table.finish()?);
    }
    Ok(Some(metas))
}
