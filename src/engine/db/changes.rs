//! Change listeners: code outside the engine (the network server's keyspace notifications) that
//! must hear of every batch written, whoever wrote it: JavaScript, a network client, `clear`.
//!
//! A listener is called on the writer's thread with the write lock held, after the batch is
//! published, so listeners see batches exactly in sequence order. It must be quick and must
//! never call back into the database (it would deadlock on the write lock): copy what it needs
//! and hand it to a thread of its own.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use super::Db;
use crate::engine::write_batch::WriteBatch;

/// Called with each batch written, its sequence set.
pub type ChangeListener = Arc<dyn Fn(&WriteBatch) + Send + Sync>;

/// The listeners of one database.
#[derive(Default)]
pub(crate) struct Listeners {
    /// True while any listener is registered: the write path's only cost otherwise.
    any: AtomicBool,
    next_id: AtomicU64,
    list: RwLock<Vec<(u64, ChangeListener)>>,
}

impl Listeners {
    pub(crate) fn notify(&self, batch: &WriteBatch) {
        if !self.any.load(Ordering::Acquire) {
            return;
        }
        let list = self.list.read().unwrap_or_else(|e| e.into_inner());
        for (_, listener) in list.iter() {
            listener(batch);
        }
    }
}

impl Db {
    /// Registers `listener` for every batch written from now on; returns its id for
    /// [`Db::remove_change_listener`].
    pub fn add_change_listener(&self, listener: ChangeListener) -> u64 {
        let listeners = &self.inner.listeners;
        let id = listeners.next_id.fetch_add(1, Ordering::Relaxed);
        let mut list = listeners.list.write().unwrap_or_else(|e| e.into_inner());
        list.push((id, listener));
        listeners.any.store(true, Ordering::Release);
        id
    }

    /// Unregisters a listener. Once this returns, it is not called again (a call in progress on
    /// another thread has finished: removal waits for the lock the call holds).
    pub fn remove_change_listener(&self, id: u64) {
        let listeners = &self.inner.listeners;
        let mut list = listeners.list.write().unwrap_or_else(|e| e.into_inner());
        list.retain(|(i, _)| *i != id);
        listeners.any.store(!list.is_empty(), Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Mutex;

    use super::*;
    use crate::engine::env::MemFs;
    use crate::engine::iter::IterBounds;
    use crate::engine::key::ValueKind;
    use crate::engine::{Options, ReadOptions, WriteOptions};

    #[test]
    fn listeners_hear_every_write_in_order_until_removed() {
        let db = Db::open(Arc::new(MemFs::new()), Path::new("/db"), Options::default()).unwrap();
        type Heard = Vec<(u64, ValueKind, Vec<u8>)>;
        let heard: Arc<Mutex<Heard>> = Arc::default();
        let sink = heard.clone();
        let id = db.add_change_listener(Arc::new(move |batch: &WriteBatch| {
            for (i, op) in batch.iter().enumerate() {
                let op = op.unwrap();
                sink.lock().unwrap().push((batch.sequence() + i as u64, op.kind, op.key.to_vec()));
            }
        }));
        db.put(b"a", b"1", WriteOptions::default()).unwrap();
        db.put(b"b", b"2", WriteOptions { sync: true }).unwrap();
        db.delete(b"a", WriteOptions::default()).unwrap();
        db.clear_range(&ReadOptions::default(), false, IterBounds::default(), None).unwrap();
        db.remove_change_listener(id);
        db.put(b"c", b"3", WriteOptions::default()).unwrap();

        let heard = heard.lock().unwrap().clone();
        let keys: Vec<(ValueKind, &[u8])> = heard.iter().map(|(_, k, key)| (*k, key.as_slice())).collect();
        assert_eq!(
            keys,
            vec![
                (ValueKind::Value, &b"a"[..]),
                (ValueKind::Value, b"b"),
                (ValueKind::Deletion, b"a"),
                (ValueKind::Deletion, b"b"),
            ]
        );
        let seqs: Vec<u64> = heard.iter().map(|(s, _, _)| *s).collect();
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "sequences in order: {seqs:?}");
    }
}
