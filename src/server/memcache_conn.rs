//! A memcache connection's task: answer the whole commands in what the client sent
//! (`memcache::answer`: consecutive data commands as one group), write the replies in one go,
//! and, once the client said `watch`, deliver every change the hub queues between reads.
//!
//! An item over the size limit is refused at its command line and its data block is discarded
//! as it arrives, so a client that declares a huge item never makes the server buffer it.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::hub::{Delivery, Subscriber};
use super::memcache::{self, Outcome};
use super::Shared;

/// Longest command line: room for a `get` of many keys.
const MAX_LINE: usize = 64 << 10;

/// Serves one memcache connection; returns its hub subscriber for removal.
pub async fn serve(
    shared: &Arc<Shared>,
    stream: TcpStream,
    mut stop: watch::Receiver<bool>,
) -> Option<Arc<Subscriber>> {
    let (mut rd, mut wr) = stream.into_split();
    let (sub, mut queue) = Subscriber::new(shared.config.pubsub_limit);
    let config = memcache::Config {
        sync: shared.config.sync.load(Ordering::Relaxed),
        limits: memcache::Limits { max_line: MAX_LINE, max_value: shared.config.max_item, max_keys_per_get: 1 << 14 },
        password: shared.config.password.clone(),
        stats: shared.memcache_stats.clone(),
    };
    let mut session = memcache::Session { authenticated: shared.config.password.is_none() };
    let mut buf: Vec<u8> = Vec::with_capacity(16 << 10);
    let mut out: Vec<u8> = Vec::with_capacity(16 << 10);
    // Bytes of a refused item's data block still to discard.
    let mut swallow: u64 = 0;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = sub.kill.notified() => break,
            Some(d) = queue.recv() => {
                if !super::connection::deliver(d, &mut queue, &sub, &mut wr, &mut out, encode).await {
                    break;
                }
            }
            read = rd.read_buf(&mut buf) => {
                match read {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                let done = memcache::answer(&shared.db, &config, &mut session, &buf, &mut swallow, &mut out, |o| match o {
                    Outcome::Watch => shared.hub.watch(&sub),
                    Outcome::Unwatch => shared.hub.remove(&sub),
                    Outcome::Continue | Outcome::Close => {}
                });
                shared.stats.commands.fetch_add(done.commands, Ordering::Relaxed);
                buf.drain(..done.used);
                if !out.is_empty() {
                    if wr.write_all(&out).await.is_err() { break; }
                    out.clear();
                }
                if done.close || sub.overflowed() {
                    break;
                }
                if buf.capacity() > 1 << 20 && buf.len() < 1 << 16 {
                    buf.shrink_to(64 << 10);
                }
            }
        }
    }
    let _ = wr.shutdown().await;
    Some(sub)
}

fn encode(d: &Delivery, out: &mut Vec<u8>) {
    if let Delivery::Change { put, key, value } = d {
        memcache::encode_change(out, *put, key, value);
    }
}
