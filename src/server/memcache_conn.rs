//! A memcache connection's task: parse the whole commands in what the client sent, execute
//! them (`memcache::exec`), write the replies in one go, and, once the client said `watch`,
//! deliver every change the hub queues between reads.
//!
//! An item over the size limit is refused at its command line and its data block is discarded
//! as it arrives, so a client that declares a huge item never makes the server buffer it.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::hub::{Delivery, Subscriber};
use super::memcache::{self, Command, Outcome};
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
                let (close, used) = answer(shared, &config, &mut session, &sub, &buf, &mut swallow, &mut out);
                buf.drain(..used);
                if !out.is_empty() {
                    if wr.write_all(&out).await.is_err() { break; }
                    out.clear();
                }
                if close || sub.overflowed() {
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

/// Answers the whole commands at the start of `buf`: whether to close, and the bytes used.
fn answer(
    shared: &Shared,
    config: &memcache::Config,
    session: &mut memcache::Session,
    sub: &Arc<Subscriber>,
    buf: &[u8],
    swallow: &mut u64,
    out: &mut Vec<u8>,
) -> (bool, usize) {
    let mut at = 0;
    loop {
        if *swallow > 0 {
            let skip = (*swallow).min((buf.len() - at) as u64);
            *swallow -= skip;
            at += skip as usize;
            if *swallow > 0 {
                return (false, at);
            }
        }
        let rest = &buf[at..];
        if rest.is_empty() {
            return (false, at);
        }
        match memcache::parse(rest, &config.limits) {
            Ok(None) => return (false, at),
            Ok(Some((cmd, used))) => {
                at += used;
                if let Command::TooLarge { swallow: n, .. } = &cmd {
                    *swallow = *n;
                }
                shared.stats.commands.fetch_add(1, Ordering::Relaxed);
                // NOTE: a sync write waits on fsync, so the runtime is told; other commands run in
                // line (a read the cache misses waits on the disk here: see the issue's note).
                let mut run = || memcache::execute(&shared.db, config, session, &cmd, out);
                let outcome = if config.sync { super::blocking(run) } else { run() };
                match outcome {
                    Outcome::Continue => {}
                    Outcome::Close => return (true, at),
                    Outcome::Watch => shared.hub.watch(sub),
                    Outcome::Unwatch => shared.hub.remove(sub),
                }
            }
            Err(e) => {
                out.extend_from_slice(e.reply.as_bytes());
                return (true, buf.len());
            }
        }
    }
}
