//! Foreground syncs before background writes. A `sync: true` write waits for its log's fdatasync,
//! and that fdatasync waits for whatever else the device is doing. A compaction running beside it
//! (in the same database or in another one on the same disk) syncs a 2 MiB table every few tens of
//! milliseconds; each of those syncs commits the table's block allocations and flushes the device
//! cache, and a log sync caught behind one takes milliseconds instead of about 150 µs. Measured on
//! this project's machines, 1,000 sync writes made while one compaction ran were about a quarter
//! slower, nearly all of it in such stalls.
//!
//! The gate lets background I/O step aside. Foreground syncs run through [`IoGate::foreground`].
//! A compaction's table sync (and each deletion of an obsolete file) first calls
//! [`IoGate::defer_background`], which waits while a foreground sync is in flight or ended within
//! the last `quiet`, for at most `max_defer`; a writeback hint is dropped instead of deferred.
//! A burst of sync writes therefore runs clear of compaction I/O, and a writer that syncs without
//! pause slows compaction to a table per `max_defer` but never stops it. Waiting for only a few
//! milliseconds helped nothing: the deferred syncs all landed inside the burst anyway.
//!
//! One gate per device would be exact; the process-wide [`DISK_GATE`] that [`super::PosixFs`]
//! hands out is the approximation that costs nothing to find. File systems without a device (in
//! memory) have no gate.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::WritableFile;
use crate::engine::error::Result;

/// The gate shared by every database on real files in this process.
pub static DISK_GATE: IoGate = IoGate::new(Duration::from_millis(1), Duration::from_millis(200));

/// Counts foreground syncs in flight and remembers when the last one ended.
pub struct IoGate {
    in_flight: AtomicUsize,
    /// Nanoseconds from [`epoch`] to the end of the last foreground sync; 0 before the first.
    last_end: AtomicU64,
    /// How long after a foreground sync background I/O still waits: a writer that syncs in a loop
    /// starts its next sync within microseconds, and background I/O issued in that gap would land
    /// in front of it.
    quiet: Duration,
    /// The longest one request waits, so compaction goes on under a writer that never pauses.
    max_defer: Duration,
}

fn epoch() -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn nanos_since_epoch() -> u64 {
    // Never 0, which means "no sync yet"; u64 nanoseconds last for centuries.
    u64::try_from(epoch().elapsed().as_nanos()).unwrap_or(u64::MAX).max(1)
}

impl IoGate {
    /// A gate that holds background I/O back for `quiet` after each foreground sync, and for at
    /// most `max_defer` per request.
    pub const fn new(quiet: Duration, max_defer: Duration) -> IoGate {
        IoGate { in_flight: AtomicUsize::new(0), last_end: AtomicU64::new(0), quiet, max_defer }
    }

    /// True when no foreground sync is in flight and none ended in the last `quiet`.
    pub fn is_quiet(&self) -> bool {
        let (busy, since_end) = self.state();
        self.quiet_in(busy, since_end)
    }

    /// Whether a sync is in flight, and the time since the last one ended (`None` before any).
    fn state(&self) -> (bool, Option<Duration>) {
        let last_end = self.last_end.load(Ordering::Acquire);
        let busy = self.in_flight.load(Ordering::Acquire) > 0;
        let since_end = (last_end != 0).then(|| Duration::from_nanos(nanos_since_epoch().saturating_sub(last_end)));
        (busy, since_end)
    }

    fn quiet_in(&self, busy: bool, since_end: Option<Duration>) -> bool {
        !busy && since_end.is_none_or(|d| d >= self.quiet)
    }

    /// Runs `sync` as a foreground sync: background I/O defers to it while it runs and for a
    /// moment after.
    pub fn foreground<T>(&self, sync: impl FnOnce() -> T) -> T {
        epoch();
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        let result = sync();
        self.last_end.store(nanos_since_epoch(), Ordering::Release);
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        result
    }

    /// Waits until no foreground sync is in flight and none ended in the last `quiet`, or until
    /// `max_defer` has passed. Returns at once when the gate has been idle.
    pub fn defer_background(&self) {
        let mut started = None;
        loop {
            let (busy, since_end) = self.state();
            if self.quiet_in(busy, since_end) {
                return;
            }
            let started = *started.get_or_insert_with(Instant::now);
            let waited = started.elapsed();
            if waited >= self.max_defer {
                return;
            }
            // Short naps: the wait ends soon after the quiet period does, without spinning a core
            // that the foreground writer may need.
            let until_quiet = match since_end {
                Some(d) if !busy => self.quiet.saturating_sub(d),
                _ => self.quiet,
            };
            let nap =
                until_quiet.min(self.max_defer - waited).clamp(Duration::from_micros(50), Duration::from_micros(500));
            std::thread::sleep(nap);
        }
    }
}

/// A file written in the background (a compaction's output table): its writeback requests and
/// its sync defer to foreground syncs through `gate`. Appends only copy into the OS's cache and
/// pass straight through.
pub struct DeferringFile {
    inner: Arc<dyn WritableFile>,
    gate: &'static IoGate,
}

impl DeferringFile {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn WritableFile>, gate: &'static IoGate) -> DeferringFile {
        DeferringFile { inner, gate }
    }
}

impl WritableFile for DeferringFile {
    fn append(&self, data: &[u8]) -> Result<()> {
        self.inner.append(data)
    }

    fn sync(&self) -> Result<()> {
        self.gate.defer_background();
        self.inner.sync()
    }

    fn preallocate(&self, offset: u64, len: u64) -> Result<()> {
        self.inner.preallocate(offset, len)
    }

    /// Dropped, not deferred, while foreground syncs run: the pages are written by the sync, which
    /// waits its turn.
    fn start_writeback(&self, offset: u64, len: u64) {
        if self.gate.is_quiet() {
            self.inner.start_writeback(offset, len);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    fn leaked(quiet_ms: u64, max_defer_ms: u64) -> &'static IoGate {
        Box::leak(Box::new(IoGate::new(Duration::from_millis(quiet_ms), Duration::from_millis(max_defer_ms))))
    }

    /// Starts a foreground sync on another thread and returns once it is in flight, with the
    /// thread (which yields the instant the sync ended) and the sender that ends it.
    fn hold_foreground(gate: &'static IoGate) -> (std::thread::JoinHandle<Instant>, mpsc::Sender<()>) {
        let (entered_tx, entered_rx) = mpsc::channel();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let fg = std::thread::spawn(move || {
            gate.foreground(|| {
                entered_tx.send(()).unwrap();
                release_rx.recv().unwrap();
            });
            Instant::now()
        });
        entered_rx.recv().unwrap();
        (fg, release_tx)
    }

    #[test]
    fn an_idle_gate_does_not_wait() {
        let gate = leaked(1, 60_000);
        let t0 = Instant::now();
        gate.defer_background();
        assert!(t0.elapsed() < Duration::from_secs(30), "an idle gate waited {:?}", t0.elapsed());
    }

    #[test]
    fn background_waits_for_a_sync_in_flight_then_the_quiet_period() {
        let gate = leaked(20, 60_000);
        let (fg, release_tx) = hold_foreground(gate);
        let bg = std::thread::spawn(move || {
            gate.defer_background();
            Instant::now()
        });
        std::thread::sleep(Duration::from_millis(30));
        assert!(!bg.is_finished(), "background I/O went ahead while a foreground sync was in flight");
        release_tx.send(()).unwrap();
        let sync_ended = fg.join().unwrap();
        let bg_went = bg.join().unwrap();
        assert!(bg_went >= sync_ended + Duration::from_millis(20), "background I/O did not wait out the quiet period");
    }

    #[test]
    fn background_waits_at_most_max_defer() {
        let gate = leaked(1, 40);
        let (fg, release_tx) = hold_foreground(gate);
        let t0 = Instant::now();
        gate.defer_background();
        let waited = t0.elapsed();
        release_tx.send(()).unwrap();
        fg.join().unwrap();
        assert!(waited >= Duration::from_millis(40), "gave up after {waited:?}, before max_defer");
    }

    /// Counts the writeback hints that reach the file.
    struct Hints(AtomicUsize);

    impl WritableFile for Hints {
        fn append(&self, _data: &[u8]) -> Result<()> {
            Ok(())
        }
        fn sync(&self) -> Result<()> {
            Ok(())
        }
        fn start_writeback(&self, _offset: u64, _len: u64) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn writeback_hints_are_dropped_while_foreground_syncs_run() {
        let gate = leaked(60_000, 60_000);
        let hints = Arc::new(Hints(AtomicUsize::new(0)));
        let file = DeferringFile::new(hints.clone(), gate);
        file.start_writeback(0, 4096);
        assert_eq!(hints.0.load(Ordering::Relaxed), 1, "an idle gate passes hints through");
        gate.foreground(|| file.start_writeback(0, 4096));
        file.start_writeback(0, 4096);
        assert_eq!(hints.0.load(Ordering::Relaxed), 1, "hints during and just after a foreground sync are dropped");
    }

    #[test]
    fn a_deferring_file_syncs_after_the_foreground_sync() {
        use crate::engine::env::{Fs, MemFs};
        let gate = leaked(1, 60_000);
        let fs = MemFs::new();
        fs.create_dir_all(std::path::Path::new("/d")).unwrap();
        let file = DeferringFile::new(fs.create(std::path::Path::new("/d/t")).unwrap(), gate);
        file.append(b"abc").unwrap();
        let (fg, release_tx) = hold_foreground(gate);
        let bg = std::thread::spawn(move || file.sync());
        std::thread::sleep(Duration::from_millis(30));
        assert!(!bg.is_finished(), "the table synced while a foreground sync was in flight");
        release_tx.send(()).unwrap();
        fg.join().unwrap();
        bg.join().unwrap().unwrap();
    }
}
