//! The broadcast hub: Redis pub/sub channels and patterns, and memcache `watch` connections.
//! Every change to the database (keyspace notifications) and every PUBLISH goes through it.
//!
//! Each connection registers one [`Subscriber`] with an unbounded queue and a byte count. A
//! publisher never waits for a slow reader: when a subscriber's queued bytes pass its limit
//! (Redis's pubsub client-output-buffer-limit), it is marked overflowed and its connection
//! closes, freeing the queue.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

use tokio::sync::{mpsc, Notify};

/// One thing to deliver to a connection.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// A pub/sub message; `pattern` is set when it matched a PSUBSCRIBE.
    Message { pattern: Option<Arc<[u8]>>, channel: Arc<[u8]>, payload: Arc<[u8]> },
    /// A change, for memcache watchers: a put (with its value) or a delete.
    Change { put: bool, key: Arc<[u8]>, value: Arc<[u8]> },
}

impl Delivery {
    fn size(&self) -> usize {
        match self {
            Delivery::Message { pattern, channel, payload } => {
                64 + pattern.as_ref().map_or(0, |p| p.len()) + channel.len() + payload.len()
            }
            Delivery::Change { key, value, .. } => 32 + key.len() + value.len(),
        }
    }
}

/// A connection's end of the hub.
pub struct Subscriber {
    tx: mpsc::UnboundedSender<Delivery>,
    queued: AtomicUsize,
    limit: usize,
    overflowed: AtomicBool,
    /// Woken when the subscriber overflows, so its connection closes even while idle.
    pub kill: Notify,
}

impl Subscriber {
    /// A subscriber whose queue may hold `limit` bytes, and the receiving end of its queue.
    pub fn new(limit: usize) -> (Arc<Subscriber>, mpsc::UnboundedReceiver<Delivery>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let sub = Subscriber {
            tx,
            queued: AtomicUsize::new(0),
            limit,
            overflowed: AtomicBool::new(false),
            kill: Notify::new(),
        };
        (Arc::new(sub), rx)
    }

    /// Queues `d`; false when the subscriber has overflowed (and is being disconnected).
    fn deliver(&self, d: Delivery) -> bool {
        if self.overflowed.load(Ordering::Relaxed) {
            return false;
        }
        let size = d.size();
        if self.queued.fetch_add(size, Ordering::AcqRel) + size > self.limit {
            self.overflowed.store(true, Ordering::Release);
            self.kill.notify_one();
            return false;
        }
        self.tx.send(d).is_ok()
    }

    /// Called by the connection for each delivery it takes off the queue.
    pub fn taken(&self, d: &Delivery) {
        self.queued.fetch_sub(d.size(), Ordering::AcqRel);
    }

    /// True once the queue passed its limit: the connection must close.
    pub fn overflowed(&self) -> bool {
        self.overflowed.load(Ordering::Acquire)
    }
}

type SubKey = usize;

fn key_of(sub: &Arc<Subscriber>) -> SubKey {
    Arc::as_ptr(sub) as SubKey
}

#[derive(Default)]
struct State {
    channels: HashMap<Vec<u8>, Vec<Arc<Subscriber>>>,
    patterns: Vec<(Vec<u8>, Arc<Subscriber>)>,
    watchers: Vec<Arc<Subscriber>>,
}

/// Channels, patterns and watchers of one server.
#[derive(Default)]
pub struct Hub {
    state: RwLock<State>,
    /// Subscriptions of any kind: zero means a change needs no work at all.
    count: AtomicUsize,
}

impl Hub {
    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    /// True when anyone listens: the change feed copies a batch only then.
    pub fn listening(&self) -> bool {
        self.count.load(Ordering::Acquire) > 0
    }

    /// Subscribes to a channel; false if already subscribed.
    pub fn subscribe(&self, sub: &Arc<Subscriber>, channel: &[u8]) -> bool {
        let mut s = self.write();
        let list = s.channels.entry(channel.to_vec()).or_default();
        if list.iter().any(|x| key_of(x) == key_of(sub)) {
            return false;
        }
        list.push(sub.clone());
        self.count.fetch_add(1, Ordering::AcqRel);
        true
    }

    /// Unsubscribes from a channel.
    pub fn unsubscribe(&self, sub: &Arc<Subscriber>, channel: &[u8]) {
        let mut s = self.write();
        if let Some(list) = s.channels.get_mut(channel) {
            let before = list.len();
            list.retain(|x| key_of(x) != key_of(sub));
            self.count.fetch_sub(before - list.len(), Ordering::AcqRel);
            if list.is_empty() {
                s.channels.remove(channel);
            }
        }
    }

    /// Subscribes to a pattern; false if already subscribed.
    pub fn psubscribe(&self, sub: &Arc<Subscriber>, pattern: &[u8]) -> bool {
        let mut s = self.write();
        if s.patterns.iter().any(|(p, x)| p == pattern && key_of(x) == key_of(sub)) {
            return false;
        }
        s.patterns.push((pattern.to_vec(), sub.clone()));
        self.count.fetch_add(1, Ordering::AcqRel);
        true
    }

    /// Unsubscribes from a pattern.
    pub fn punsubscribe(&self, sub: &Arc<Subscriber>, pattern: &[u8]) {
        let mut s = self.write();
        let before = s.patterns.len();
        s.patterns.retain(|(p, x)| !(p == pattern && key_of(x) == key_of(sub)));
        self.count.fetch_sub(before - s.patterns.len(), Ordering::AcqRel);
    }

    /// Makes `sub` receive every change (memcache `watch`).
    pub fn watch(&self, sub: &Arc<Subscriber>) {
        let mut s = self.write();
        if !s.watchers.iter().any(|x| key_of(x) == key_of(sub)) {
            s.watchers.push(sub.clone());
            self.count.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Drops every subscription `sub` holds (its connection closed).
    pub fn remove(&self, sub: &Arc<Subscriber>) {
        let mut s = self.write();
        let k = key_of(sub);
        let mut removed = 0;
        s.channels.retain(|_, list| {
            let before = list.len();
            list.retain(|x| key_of(x) != k);
            removed += before - list.len();
            !list.is_empty()
        });
        let before = s.patterns.len() + s.watchers.len();
        s.patterns.retain(|(_, x)| key_of(x) != k);
        s.watchers.retain(|x| key_of(x) != k);
        removed += before - s.patterns.len() - s.watchers.len();
        self.count.fetch_sub(removed, Ordering::AcqRel);
    }

    /// Sends `payload` on `channel`; returns how many subscriptions received it.
    pub fn publish(&self, channel: &[u8], payload: &[u8]) -> usize {
        if !self.listening() {
            return 0;
        }
        let s = self.read();
        let direct = s.channels.get(channel);
        let mut matched = s.patterns.iter().filter(|(p, _)| super::glob::matches(p, channel)).peekable();
        if direct.is_none() && matched.peek().is_none() {
            return 0;
        }
        let channel: Arc<[u8]> = channel.into();
        let payload: Arc<[u8]> = payload.into();
        let mut n = 0;
        for sub in direct.into_iter().flatten() {
            n += usize::from(sub.deliver(Delivery::Message {
                pattern: None,
                channel: channel.clone(),
                payload: payload.clone(),
            }));
        }
        for (pattern, sub) in matched {
            let pattern = Some(pattern.as_slice().into());
            n += usize::from(sub.deliver(Delivery::Message {
                pattern,
                channel: channel.clone(),
                payload: payload.clone(),
            }));
        }
        n
    }

    /// Tells the watchers of a change.
    pub fn change(&self, put: bool, key: &[u8], value: &[u8]) {
        let s = self.read();
        if s.watchers.is_empty() {
            return;
        }
        let (key, value): (Arc<[u8]>, Arc<[u8]>) = (key.into(), value.into());
        for sub in &s.watchers {
            let _ = sub.deliver(Delivery::Change { put, key: key.clone(), value: value.clone() });
        }
    }

    /// Active channels matching `pattern` (PUBSUB CHANNELS).
    pub fn channels(&self, pattern: Option<&[u8]>) -> Vec<Vec<u8>> {
        let s = self.read();
        let mut v: Vec<Vec<u8>> =
            s.channels.keys().filter(|c| pattern.is_none_or(|p| super::glob::matches(p, c))).cloned().collect();
        v.sort();
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_patterns_and_overflow() {
        let hub = Hub::default();
        let (a, mut ra) = Subscriber::new(1 << 20);
        let (b, mut rb) = Subscriber::new(200);
        assert!(hub.subscribe(&a, b"news"));
        assert!(!hub.subscribe(&a, b"news"));
        assert!(hub.psubscribe(&b, b"n*"));
        assert_eq!(hub.publish(b"news", b"hi"), 2);
        assert_eq!(hub.publish(b"other", b"hi"), 0);
        assert!(matches!(ra.try_recv(), Ok(Delivery::Message { pattern: None, .. })));
        let got = rb.try_recv().unwrap();
        assert!(matches!(&got, Delivery::Message { pattern: Some(p), .. } if &p[..] == b"n*"));
        b.taken(&got);
        // b's queue holds 200 bytes: a big message overflows it, and it gets no more.
        hub.publish(b"news", &[0u8; 300]);
        assert!(b.overflowed());
        assert!(rb.try_recv().is_err());
        hub.remove(&a);
        hub.remove(&b);
        assert!(!hub.listening());
    }
}
