//! Answering what a client sent in one read: the whole commands at the start of the buffer, with
//! consecutive data commands (see `items::data_kind`) answered as one group, as the Redis side
//! does with a pipeline (`redis::run_group`).
//!
//! A group that writes runs in one `Db::write_atomic` over a `store::Txn`: one lock, one batch,
//! one log append for the lot, where one-by-one execution paid each of those per command. Each
//! command still sees the effects of the ones before it and gets the reply it would get alone.
//! A group that only reads runs on a `store::Direct` at one snapshot, with no lock. Any other
//! command (stats, flush_all, watch, a refusal, an error line) ends the group before it runs, so
//! replies and effects keep the order the client sent.

use std::sync::atomic::Ordering;

use super::exec::{execute, server_error, Config, Outcome, Session, Stats};
use super::items::{self, Tally};
use super::parse::{parse, Command};
use crate::engine::{Db, WriteOptions};
use crate::server::connection::MAX_GROUP;
use crate::server::store::{Direct, Txn};

/// Whether `cmd` may join a group, and if so whether it writes: data commands only, and only
/// once the session may run them (before authentication everything goes through `execute`).
pub fn groupable(config: &Config, session: &Session, cmd: &Command<'_>) -> Option<bool> {
    if config.password.is_some() && !session.authenticated {
        return None;
    }
    items::data_kind(cmd)
}

/// Counts the command in `cmd_get`/`cmd_set`, once however often its group is tried.
fn count(stats: &Stats, cmd: &Command<'_>) {
    match cmd {
        Command::Get { keys, .. } => stats.cmd_get.fetch_add(keys.len() as u64, Ordering::Relaxed),
        Command::Store { .. } | Command::SetLine { .. } => stats.cmd_set.fetch_add(1, Ordering::Relaxed),
        _ => 0,
    };
}

fn add(stats: &Stats, tally: Tally) {
    stats.get_hits.fetch_add(tally.hits, Ordering::Relaxed);
    stats.get_misses.fetch_add(tally.misses, Ordering::Relaxed);
}

/// Answers data commands together, appending each one's reply to `out`. With `writes`, they run
/// as one atomic batch, and an engine error fails every one of them (each gets `SERVER_ERROR
/// <message>`, `noreply` or not, as a lone command would) with nothing written, since a reply
/// may depend on a write that did not happen. Without, each reads at one snapshot and an engine
/// error fails only the command that met it. # Requires: `items::data_kind` is `Some` for each
/// command, and `Some(false)` for each when `writes` is false.
pub fn run_group(db: &Db, config: &Config, cmds: &[Command<'_>], writes: bool, out: &mut Vec<u8>) {
    for cmd in cmds {
        count(&config.stats, cmd);
    }
    let mark = out.len();
    let mut tally = Tally::default();
    if !writes {
        let snapshot = match db.snapshot() {
            Ok(s) => s,
            Err(e) => return cmds.iter().for_each(|_| server_error(out, &e)),
        };
        let mut store = Direct { db, snapshot: Some(snapshot) };
        for cmd in cmds {
            let start = out.len();
            if let Err(e) = items::run(&mut store, cmd, out, &mut tally) {
                out.truncate(start);
                server_error(out, &e);
            }
        }
        return add(&config.stats, tally);
    }
    let result = db.write_atomic(WriteOptions { sync: config.sync }, |reader| {
        // The build may run more than once: each run starts from nothing.
        out.truncate(mark);
        tally = Tally::default();
        let mut txn = Txn::new(reader);
        for cmd in cmds {
            items::run(&mut txn, cmd, out, &mut tally)?;
        }
        Ok((txn.into_batch(), ()))
    });
    match result {
        Ok(()) => add(&config.stats, tally),
        Err(e) => {
            out.truncate(mark);
            cmds.iter().for_each(|_| server_error(out, &e));
        }
    }
}

/// What [`answer`] did with a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Answered {
    /// Bytes of the buffer used (commands and data discarded); the rest waits for more bytes.
    pub used: usize,
    /// Commands answered.
    pub commands: u64,
    /// The connection must close once `out` is sent (`quit`, or a framing error).
    pub close: bool,
}

/// Answers the whole commands at the start of `buf`, appending the replies to `out`. `swallow`
/// carries, from one read to the next, the bytes of a refused item's data block still to
/// discard. `subscribe` is told of `Outcome::Watch` and `Outcome::Unwatch` as they come, before
/// the next command runs. Sync writes (`config.sync`) run through `server::blocking`.
pub fn answer(
    db: &Db,
    config: &Config,
    session: &mut Session,
    buf: &[u8],
    swallow: &mut u64,
    out: &mut Vec<u8>,
    mut subscribe: impl FnMut(Outcome),
) -> Answered {
    let mut group: Vec<Command<'_>> = Vec::new();
    let mut group_writes = false;
    let flush = |group: &mut Vec<Command<'_>>, writes: &mut bool, out: &mut Vec<u8>| {
        if !group.is_empty() {
            let mut run = || run_group(db, config, group, *writes, out);
            if config.sync && *writes {
                crate::server::blocking(run)
            } else {
                run()
            }
            group.clear();
            *writes = false;
        }
    };
    let mut done = Answered { used: 0, commands: 0, close: false };
    loop {
        if *swallow > 0 {
            let skip = (*swallow).min((buf.len() - done.used) as u64);
            *swallow -= skip;
            done.used += skip as usize;
            if *swallow > 0 {
                break;
            }
        }
        let rest = &buf[done.used..];
        if rest.is_empty() {
            break;
        }
        match parse(rest, &config.limits) {
            Ok(None) => break,
            Ok(Some((cmd, used))) => {
                done.used += used;
                done.commands += 1;
                if let Some(writes) = groupable(config, session, &cmd) {
                    group.push(cmd);
                    group_writes |= writes;
                    if group.len() >= MAX_GROUP {
                        flush(&mut group, &mut group_writes, out);
                    }
                    continue;
                }
                flush(&mut group, &mut group_writes, out);
                if let Command::TooLarge { swallow: n, .. } = &cmd {
                    *swallow = *n;
                }
                let mut run = || execute(db, config, session, &cmd, out);
                match if config.sync { crate::server::blocking(run) } else { run() } {
                    Outcome::Continue => {}
                    Outcome::Close => {
                        done.close = true;
                        return done;
                    }
                    watch => subscribe(watch),
                }
            }
            Err(e) => {
                flush(&mut group, &mut group_writes, out);
                out.extend_from_slice(e.reply.as_bytes());
                done.used = buf.len();
                done.close = true;
                return done;
            }
        }
    }
    flush(&mut group, &mut group_writes, out);
    done
}

#[cfg(test)]
mod tests {
    use std::sync::{mpsc, Arc, Mutex};
    use std::time::Duration;

    use crate::engine::env::{FaultFs, FaultKind, MemFs};
    use crate::engine::key::ValueKind;
    use crate::engine::write_batch::WriteBatch;
    use crate::engine::ReadOptions;
    use crate::server::memcache::exec::NO_EXPIRY;
    use crate::server::memcache::items::{cas_of, flags_key, NON_NUMERIC};
    use crate::server::memcache::testing::Conn;

    /// One op of a batch: whether it is a put, the key, the value.
    type Op = (bool, Vec<u8>, Vec<u8>);

    /// Every batch written to `c`'s database from now on.
    fn record(c: &Conn) -> Arc<Mutex<Vec<Vec<Op>>>> {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        c.db.add_change_listener(Arc::new(move |batch: &WriteBatch| {
            let ops =
                batch.iter().flatten().map(|op| (op.kind == ValueKind::Value, op.key.to_vec(), op.value.to_vec()));
            sink.lock().unwrap().push(ops.collect());
        }));
        seen
    }

    #[test]
    fn a_mixed_pipeline_gets_the_replies_of_one_by_one_execution() {
        let one = cas_of(b"1", 0);
        let input = [
            "set a 0 0 1\r\n1\r\n",
            "get a\r\n",
            "add a 0 0 1\r\nx\r\n",
            "gets a\r\n",
            &format!("cas a 7 0 2 {one}\r\n22\r\n"),
            &format!("cas a 0 0 1 {one}\r\nz\r\n"),
            "gets a\r\n",
            "incr a 5\r\n",
            "get a\r\n",
            "delete a\r\n",
            "add a 0 0 1\r\nq\r\n",
            "get a\r\n",
            "set b 3 0 1 noreply\r\nb\r\n",
            "append b 0 0 1 noreply\r\nc\r\n",
            "incr b 1 noreply\r\n",
            "decr missing 1 noreply\r\n",
            "gets b\r\n",
            "set c 0 60 1\r\nx\r\n",
            "replace c 0 0 1\r\ny\r\n",
            "touch a 0\r\n",
            "touch a 60\r\n",
            "delete a noreply\r\n",
            "delete a\r\n",
            "set line hello there\r\n",
            "prepend line 0 0 2\r\n>>\r\n",
            "get line b a\r\n",
            "stats\r\n",
            "set b 0 0 1\r\nB\r\n",
            "get b\r\n",
        ]
        .concat();
        let mut grouped = Conn::new(None);
        let mut alone = Conn::new(None);
        let (replies, _) = grouped.send_all(input.as_bytes());
        assert_eq!(replies, alone.send_one_by_one(input.as_bytes()));
        assert_eq!(grouped.entries(), alone.entries());
        // And those replies are the right ones, so that the two cannot agree on a wrong answer.
        let bc = cas_of(b"bc", 3);
        let expected = [
            "STORED\r\n",
            "VALUE a 0 1\r\n1\r\nEND\r\n",
            "NOT_STORED\r\n",
            &format!("VALUE a 0 1 {one}\r\n1\r\nEND\r\n"),
            "STORED\r\n",
            "EXISTS\r\n",
            &format!("VALUE a 7 2 {}\r\n22\r\nEND\r\n", cas_of(b"22", 7)),
            "27\r\n",
            "VALUE a 7 2\r\n27\r\nEND\r\n",
            "DELETED\r\n",
            "STORED\r\n",
            "VALUE a 0 1\r\nq\r\nEND\r\n",
            NON_NUMERIC,
            &format!("VALUE b 3 2 {bc}\r\nbc\r\nEND\r\n"),
            NO_EXPIRY,
            "NOT_STORED\r\n",
            "TOUCHED\r\n",
            NO_EXPIRY,
            "NOT_FOUND\r\n",
            "STORED\r\n",
            "STORED\r\n",
            "VALUE line 0 13\r\n>>hello there\r\nVALUE b 3 2\r\nbc\r\nEND\r\n",
        ]
        .concat();
        assert!(replies.starts_with(&expected), "{replies}");
        assert!(replies.ends_with("END\r\nSTORED\r\nVALUE b 0 1\r\nB\r\nEND\r\n"), "{replies}");
        assert!(
            replies.contains("STAT cmd_get 9\r\nSTAT cmd_set 11\r\nSTAT get_hits 8\r\nSTAT get_misses 1\r\n"),
            "{replies}"
        );
        assert_eq!(grouped.db.get(&flags_key(b"b"), &ReadOptions::default()).unwrap(), None);
    }

    #[test]
    fn a_group_is_one_batch_in_command_order() {
        let mut c = Conn::new(None);
        let seen = record(&c);
        let input =
            "set a 0 0 1\r\n1\r\nset b 5 0 1\r\n2\r\nget a\r\ndelete a\r\nincr b 3\r\nversion\r\nset c 0 0 1\r\n3\r\n";
        let replies = c.send(input);
        assert_eq!(
            replies,
            "STORED\r\nSTORED\r\nVALUE a 0 1\r\n1\r\nEND\r\nDELETED\r\n5\r\nVERSION todb-0.1.0\r\nSTORED\r\n"
        );
        let put = |k: &[u8], v: &[u8]| (true, k.to_vec(), v.to_vec());
        let batches = seen.lock().unwrap().clone();
        assert_eq!(
            batches,
            vec![
                vec![
                    put(b"a", b"1"),
                    put(b"b", b"2"),
                    put(&flags_key(b"b"), b"5"),
                    (false, b"a".to_vec(), vec![]),
                    put(b"b", b"5")
                ],
                vec![put(b"c", b"3")],
            ]
        );
        // A plain set of an item without flags writes its value and nothing else.
        seen.lock().unwrap().clear();
        c.send("set c 0 0 1\r\n4\r\n");
        assert_eq!(*seen.lock().unwrap(), vec![vec![put(b"c", b"4")]]);
    }

    #[test]
    fn a_group_that_only_reads_takes_no_lock() {
        let mut c = Conn::new(None);
        c.send("set a 9 0 1\r\n1\r\n");
        let (held, release) = (mpsc::channel(), mpsc::channel::<()>());
        let db = c.db.clone();
        let writer = std::thread::spawn(move || {
            db.write_atomic(Default::default(), |_| {
                let _ = held.0.send(());
                Ok((WriteBatch::new(), release.1.recv_timeout(Duration::from_secs(5))))
            })
            .unwrap()
        });
        held.1.recv().unwrap();
        assert_eq!(c.send("get a\r\ngets nope\r\ntouch a 0\r\n"), "VALUE a 9 1\r\n1\r\nEND\r\nEND\r\nTOUCHED\r\n");
        release.0.send(()).unwrap();
        assert!(writer.join().unwrap().is_ok(), "the reads waited for the write lock");
    }

    #[test]
    fn an_engine_error_fails_the_whole_group_and_writes_nothing() {
        let fs = FaultFs::new(Arc::new(MemFs::new()));
        let mut c = Conn::on(Arc::new(fs.clone()), None);
        c.send("set t 0 0 2\r\nt0\r\n");
        // In a table, so that reading it needs the file system, where the fault is.
        c.db.compact_range(None, None).unwrap();
        fs.fail_at(1, &[FaultKind::Read], true);
        let replies =
            c.send("set a 0 0 1\r\n1\r\nget t\r\nset b 0 0 1 noreply\r\n2\r\nversion\r\nget x\r\nget t\r\nget y\r\n");
        let lines: Vec<&str> = replies.split_inclusive("\r\n").collect();
        assert_eq!(lines.len(), 7, "{replies}");
        assert!(lines[0].starts_with("SERVER_ERROR ") && lines[0..3].iter().all(|l| *l == lines[0]), "{replies}");
        // A group that only reads fails only where it met the error.
        assert_eq!(lines[3..], ["VERSION todb-0.1.0\r\n", "END\r\n", lines[0], "END\r\n"], "{replies}");
        fs.heal();
        assert_eq!(c.send("get a b t\r\n"), "VALUE t 0 2\r\nt0\r\nEND\r\n");
    }

    #[test]
    fn authentication_gates_the_group_it_opens() {
        let input = "get k\r\nset k 0 0 1\r\nx\r\nset auth 0 0 4\r\nu pw\r\nset k 0 0 1\r\ny\r\nget k\r\n";
        let mut grouped = Conn::new(Some("pw"));
        let replies = grouped.send(input);
        assert_eq!(replies, Conn::new(Some("pw")).send_one_by_one(input.as_bytes()));
        let (unauthenticated, failure) = (super::super::exec::UNAUTHENTICATED, super::super::exec::AUTH_FAILURE);
        assert_eq!(replies, format!("{unauthenticated}{failure}STORED\r\nSTORED\r\nVALUE k 0 1\r\ny\r\nEND\r\n"));
    }
}
