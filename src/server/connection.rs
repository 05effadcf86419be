//! The accept loop and one task per connection: read what the client sent, answer every whole
//! request in it, write the answers in one go, and between reads deliver what the hub queued.
//!
//! A pipeline costs one read and one write however many requests it holds. A protocol error is
//! answered, then the connection closes, as Redis does. A connection that sends part of a frame
//! and disconnects leaves nothing behind: only whole requests are executed.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::hub::{Delivery, Subscriber};
use super::redis::{self, Action, Session};
use super::resp::{self, Encoder, Parsed};
use super::{Protocol, Shared};

/// The most a client may have sent and not yet had answered (Redis's client-query-buffer-limit).
const MAX_QUERY_BUFFER: usize = 1 << 30;

/// Data commands of one pipeline answered as one group at most, Redis's and memcache's: bounds
/// how long a group holds the write lock.
pub(super) const MAX_GROUP: usize = 256;

/// Accepts connections until `stop` turns true, then waits for every connection to end.
pub async fn accept_loop(shared: Arc<Shared>, listener: TcpListener, mut stop: watch::Receiver<bool>) {
    let mut tasks = JoinSet::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            accepted = listener.accept() => {
                let Ok((mut stream, _)) = accepted else { continue };
                while tasks.try_join_next().is_some() {}
                if shared.stats.clients.load(Ordering::Acquire) >= shared.config.max_clients {
                    shared.stats.rejected.fetch_add(1, Ordering::Relaxed);
                    let msg: &[u8] = match shared.config.protocol {
                        Protocol::Redis => b"-ERR max number of clients reached\r\n",
                        Protocol::Memcache => b"SERVER_ERROR max number of clients reached\r\n",
                    };
                    let _ = stream.write_all(msg).await;
                    continue;
                }
                let _ = stream.set_nodelay(true);
                shared.stats.clients.fetch_add(1, Ordering::AcqRel);
                shared.stats.connections.fetch_add(1, Ordering::Relaxed);
                let (shared, stop) = (shared.clone(), stop.clone());
                tasks.spawn(async move {
                    let sub = match shared.config.protocol {
                        Protocol::Redis => serve_redis(&shared, stream, stop).await,
                        Protocol::Memcache => super::memcache_conn::serve(&shared, stream, stop).await,
                    };
                    if let Some(sub) = sub {
                        shared.hub.remove(&sub);
                    }
                    shared.stats.clients.fetch_sub(1, Ordering::AcqRel);
                });
            }
        }
    }
    drop(listener);
    while tasks.join_next().await.is_some() {}
}

/// Writes `first` and whatever else the hub has queued (up to about 1 MiB), encoded by
/// `encode`; false when the connection must close (the write failed, or the subscriber
/// overflowed while its write was blocked).
pub(super) async fn deliver(
    first: Delivery,
    queue: &mut UnboundedReceiver<Delivery>,
    sub: &Subscriber,
    wr: &mut OwnedWriteHalf,
    out: &mut Vec<u8>,
    encode: impl Fn(&Delivery, &mut Vec<u8>),
) -> bool {
    sub.taken(&first);
    encode(&first, out);
    while out.len() <= 1 << 20 {
        let Ok(d) = queue.try_recv() else { break };
        sub.taken(&d);
        encode(&d, out);
    }
    // A subscriber that stopped reading blocks this write: its overflow must still end the
    // connection.
    let ok = tokio::select! {
        written = wr.write_all(out) => written.is_ok(),
        _ = sub.kill.notified() => false,
    };
    out.clear();
    ok
}

/// Encodes a pub/sub delivery for a Redis client.
fn encode_delivery(enc: &Encoder, d: &Delivery, out: &mut Vec<u8>) {
    if let Delivery::Message { pattern, channel, payload } = d {
        match pattern {
            Some(p) => {
                enc.push(out, 4);
                enc.bulk(out, b"pmessage");
                enc.bulk(out, p);
            }
            None => {
                enc.push(out, 3);
                enc.bulk(out, b"message");
            }
        }
        enc.bulk(out, channel);
        enc.bulk(out, payload);
    }
}

async fn serve_redis(
    shared: &Arc<Shared>,
    stream: TcpStream,
    mut stop: watch::Receiver<bool>,
) -> Option<Arc<Subscriber>> {
    let (mut rd, mut wr) = stream.into_split();
    let (sub, mut queue) = Subscriber::new(shared.config.pubsub_limit);
    let mut session = Session::new(shared.client_id(), shared, sub.clone());
    let mut buf: Vec<u8> = Vec::with_capacity(16 << 10);
    let mut out: Vec<u8> = Vec::with_capacity(16 << 10);
    let mut need = 0usize;
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            _ = sub.kill.notified() => break,
            Some(d) = queue.recv() => {
                let enc = Encoder { version: session.enc.version };
                if !deliver(d, &mut queue, &sub, &mut wr, &mut out, |d, out| encode_delivery(&enc, d, out)).await {
                    break;
                }
            }
            read = rd.read_buf(&mut buf) => {
                match read {
                    Ok(0) | Err(_) => break,
                    Ok(_) => {}
                }
                if buf.len() < need {
                    continue;
                }
                let (consumed, close) = answer_requests(shared, &mut session, &buf, &mut out, &mut need);
                buf.drain(..consumed);
                if buf.len() > MAX_QUERY_BUFFER {
                    session.enc.error(&mut out, "ERR Protocol error: query buffer limit reached");
                }
                if !out.is_empty() {
                    if wr.write_all(&out).await.is_err() { break; }
                    out.clear();
                }
                if close || buf.len() > MAX_QUERY_BUFFER || sub.overflowed() {
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

/// Answers every whole request at the start of `buf`; returns the bytes used and whether the
/// connection must close. `need` is set to the bytes the next request needs, when known.
fn answer_requests(
    shared: &Shared,
    session: &mut Session,
    buf: &[u8],
    out: &mut Vec<u8>,
    need: &mut usize,
) -> (usize, bool) {
    // Consecutive data commands wait here to be answered together (redis::run_group).
    let mut group: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut group_writes = false;
    let flush = |group: &mut Vec<Vec<Vec<u8>>>, writes: &mut bool, session: &Session, out: &mut Vec<u8>| {
        if !group.is_empty() {
            redis::run_group(shared, session, group, *writes, out);
            group.clear();
            *writes = false;
        }
    };
    let mut at = 0;
    *need = 0;
    loop {
        let rest = &buf[at..];
        if rest.is_empty() {
            flush(&mut group, &mut group_writes, session, out);
            return (at, false);
        }
        match resp::parse(rest, &shared.config.limits) {
            Ok(Parsed::Incomplete(n)) => {
                *need = n;
                flush(&mut group, &mut group_writes, session, out);
                return (at, false);
            }
            Ok(Parsed::Request(spans, used)) => {
                let args: Vec<&[u8]> = spans.iter().map(|r| &rest[r.clone()]).collect();
                at += used;
                if let Some(writes) = redis::groupable(session, &args) {
                    group.push(args.iter().map(|a| a.to_vec()).collect());
                    group_writes |= writes;
                    if group.len() >= MAX_GROUP {
                        flush(&mut group, &mut group_writes, session, out);
                    }
                    continue;
                }
                flush(&mut group, &mut group_writes, session, out);
                if redis::execute(shared, session, &args, out) == Action::Close {
                    return (at, true);
                }
            }
            Err(e) => {
                flush(&mut group, &mut group_writes, session, out);
                session.enc.error(out, &format!("ERR {}", e.0));
                return (buf.len(), true);
            }
        }
    }
}
