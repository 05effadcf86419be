//! The Redis commands todb answers, over the engine. One [`Session`] per connection; `execute`
//! answers one request into the connection's output buffer.
//!
//! Every key is a string key; values are the bytes JavaScript reads with `db.get`. Writing
//! commands run as one atomic batch each (see `store.rs`); MULTI/EXEC runs the queued commands
//! as one batch. todb keeps no expiry times, so SET's EX/PX/EXAT/PXAT options are refused, as
//! the issue asks, rather than silently ignored. `RANGE` is todb's own: an ordered range read.

use std::collections::HashSet;
use std::ops::Bound;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::hub::Subscriber;
use super::resp::Encoder;
use super::store::{Direct, Store, Txn};
use super::{glob, Shared};
use crate::engine::{Error, Result, WriteOptions};

/// What the connection does after a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Action {
    /// Read the next request.
    Continue,
    /// Send what is buffered, then close.
    Close,
}

/// The state of one client connection.
pub struct Session {
    /// CLIENT ID.
    pub id: u64,
    name: Option<Vec<u8>>,
    authenticated: bool,
    /// The reply encoder, RESP2 until `HELLO 3`.
    pub enc: Encoder,
    multi: Option<Vec<Vec<Vec<u8>>>>,
    multi_failed: bool,
    channels: HashSet<Vec<u8>>,
    patterns: HashSet<Vec<u8>>,
    /// This connection's end of the hub.
    pub sub: Arc<Subscriber>,
}

impl Session {
    /// A new connection's session.
    pub fn new(id: u64, shared: &Shared, sub: Arc<Subscriber>) -> Session {
        Session {
            id,
            name: None,
            authenticated: shared.config.password.is_none(),
            enc: Encoder { version: 2 },
            multi: None,
            multi_failed: false,
            channels: HashSet::new(),
            patterns: HashSet::new(),
            sub,
        }
    }

    fn subscriptions(&self) -> usize {
        self.channels.len() + self.patterns.len()
    }
}

fn upper(arg: &[u8]) -> Vec<u8> {
    arg.to_ascii_uppercase()
}

fn int_arg(arg: &[u8]) -> Option<i64> {
    std::str::from_utf8(arg).ok()?.parse().ok()
}

const NOT_INT: &str = "ERR value is not an integer or out of range";
const SYNTAX: &str = "ERR syntax error";

fn wrong_args(enc: &Encoder, out: &mut Vec<u8>, name: &[u8]) {
    let name = String::from_utf8_lossy(name).to_lowercase();
    enc.error(out, &format!("ERR wrong number of arguments for '{name}' command"));
}

fn engine_error(enc: &Encoder, out: &mut Vec<u8>, e: &Error) {
    enc.error(out, &format!("ERR {e}"));
}

/// The arity of a data command (Redis's convention: negative means at least that many, as in
/// [`COMMANDS`]) and whether it writes; `None` for any other command.
fn command_info(name: &[u8]) -> Option<(i32, bool)> {
    let writes = match name {
        b"GET" | b"STRLEN" | b"EXISTS" | b"MGET" | b"KEYS" | b"SCAN" | b"DBSIZE" | b"RANGE" => false,
        b"SET" | b"GETDEL" | b"MSET" | b"MSETNX" | b"DEL" | b"UNLINK" | b"APPEND" | b"INCR" | b"DECR" | b"INCRBY"
        | b"DECRBY" | b"FLUSHDB" | b"FLUSHALL" => true,
        _ => return None,
    };
    let (_, arity) = COMMANDS.iter().find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(name))?;
    Some((*arity, writes))
}

/// The names COMMAND lists, with their arity.
const COMMANDS: &[(&str, i32)] = &[
    ("ping", -1),
    ("echo", 2),
    ("quit", -1),
    ("hello", -1),
    ("auth", -2),
    ("select", 2),
    ("client", -2),
    ("command", -1),
    ("info", -1),
    ("config", -2),
    ("dbsize", 1),
    ("get", 2),
    ("set", -3),
    ("getdel", 2),
    ("mget", -2),
    ("mset", -3),
    ("msetnx", -3),
    ("del", -2),
    ("unlink", -2),
    ("exists", -2),
    ("strlen", 2),
    ("append", 3),
    ("incr", 2),
    ("decr", 2),
    ("incrby", 3),
    ("decrby", 3),
    ("keys", 2),
    ("scan", -2),
    ("flushdb", -1),
    ("flushall", -1),
    ("multi", 1),
    ("exec", 1),
    ("discard", 1),
    ("subscribe", -2),
    ("psubscribe", -2),
    ("unsubscribe", -1),
    ("punsubscribe", -1),
    ("publish", 3),
    ("pubsub", -2),
    ("range", -3),
];

fn arity_ok(arity: i32, n: usize) -> bool {
    if arity >= 0 {
        n == arity as usize
    } else {
        n >= (-arity) as usize
    }
}

/// Whether the request is a data command that may join a group answered together (see
/// [`run_group`]), and if so whether it writes. Anything else goes through [`execute`].
pub fn groupable(s: &Session, args: &[&[u8]]) -> Option<bool> {
    let first = args.first()?;
    if !s.authenticated || s.multi.is_some() || s.subscriptions() > 0 {
        return None;
    }
    let (arity, writes) = command_info(&upper(first))?;
    arity_ok(arity, args.len()).then_some(writes)
}

/// Answers consecutive data commands of one pipeline together: as one atomic batch when any of
/// them writes (one lock, one log append for the lot), or as plain reads. Each gets its own
/// reply, as if run one by one. # Requires: `groupable` accepted each.
pub fn run_group(shared: &Shared, s: &Session, cmds: &[Vec<Vec<u8>>], writes: bool, out: &mut Vec<u8>) {
    shared.stats.commands.fetch_add(cmds.len() as u64, Ordering::Relaxed);
    run_data_commands(shared, &s.enc, cmds, writes, false, out);
}

/// Answers one request. `args[0]` is the command name.
pub fn execute(shared: &Shared, s: &mut Session, args: &[&[u8]], out: &mut Vec<u8>) -> Action {
    let Some(first) = args.first() else { return Action::Continue };
    let name = upper(first);
    shared.stats.commands.fetch_add(1, Ordering::Relaxed);
    let enc = Encoder { version: s.enc.version };

    if !s.authenticated && !matches!(name.as_slice(), b"AUTH" | b"HELLO" | b"QUIT") {
        enc.error(out, "NOAUTH Authentication required.");
        return Action::Continue;
    }
    if s.multi.is_some() && !matches!(name.as_slice(), b"EXEC" | b"DISCARD" | b"MULTI" | b"QUIT" | b"WATCH") {
        match command_info(&name) {
            Some((arity, _)) if arity_ok(arity, args.len()) => {
                if let Some(q) = s.multi.as_mut() {
                    q.push(args.iter().map(|a| a.to_vec()).collect());
                }
                enc.simple(out, "QUEUED");
            }
            Some(_) => {
                s.multi_failed = true;
                wrong_args(&enc, out, first);
            }
            None => {
                s.multi_failed = true;
                enc.error(out, &format!("ERR command '{}' cannot be used inside MULTI in todb", lossy(first)));
            }
        }
        return Action::Continue;
    }
    if s.subscriptions() > 0
        && s.enc.version < 3
        && !matches!(
            name.as_slice(),
            b"SUBSCRIBE" | b"PSUBSCRIBE" | b"UNSUBSCRIBE" | b"PUNSUBSCRIBE" | b"PING" | b"QUIT" | b"RESET"
        )
    {
        enc.error(
            out,
            &format!(
                "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
                lossy(first).to_lowercase()
            ),
        );
        return Action::Continue;
    }

    if let Some((arity, writes)) = command_info(&name) {
        if !arity_ok(arity, args.len()) {
            wrong_args(&enc, out, first);
            return Action::Continue;
        }
        run_data_commands(shared, &enc, &[args.iter().map(|a| a.to_vec()).collect()], writes, false, out);
        return Action::Continue;
    }

    match name.as_slice() {
        b"PING" => {
            if s.subscriptions() > 0 && s.enc.version < 3 {
                enc.array(out, 2);
                enc.bulk(out, b"pong");
                enc.bulk(out, args.get(1).copied().unwrap_or(b""));
            } else if let Some(msg) = args.get(1) {
                enc.bulk(out, msg);
            } else {
                enc.simple(out, "PONG");
            }
        }
        b"ECHO" => match args {
            [_, msg] => enc.bulk(out, msg),
            _ => wrong_args(&enc, out, first),
        },
        b"QUIT" => {
            enc.simple(out, "OK");
            return Action::Close;
        }
        b"AUTH" => {
            let given = match args {
                [_, pw] => Some(*pw),
                [_, _user, pw] => Some(*pw),
                _ => None,
            };
            match (given, &shared.config.password) {
                (None, _) => wrong_args(&enc, out, first),
                (Some(_), None) => enc.error(
                    out,
                    "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
                ),
                (Some(pw), Some(want)) if pw == want.as_bytes() => {
                    s.authenticated = true;
                    enc.simple(out, "OK");
                }
                _ => enc.error(out, "WRONGPASS invalid username-password pair or user is disabled."),
            }
        }
        b"HELLO" => hello(shared, s, args, out),
        b"SELECT" => match args.get(1).and_then(|a| int_arg(a)) {
            Some(0) => enc.simple(out, "OK"),
            Some(_) => enc.error(out, "ERR DB index is out of range"),
            None => enc.error(out, NOT_INT),
        },
        b"CLIENT" => client(s, &enc, args, out),
        b"COMMAND" => command(&enc, args, out),
        b"INFO" => {
            let text = super::info::info(shared, args.get(1).map(|a| lossy(a).to_lowercase()));
            enc.verbatim(out, &text);
        }
        b"CONFIG" => config(shared, &enc, args, out),
        b"MULTI" => {
            if s.multi.is_some() {
                enc.error(out, "ERR MULTI calls can not be nested");
            } else {
                s.multi = Some(Vec::new());
                s.multi_failed = false;
                enc.simple(out, "OK");
            }
        }
        b"EXEC" => match s.multi.take() {
            None => enc.error(out, "ERR EXEC without MULTI"),
            Some(_) if s.multi_failed => {
                s.multi_failed = false;
                enc.error(out, "EXECABORT Transaction discarded because of previous errors.");
            }
            Some(queue) => run_data_commands(shared, &enc, &queue, true, true, out),
        },
        b"DISCARD" => {
            if s.multi.take().is_some() {
                enc.simple(out, "OK");
            } else {
                enc.error(out, "ERR DISCARD without MULTI");
            }
        }
        b"WATCH" | b"UNWATCH" => enc.error(out, "ERR WATCH is not supported by todb: MULTI/EXEC is already atomic"),
        b"SUBSCRIBE" | b"PSUBSCRIBE" => subscribe(shared, s, &enc, args, name == b"PSUBSCRIBE", out),
        b"UNSUBSCRIBE" | b"PUNSUBSCRIBE" => unsubscribe(shared, s, &enc, args, name == b"PUNSUBSCRIBE", out),
        b"PUBLISH" => match args {
            [_, channel, msg] => {
                let n = shared.hub.publish(channel, msg);
                enc.int(out, n as i64);
            }
            _ => wrong_args(&enc, out, first),
        },
        b"PUBSUB" => match args.get(1).map(|a| upper(a)).as_deref() {
            Some(b"CHANNELS") => {
                let list = shared.hub.channels(args.get(2).copied());
                enc.array(out, list.len());
                for c in list {
                    enc.bulk(out, &c);
                }
            }
            _ => enc.error(out, "ERR todb answers PUBSUB CHANNELS only"),
        },
        b"RESET" => {
            shared.hub.remove(&s.sub);
            s.channels.clear();
            s.patterns.clear();
            s.multi = None;
            s.enc.version = 2;
            enc.simple(out, "RESET");
        }
        _ => {
            let rest: Vec<String> = args.iter().skip(1).take(8).map(|a| format!("'{}'", lossy(a))).collect();
            enc.error(
                out,
                &format!("ERR unknown command '{}', with args beginning with: {}", lossy(first), rest.join(" ")),
            );
        }
    }
    Action::Continue
}

fn lossy(a: &[u8]) -> String {
    String::from_utf8_lossy(a).into_owned()
}

/// Runs data commands: one, or a transaction's queue (`exec`: replies in an array). Writers run
/// in one `write_atomic`; readers read directly.
fn run_data_commands(
    shared: &Shared,
    enc: &Encoder,
    cmds: &[Vec<Vec<u8>>],
    writes: bool,
    exec: bool,
    out: &mut Vec<u8>,
) {
    let mark = out.len();
    if !writes {
        let mut store = Direct { db: &shared.db, snapshot: None };
        for cmd in cmds {
            let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_slice()).collect();
            if let Err(e) = data_command(shared, enc, &mut store, &args, out) {
                engine_error(enc, out, &e);
            }
        }
        return;
    }
    let options = WriteOptions { sync: shared.config.sync.load(Ordering::Relaxed) };
    let result = shared.db.write_atomic(options, |reader| {
        out.truncate(mark);
        if exec {
            enc.array(out, cmds.len());
        }
        let mut txn = Txn::new(reader);
        for cmd in cmds {
            let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_slice()).collect();
            match data_command(shared, enc, &mut txn, &args, out) {
                Ok(()) => {}
                // Only the engine's own errors abandon the batch; a command's error (a value
                // that is not an integer) is a reply, as in Redis, and the rest still runs.
                Err(e) => return Err(e),
            }
        }
        Ok((txn.into_batch(), ()))
    });
    if let Err(e) = result {
        out.truncate(mark);
        // EXEC answers once; a pipeline's group owes each of its commands a reply, or the
        // client would pair every later reply with the wrong command.
        for _ in 0..if exec { 1 } else { cmds.len() } {
            engine_error(enc, out, &e);
        }
    }
}

fn parse_incr(v: Option<&[u8]>) -> Option<i64> {
    match v {
        None => Some(0),
        Some(v) if v.len() <= 20 => std::str::from_utf8(v).ok()?.parse().ok(),
        Some(_) => None,
    }
}

/// One data command over `store`. Command errors are written as replies; only engine errors
/// are returned.
fn data_command(
    shared: &Shared,
    enc: &Encoder,
    store: &mut dyn Store,
    args: &[&[u8]],
    out: &mut Vec<u8>,
) -> Result<()> {
    let name = upper(args[0]);
    match name.as_slice() {
        b"GET" => enc.opt_bulk(out, store.get(args[1])?.as_deref()),
        b"STRLEN" => enc.int(out, store.get(args[1])?.map_or(0, |v| v.len() as i64)),
        b"EXISTS" => {
            let mut n = 0;
            for k in &args[1..] {
                n += i64::from(store.get(k)?.is_some());
            }
            enc.int(out, n);
        }
        b"MGET" => {
            enc.array(out, args.len() - 1);
            for k in &args[1..] {
                enc.opt_bulk(out, store.get(k)?.as_deref());
            }
        }
        b"SET" => set(enc, store, args, out)?,
        b"GETDEL" => {
            let old = store.get(args[1])?;
            if old.is_some() {
                store.del(args[1])?;
            }
            enc.opt_bulk(out, old.as_deref());
        }
        b"MSET" | b"MSETNX" => {
            if args.len() % 2 != 1 {
                wrong_args(enc, out, args[0]);
                return Ok(());
            }
            if name == b"MSETNX" {
                for pair in args[1..].chunks(2) {
                    if store.get(pair[0])?.is_some() {
                        enc.int(out, 0);
                        return Ok(());
                    }
                }
            }
            for pair in args[1..].chunks(2) {
                store.put(pair[0], pair[1])?;
            }
            if name == b"MSETNX" {
                enc.int(out, 1)
            } else {
                enc.simple(out, "OK")
            }
        }
        b"DEL" | b"UNLINK" => {
            let mut n = 0;
            for k in &args[1..] {
                if store.get(k)?.is_some() {
                    store.del(k)?;
                    n += 1;
                }
            }
            enc.int(out, n);
        }
        b"APPEND" => {
            let mut v = store.get(args[1])?.unwrap_or_default();
            v.extend_from_slice(args[2]);
            store.put(args[1], &v)?;
            enc.int(out, v.len() as i64);
        }
        b"INCR" | b"DECR" | b"INCRBY" | b"DECRBY" => {
            let by = match name.as_slice() {
                b"INCR" => Some(1),
                b"DECR" => Some(-1),
                b"INCRBY" => int_arg(args[2]),
                _ => int_arg(args[2]).and_then(|n| n.checked_neg()),
            };
            let Some(by) = by else {
                enc.error(out, NOT_INT);
                return Ok(());
            };
            let Some(n) = parse_incr(store.get(args[1])?.as_deref()) else {
                enc.error(out, NOT_INT);
                return Ok(());
            };
            match n.checked_add(by) {
                Some(m) => {
                    store.put(args[1], m.to_string().as_bytes())?;
                    enc.int(out, m);
                }
                None => enc.error(out, "ERR increment or decrement would overflow"),
            }
        }
        b"KEYS" => {
            let pattern = args[1];
            let prefix = glob::literal_prefix(pattern);
            let mut keys = Vec::new();
            store.scan(Bound::Included(prefix.clone()), Bound::Unbounded, false, &mut |k, _| {
                if !k.starts_with(&prefix) {
                    return false;
                }
                if glob::matches(pattern, k) {
                    keys.push(k.to_vec());
                }
                true
            })?;
            enc.array(out, keys.len());
            for k in keys {
                enc.bulk(out, &k);
            }
        }
        b"DBSIZE" => {
            let mut n = 0i64;
            store.scan(Bound::Unbounded, Bound::Unbounded, false, &mut |_, _| {
                n += 1;
                true
            })?;
            enc.int(out, n);
        }
        b"FLUSHDB" | b"FLUSHALL" => {
            // Reserved keys go too: a flush empties the database.
            store.clear()?;
            enc.simple(out, "OK");
        }
        b"SCAN" => super::scan::scan(shared, enc, store, args, out)?,
        b"RANGE" => super::scan::range(enc, store, args, out)?,
        _ => enc.error(out, SYNTAX),
    }
    Ok(())
}

fn set(enc: &Encoder, store: &mut dyn Store, args: &[&[u8]], out: &mut Vec<u8>) -> Result<()> {
    let (mut nx, mut xx, mut get) = (false, false, false);
    for opt in &args[3..] {
        match upper(opt).as_slice() {
            b"NX" => nx = true,
            b"XX" => xx = true,
            b"GET" => get = true,
            b"KEEPTTL" => {}
            b"EX" | b"PX" | b"EXAT" | b"PXAT" => {
                enc.error(out, "ERR todb does not expire keys: SET's EX, PX, EXAT and PXAT options are not supported");
                return Ok(());
            }
            _ => {
                enc.error(out, SYNTAX);
                return Ok(());
            }
        }
    }
    if nx && xx {
        enc.error(out, SYNTAX);
        return Ok(());
    }
    let old = if nx || xx || get { store.get(args[1])? } else { None };
    let allowed = !(nx && old.is_some() || xx && old.is_none());
    if allowed {
        store.put(args[1], args[2])?;
    }
    if get {
        enc.opt_bulk(out, old.as_deref());
    } else if allowed {
        enc.simple(out, "OK");
    } else {
        enc.null(out);
    }
    Ok(())
}

fn hello(shared: &Shared, s: &mut Session, args: &[&[u8]], out: &mut Vec<u8>) {
    let mut version = s.enc.version;
    let mut i = 1;
    if let Some(v) = args.get(1) {
        match int_arg(v) {
            Some(v @ 2..=3) => version = v as u8,
            _ => {
                s.enc.error(out, "NOPROTO unsupported protocol version");
                return;
            }
        }
        i = 2;
    }
    while i < args.len() {
        match upper(args[i]).as_slice() {
            b"AUTH" if i + 2 < args.len() => {
                let ok = shared.config.password.as_ref().is_none_or(|p| p.as_bytes() == args[i + 2]);
                if !ok {
                    s.enc.error(out, "WRONGPASS invalid username-password pair or user is disabled.");
                    return;
                }
                s.authenticated = true;
                i += 3;
            }
            b"SETNAME" if i + 1 < args.len() => {
                s.name = Some(args[i + 1].to_vec());
                i += 2;
            }
            _ => {
                s.enc.error(out, SYNTAX);
                return;
            }
        }
    }
    if !s.authenticated {
        s.enc.error(out, "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
        return;
    }
    s.enc.version = version;
    let enc = &s.enc;
    enc.map(out, 7);
    enc.bulk(out, b"server");
    enc.bulk(out, b"redis");
    enc.bulk(out, b"version");
    enc.bulk(out, super::info::REDIS_VERSION.as_bytes());
    enc.bulk(out, b"proto");
    enc.int(out, i64::from(version));
    enc.bulk(out, b"id");
    enc.int(out, s.id as i64);
    enc.bulk(out, b"mode");
    enc.bulk(out, b"standalone");
    enc.bulk(out, b"role");
    enc.bulk(out, b"master");
    enc.bulk(out, b"modules");
    enc.array(out, 0);
}

fn client(s: &mut Session, enc: &Encoder, args: &[&[u8]], out: &mut Vec<u8>) {
    match args.get(1).map(|a| upper(a)).as_deref() {
        Some(b"SETNAME") if args.len() == 3 => {
            if args[2].iter().any(|&b| b <= b' ' || b > b'~') {
                enc.error(out, "ERR Client names cannot contain spaces, newlines or special characters.");
            } else {
                s.name = Some(args[2].to_vec());
                enc.simple(out, "OK");
            }
        }
        Some(b"GETNAME") => enc.opt_bulk(out, s.name.as_deref()),
        Some(b"ID") => enc.int(out, s.id as i64),
        Some(b"SETINFO") => enc.simple(out, "OK"),
        _ => enc.error(out, "ERR todb answers CLIENT SETNAME, GETNAME, ID and SETINFO"),
    }
}

fn command(enc: &Encoder, args: &[&[u8]], out: &mut Vec<u8>) {
    match args.get(1).map(|a| upper(a)).as_deref() {
        None => {
            enc.array(out, COMMANDS.len());
            for (name, arity) in COMMANDS {
                enc.array(out, 6);
                enc.bulk(out, name.as_bytes());
                enc.int(out, i64::from(*arity));
                enc.array(out, 0);
                let keyed = !matches!(
                    *name,
                    "ping"
                        | "echo"
                        | "quit"
                        | "hello"
                        | "auth"
                        | "select"
                        | "client"
                        | "command"
                        | "info"
                        | "config"
                        | "dbsize"
                        | "keys"
                        | "scan"
                        | "flushdb"
                        | "flushall"
                        | "multi"
                        | "exec"
                        | "discard"
                        | "subscribe"
                        | "psubscribe"
                        | "unsubscribe"
                        | "punsubscribe"
                        | "publish"
                        | "pubsub"
                );
                let first = i64::from(keyed);
                enc.int(out, first);
                enc.int(out, if keyed && *arity < 0 { -1 } else { first });
                enc.int(out, first);
            }
        }
        Some(b"COUNT") => enc.int(out, COMMANDS.len() as i64),
        Some(b"DOCS") => enc.map(out, 0),
        _ => enc.array(out, 0),
    }
}

fn config(shared: &Shared, enc: &Encoder, args: &[&[u8]], out: &mut Vec<u8>) {
    let cfg = &shared.config;
    match (args.get(1).map(|a| upper(a)).as_deref(), args.get(2), args.get(3)) {
        (Some(b"GET"), Some(pattern), None) => {
            let all = [
                ("appendfsync", if cfg.sync.load(Ordering::Relaxed) { "always" } else { "no" }.to_string()),
                ("appendonly", "yes".to_string()),
                ("databases", "1".to_string()),
                ("maxclients", cfg.max_clients.to_string()),
                ("proto-max-bulk-len", cfg.limits.max_bulk.to_string()),
                ("notify-keyspace-events", if cfg.notify.load(Ordering::Relaxed) { "KE$g" } else { "" }.to_string()),
                ("save", String::new()),
            ];
            let hits: Vec<_> =
                all.iter().filter(|(n, _)| glob::matches(&pattern.to_ascii_lowercase(), n.as_bytes())).collect();
            enc.map(out, hits.len());
            for (n, v) in hits {
                enc.bulk(out, n.as_bytes());
                enc.bulk(out, v.as_bytes());
            }
        }
        (Some(b"SET"), Some(name), Some(value)) if args.len() == 4 => {
            match (name.to_ascii_lowercase().as_slice(), value.to_ascii_lowercase().as_slice()) {
                (b"appendfsync", b"always") => cfg.sync.store(true, Ordering::Relaxed),
                (b"appendfsync", b"everysec" | b"no") => cfg.sync.store(false, Ordering::Relaxed),
                (b"notify-keyspace-events", v) => cfg.notify.store(!v.is_empty(), Ordering::Relaxed),
                (b"save" | b"appendonly", _) => {}
                _ => {
                    enc.error(out, &format!("ERR todb cannot set '{}' to '{}'", lossy(name), lossy(value)));
                    return;
                }
            }
            enc.simple(out, "OK");
        }
        (Some(b"RESETSTAT"), None, None) => enc.simple(out, "OK"),
        _ => enc.error(out, "ERR todb answers CONFIG GET <pattern>, CONFIG SET <name> <value> and CONFIG RESETSTAT"),
    }
}

fn subscribe(shared: &Shared, s: &mut Session, enc: &Encoder, args: &[&[u8]], pattern: bool, out: &mut Vec<u8>) {
    if args.len() < 2 {
        wrong_args(enc, out, args[0]);
        return;
    }
    for ch in &args[1..] {
        if pattern {
            if shared.hub.psubscribe(&s.sub, ch) {
                s.patterns.insert(ch.to_vec());
            }
        } else if shared.hub.subscribe(&s.sub, ch) {
            s.channels.insert(ch.to_vec());
        }
        enc.push(out, 3);
        enc.bulk(out, if pattern { b"psubscribe" } else { b"subscribe" });
        enc.bulk(out, ch);
        enc.int(out, s.subscriptions() as i64);
    }
}

fn unsubscribe(shared: &Shared, s: &mut Session, enc: &Encoder, args: &[&[u8]], pattern: bool, out: &mut Vec<u8>) {
    let kind: &[u8] = if pattern { b"punsubscribe" } else { b"unsubscribe" };
    let mut names: Vec<Vec<u8>> = args[1..].iter().map(|a| a.to_vec()).collect();
    if names.is_empty() {
        names = if pattern { s.patterns.iter().cloned().collect() } else { s.channels.iter().cloned().collect() };
        names.sort();
        if names.is_empty() {
            enc.push(out, 3);
            enc.bulk(out, kind);
            enc.null(out);
            enc.int(out, s.subscriptions() as i64);
            return;
        }
    }
    for ch in names {
        if pattern {
            shared.hub.punsubscribe(&s.sub, &ch);
            s.patterns.remove(&ch);
        } else {
            shared.hub.unsubscribe(&s.sub, &ch);
            s.channels.remove(&ch);
        }
        enc.push(out, 3);
        enc.bulk(out, kind);
        enc.bulk(out, &ch);
        enc.int(out, s.subscriptions() as i64);
    }
}
