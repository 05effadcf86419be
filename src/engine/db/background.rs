//! The background worker: one thread per open database that flushes full memtables to level-0
//! tables and compacts levels, one job at a time. It sleeps on `Inner::bg_cv` until work is
//! scheduled, and exits when `close()` sets `shutting_down`. An error in a job poisons the
//! database (writes fail; reads go on), as LevelDB's background error does.

use std::sync::Arc;
use std::thread::JoinHandle;

use super::{compaction, lock, table_writer, Inner, ReadView};
use crate::engine::error::{Error, Result};
use crate::engine::memtable::MemTable;
use crate::engine::version::VersionEdit;

/// Starts the worker for `inner`.
pub(super) fn spawn(inner: &Arc<Inner>) -> Result<JoinHandle<()>> {
    let worker = inner.clone();
    std::thread::Builder::new()
        .name("todb-background".into())
        .spawn(move || run(&worker))
        .map_err(|e| Error::io("start background thread", &inner.dir, e))
}

fn run(inner: &Inner) {
    loop {
        {
            let mut bg = lock(&inner.bg);
            while !bg.scheduled && !bg.shutting_down {
                bg = inner.bg_cv.wait(bg).unwrap_or_else(|e| e.into_inner());
            }
            if bg.shutting_down {
                drop(bg);
                finish_due_flush(inner);
                return;
            }
            bg.scheduled = false;
        }
        loop {
            if inner.poisoned().is_some() {
                break;
            }
            // A panic in a job (a bug, or a helper thread's) poisons the database like an error
            // would: unwinding out of this thread instead would leave every waiter for the
            // worker (a full memtable, `compact_range`) blocked for good.
            let stepped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| step(inner)));
            let progressed = match stepped.unwrap_or_else(|panic| Err(panicked(panic.as_ref()))) {
                Ok(progressed) => progressed,
                Err(e) => {
                    inner.poison(e);
                    false
                }
            };
            // Again now that the job's own references to the versions it replaced are gone.
            if progressed {
                inner.remove_obsolete_files();
            }
            let shutting_down = {
                let mut bg = lock(&inner.bg);
                bg.completed += 1;
                bg.shutting_down
            };
            inner.bg_cv.notify_all();
            if !progressed || shutting_down {
                break;
            }
        }
    }
}

/// The error a panicking job leaves behind, with the panic's message.
fn panicked(panic: &(dyn std::any::Any + Send)) -> Error {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into());
    Error::corruption(format!("the background worker failed: {message}"))
}

/// On close: compactions are abandoned, but a memtable already waiting for its flush is flushed,
/// so that the next open need not replay its log (a few megabytes, tens of milliseconds). A close
/// that lands just after a memtable switch would otherwise leave it behind about half the time,
/// whenever the worker was inside a compaction.
fn finish_due_flush(inner: &Inner) {
    if inner.poisoned().is_some() {
        return;
    }
    match flush_waiting(inner) {
        Ok(true) => inner.remove_obsolete_files(),
        Ok(false) => {}
        Err(e) => {
            inner.poison(e);
        }
    }
}

/// Flushes the full memtable waiting for the worker, if there is one, and wakes the writers that
/// wait for it. Called between steps of a long job too, so that writers are not held up by it.
/// Returns whether there was one.
pub(super) fn flush_waiting(inner: &Inner) -> Result<bool> {
    let Some(imm) = inner.view().imm.clone() else { return Ok(false) };
    flush(inner, &imm)?;
    inner.bg_cv.notify_all();
    Ok(true)
}

/// Does the most urgent job: a flush, then a requested compaction, then one the levels need.
/// Returns whether there was anything to do.
fn step(inner: &Inner) -> Result<bool> {
    inner.prepare_spare_log()?;
    let view = inner.view();
    if let Some(imm) = view.imm.clone() {
        flush(inner, &imm)?;
        return Ok(true);
    }
    let manual = lock(&inner.bg).manual.clone();
    if let Some((start, end)) = manual {
        // Not holding the version it replaces lets the cleanup below delete its tables.
        drop(view);
        compaction::compact_range(inner, start.as_deref(), end.as_deref())?;
        // Before `compact_range()`'s caller is released, so it finds the replaced tables gone.
        inner.remove_obsolete_files();
        lock(&inner.bg).manual = None;
        return Ok(true);
    }
    if let Some(job) = compaction::pick(inner, &view.version) {
        compaction::run(inner, job)?;
        return Ok(true);
    }
    Ok(false)
}

/// Writes `imm` to a level-0 table and installs it, retiring the log that held its writes.
pub(super) fn flush(inner: &Inner, imm: &Arc<MemTable>) -> Result<()> {
    let number = inner.new_output_number();
    let written = table_writer::write_table(inner.fs.as_ref(), &inner.dir, number, &inner.options, &mut imm.iter());
    let result = written.and_then(|meta| {
        let log_number = lock(&inner.bg).imm_log_number;
        let mut edit = VersionEdit { log_number: Some(log_number), prev_log_number: Some(0), ..VersionEdit::default() };
        edit.new_files.extend(meta.map(|m| (0, m)));
        inner.install(edit, |v, version| ReadView { mem: v.mem.clone(), imm: None, version })?;
        inner.release_retired_logs(log_number);
        Ok(())
    });
    inner.finish_output(number, result.is_ok());
    result
}

impl Inner {
    /// Reserves a file number for a table being written, so cleanup leaves the file alone.
    pub(super) fn new_output_number(&self) -> u64 {
        let number = lock(&self.versions).new_file_number();
        lock(&self.pending_outputs).push(number);
        number
    }

    /// Releases a reserved number; a table that was not installed is deleted, unless the database
    /// is poisoned: then whether the MANIFEST names it is unknown.
    pub(super) fn finish_output(&self, number: u64, installed: bool) {
        lock(&self.pending_outputs).retain(|&n| n != number);
        if !installed && self.poisoned().is_none() {
            let _ = self.fs.remove_file(&crate::engine::filename::table_file(&self.dir, number));
        }
    }

    /// Records `edit` in the MANIFEST and publishes the resulting version through `view`.
    pub(super) fn install(
        &self,
        edit: VersionEdit,
        view: impl FnOnce(&ReadView, Arc<crate::engine::version::Version>) -> ReadView,
    ) -> Result<()> {
        {
            let mut versions = lock(&self.versions);
            versions.last_sequence =
                versions.last_sequence.max(self.last_sequence.load(std::sync::atomic::Ordering::Acquire));
            if let Err(e) = versions.log_and_apply(edit) {
                // IMPORTANT: the edit may or may not have reached the MANIFEST (an append can land
                // and its sync fail), so from here nothing may be deleted and nothing more
                // recorded: poison before any caller cleans up, as LevelDB's background error does.
                return Err(self.poison(e));
            }
            let version = versions.current();
            self.update_view(|v| view(v, version));
        }
        // NOTE: obsolete files are deleted once per job, by the worker loop (and before a
        // `compact_range` caller is released), when the job's own references are gone.
        Ok(())
    }
}
