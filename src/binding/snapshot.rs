//! An explicit snapshot (`db.snapshot()`), held until JavaScript closes it.

use std::sync::Mutex;

use napi_derive::napi;

use crate::binding::error::{coded, Code, SNAPSHOT_NOT_OPEN};
use crate::engine::key::SequenceNumber;
use crate::engine::snapshot::Snapshot;

/// A point-in-time view that reads can be made through.
#[napi]
pub struct NativeSnapshot {
    held: Mutex<Option<Snapshot>>,
}

impl NativeSnapshot {
    /// Wraps an engine snapshot.
    pub fn new(snapshot: Snapshot) -> NativeSnapshot {
        NativeSnapshot { held: Mutex::new(Some(snapshot)) }
    }

    /// The snapshot's sequence, or an error once it is closed.
    pub fn seq(&self) -> napi::Result<SequenceNumber, Code> {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.as_ref()
            .map(Snapshot::seq)
            .ok_or_else(|| coded(SNAPSHOT_NOT_OPEN, "Snapshot is not open: cannot use snapshot after close()"))
    }
}

#[napi]
impl NativeSnapshot {
    /// Releases the snapshot; versions it protected may now be compacted away.
    #[napi]
    pub fn close(&self) {
        self.held.lock().unwrap_or_else(|e| e.into_inner()).take();
    }
}
