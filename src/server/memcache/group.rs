//! Answering consecutive memcache data commands (see `items::data_kind`) together, as the Redis
//! side does with a pipeline (`redis::run_group`).
//!
//! A group that writes runs in one `Db::write_atomic` over a `store::Txn`: one lock, one batch,
//! one log append for the lot. Each command still sees the effects of the ones before it and
//! gets the reply it would get alone. A group that only reads runs on a `store::Direct` at one
//! snapshot, with no lock.

use std::sync::atomic::Ordering;

use super::exec::{server_error, Config, Stats};
use super::items::{self, Tally};
use super::parse::Command;
use crate::engine::{Db, WriteOptions};
use crate::server::store::{Direct, Txn};

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
