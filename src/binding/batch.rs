//! A write batch assembled from JavaScript (chained batches and `db.batch([...])`), written with
//! `NativeDb.write`.

use std::sync::Mutex;

use napi_derive::napi;

use crate::binding::convert::Bytes;
use crate::engine::write_batch::WriteBatch;

/// Puts and deletes to be applied atomically.
#[napi]
pub struct NativeBatch {
    batch: Mutex<WriteBatch>,
}

impl NativeBatch {
    /// Takes the operations out, leaving the batch empty.
    pub fn take(&self) -> WriteBatch {
        std::mem::take(&mut *self.batch.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

#[napi]
impl NativeBatch {
    /// An empty batch.
    #[napi(constructor)]
    pub fn new() -> NativeBatch {
        NativeBatch { batch: Mutex::new(WriteBatch::new()) }
    }

    /// Adds a put.
    #[napi]
    pub fn put(&self, key: Bytes, value: Bytes) {
        self.batch.lock().unwrap_or_else(|e| e.into_inner()).put(&key, &value);
    }

    /// Adds a delete.
    #[napi]
    pub fn del(&self, key: Bytes) {
        self.batch.lock().unwrap_or_else(|e| e.into_inner()).delete(&key);
    }

    /// Removes every operation.
    #[napi]
    pub fn clear(&self) {
        self.batch.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The number of operations.
    #[napi(getter)]
    pub fn length(&self) -> u32 {
        self.batch.lock().unwrap_or_else(|e| e.into_inner()).count()
    }
}

impl Default for NativeBatch {
    fn default() -> Self {
        NativeBatch::new()
    }
}
