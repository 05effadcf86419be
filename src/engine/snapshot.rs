//! Snapshots: sequence numbers that readers hold so that compaction keeps the versions they can
//! see. Every read takes one implicitly; `Db::snapshot` hands one out explicitly. The list only
//! counts holders per sequence; a [`Snapshot`] releases its hold when dropped. A snapshot can
//! also pin what it reads (a read-only open's view, whose tables its writer may delete).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::engine::key::SequenceNumber;

/// The sequences currently held by readers.
#[derive(Default)]
pub struct SnapshotList {
    held: Mutex<BTreeMap<SequenceNumber, usize>>,
}

impl SnapshotList {
    /// An empty list.
    pub fn new() -> Arc<SnapshotList> {
        Arc::new(SnapshotList::default())
    }

    /// Holds `seq` until the returned snapshot is dropped.
    pub fn acquire(self: &Arc<Self>, seq: SequenceNumber) -> Snapshot {
        *self.held.lock().unwrap_or_else(|e| e.into_inner()).entry(seq).or_insert(0) += 1;
        Snapshot { seq, list: Arc::clone(self), _pin: None }
    }

    /// The oldest held sequence, if any: versions newer than the newest version visible at it
    /// must be kept.
    pub fn oldest(&self) -> Option<SequenceNumber> {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).keys().next().copied()
    }

    fn release(&self, seq: SequenceNumber) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = held.get_mut(&seq) {
            *count -= 1;
            if *count == 0 {
                held.remove(&seq);
            }
        }
    }
}

/// A consistent point in time: reads through it see exactly the writes up to `seq()`.
pub struct Snapshot {
    seq: SequenceNumber,
    list: Arc<SnapshotList>,
    _pin: Option<Arc<dyn Send + Sync>>,
}

impl Snapshot {
    /// This snapshot, also keeping `pin` alive until it is dropped.
    pub fn pinning(mut self, pin: Arc<dyn Send + Sync>) -> Snapshot {
        self._pin = Some(pin);
        self
    }

    /// The last sequence number visible through this snapshot.
    pub fn seq(&self) -> SequenceNumber {
        self.seq
    }
}

impl Drop for Snapshot {
    fn drop(&mut self) {
        self.list.release(self.seq);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oldest_tracks_holders() {
        let list = SnapshotList::new();
        assert_eq!(list.oldest(), None);
        let a = list.acquire(5);
        let b = list.acquire(3);
        let c = list.acquire(3);
        assert_eq!(list.oldest(), Some(3));
        drop(b);
        assert_eq!(list.oldest(), Some(3));
        drop(c);
        assert_eq!(list.oldest(), Some(5));
        assert_eq!(a.seq(), 5);
        drop(a);
        assert_eq!(list.oldest(), None);
    }
}
