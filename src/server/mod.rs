//! The network front doors: one open database served over the Redis protocol (RESP2/RESP3) and
//! the memcache text protocol, on tokio, beside the process that opened it. No napi here: the
//! binding starts and stops a [`Server`]; `todb serve` is a thin script over that.
//!
//! Threads: one process-wide tokio runtime with a worker per core runs every connection. Engine
//! calls are synchronous; those that may wait on the disk (a read the cache cannot answer, a
//! range scan, a sync write, a write stalled behind a flush) run through [`blocking`], which
//! lets the runtime move its other connections to another thread meanwhile.
//!
//! Changes: the server registers an engine change listener, so every batch written, by a network
//! client, by JavaScript (`db.put`, `db.batch`, `clear`) or by another server, is turned into
//! Redis keyspace notifications (`__keyspace@0__:<key>` → `set`/`del`, `__keyevent@0__:set` →
//! key) and memcache `watch` messages. The listener only copies the batch into a queue (and only
//! while someone listens); a task of the runtime fans it out.

pub mod connection;
pub mod glob;
pub mod hub;
pub mod info;
pub mod memcache;
mod memcache_conn;
pub mod redis;
#[cfg(test)]
mod redis_tests;
pub mod resp;
pub mod scan;
pub mod store;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use tokio::runtime::Runtime;
use tokio::sync::{mpsc, watch};

use crate::engine::key::ValueKind;
use crate::engine::write_batch::WriteBatch;
use crate::engine::Db;

/// Which protocol a server speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// RESP2, and RESP3 after `HELLO 3`.
    Redis,
    /// The memcache text protocol.
    Memcache,
}

/// How a server is set up. Defaults are Redis's where Redis has one.
#[derive(Debug)]
pub struct Config {
    /// The protocol.
    pub protocol: Protocol,
    /// `AUTH` is required when set (memcache: memcached's text-protocol authentication).
    pub password: Option<String>,
    /// Sync each write to disk before acknowledging it (`CONFIG SET appendfsync always`).
    pub sync: AtomicBool,
    /// Send keyspace notifications (`CONFIG SET notify-keyspace-events`). Default on.
    pub notify: AtomicBool,
    /// Request size limits.
    pub limits: resp::Limits,
    /// Connections served at once; more are refused with an error. Default 10,000.
    pub max_clients: usize,
    /// Bytes queued for one subscriber before it is disconnected. Default 32 MiB.
    pub pubsub_limit: usize,
    /// Largest memcache value, bytes. Default 1 MiB, memcached's item size.
    pub max_item: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            protocol: Protocol::Redis,
            password: None,
            sync: AtomicBool::new(false),
            notify: AtomicBool::new(true),
            limits: resp::Limits::default(),
            max_clients: 10_000,
            pubsub_limit: 32 << 20,
            max_item: 1 << 20,
        }
    }
}

/// Counters for INFO and stats.
#[derive(Default)]
pub struct Stats {
    /// Connections open now.
    pub clients: AtomicUsize,
    /// Connections accepted since start.
    pub connections: AtomicU64,
    /// Connections refused over `max_clients`.
    pub rejected: AtomicU64,
    /// Requests answered.
    pub commands: AtomicU64,
}

/// What every connection of one server shares.
pub struct Shared {
    /// The database served.
    pub db: Db,
    /// The server's settings.
    pub config: Config,
    /// Pub/sub and change delivery.
    pub hub: hub::Hub,
    /// Counters.
    pub stats: Stats,
    /// SCAN cursors.
    pub cursors: Mutex<scan::Cursors>,
    /// The port listened on.
    pub port: u16,
    /// When the server started.
    pub started: Instant,
    /// memcache's counters (`stats`).
    pub memcache_stats: Arc<memcache::Stats>,
    next_client: AtomicU64,
}

impl Shared {
    /// A new client id.
    pub fn client_id(&self) -> u64 {
        self.next_client.fetch_add(1, Ordering::Relaxed) + 1
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f`, which may wait on the disk, telling the runtime so that other connections move on.
pub fn blocking<R>(f: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

fn runtime() -> std::io::Result<&'static Runtime> {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).clamp(2, 16);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("todb-server")
        .enable_all()
        .build()?;
    Ok(RUNTIME.get_or_init(|| rt))
}

/// A running server. Dropping it does not stop it: call [`Server::close`].
pub struct Server {
    shared: Arc<Shared>,
    address: SocketAddr,
    shutdown: watch::Sender<bool>,
    done: Option<tokio::task::JoinHandle<()>>,
    listener_id: u64,
}

impl Server {
    /// Binds `address` and starts serving `db`. Fails at once if the address cannot be bound.
    pub fn start(db: Db, address: &str, config: Config) -> std::io::Result<Server> {
        let rt = runtime()?;
        let std_listener = std::net::TcpListener::bind(address)?;
        std_listener.set_nonblocking(true)?;
        let local = std_listener.local_addr()?;
        let _guard = rt.enter();
        let listener = tokio::net::TcpListener::from_std(std_listener)?;
        let shared = Arc::new(Shared {
            db: db.clone(),
            config,
            hub: hub::Hub::default(),
            stats: Stats::default(),
            cursors: Mutex::default(),
            port: local.port(),
            started: Instant::now(),
            memcache_stats: Arc::default(),
            next_client: AtomicU64::new(0),
        });
        let (feed_tx, feed_rx) = mpsc::unbounded_channel::<WriteBatch>();
        let hub_side = shared.clone();
        let listener_id = db.add_change_listener(Arc::new(move |batch: &WriteBatch| {
            if hub_side.hub.listening() && hub_side.config.notify.load(Ordering::Relaxed) {
                let _ = feed_tx.send(batch.clone());
            }
        }));
        let (shutdown, stop) = watch::channel(false);
        rt.spawn(fan_out(shared.clone(), feed_rx));
        let done = rt.spawn(connection::accept_loop(shared.clone(), listener, stop));
        Ok(Server { shared, address: local, shutdown, done: Some(done), listener_id })
    }

    /// The address listened on (the port chosen, when 0 was asked for).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// What the connections share (for tests and stats).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Stops accepting, closes every connection (each finishes the request it is answering) and
    /// waits for them. Closing twice is harmless.
    pub fn close(&mut self) {
        let _ = self.shutdown.send(true);
        self.shared.db.remove_change_listener(self.listener_id);
        if let (Some(done), Ok(rt)) = (self.done.take(), runtime()) {
            let _ = rt.block_on(done);
        }
    }
}

/// Turns batches into keyspace notifications and watch messages, in write order.
async fn fan_out(shared: Arc<Shared>, mut feed: mpsc::UnboundedReceiver<WriteBatch>) {
    while let Some(batch) = feed.recv().await {
        for op in batch.iter().flatten() {
            if store::reserved(op.key) {
                continue;
            }
            let put = op.kind == ValueKind::Value;
            let event: &[u8] = if put { b"set" } else { b"del" };
            let mut channel = b"__keyspace@0__:".to_vec();
            channel.extend_from_slice(op.key);
            shared.hub.publish(&channel, event);
            let mut channel = b"__keyevent@0__:".to_vec();
            channel.extend_from_slice(event);
            shared.hub.publish(&channel, op.key);
            shared.hub.change(put, op.key, op.value);
        }
    }
}
