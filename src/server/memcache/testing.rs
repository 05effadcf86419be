//! A connection without a socket, for the memcache tests: bytes are fed as one read from the
//! client and answered command by command.

use std::path::Path;
use std::sync::Arc;

use super::exec::{execute, Config, Outcome, Session};
use super::parse::{parse, Command, ProtoError};
use crate::engine::env::{Fs, MemFs};
use crate::engine::{Db, Options};

/// A database and one connection's state.
pub struct Conn {
    pub db: Db,
    pub config: Config,
    pub session: Session,
}

impl Conn {
    /// A connection to a new in-memory database.
    pub fn new(password: Option<&str>) -> Conn {
        Conn::on(Arc::new(MemFs::new()), password)
    }

    /// A connection to a new database on `fs`.
    pub fn on(fs: Arc<dyn Fs>, password: Option<&str>) -> Conn {
        let db = Db::open(fs, Path::new("/db"), Options::default()).unwrap();
        let config = Config { password: password.map(str::to_string), ..Config::default() };
        Conn { db, config, session: Session::default() }
    }

    /// Feeds `input` as one read from the socket; returns the replies and the last outcome.
    pub fn send_all(&mut self, input: &[u8]) -> (String, Outcome) {
        let (mut out, mut at, mut outcome) = (Vec::new(), 0, Outcome::Continue);
        loop {
            match parse(&input[at..], &self.config.limits) {
                Ok(Some((cmd, n))) => {
                    at += n;
                    outcome = execute(&self.db, &self.config, &mut self.session, &cmd, &mut out);
                    if outcome == Outcome::Close {
                        break;
                    }
                    if let Command::TooLarge { swallow, .. } = cmd {
                        at += swallow as usize;
                    }
                }
                Ok(None) => break,
                Err(ProtoError { reply }) => {
                    out.extend_from_slice(reply.as_bytes());
                    outcome = Outcome::Close;
                    break;
                }
            }
        }
        if outcome != Outcome::Close {
            assert_eq!(at, input.len(), "left over");
        }
        (String::from_utf8(out).unwrap(), outcome)
    }

    /// [`Conn::send_all`]'s replies.
    pub fn send(&mut self, input: &str) -> String {
        self.send_all(input.as_bytes()).0
    }
}
