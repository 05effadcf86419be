//! A connection without a socket, for the memcache tests: the same bytes can be fed as one read
//! (answered as a connection answers them, data commands grouped) or one command at a time (each
//! alone, as before grouping), so that tests can hold the two to the same replies.

use std::path::Path;
use std::sync::Arc;

use super::exec::{execute, Config, Outcome, Session};
use super::group::answer;
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

    /// Feeds `input` as one read from the socket; returns the replies and `Outcome::Close` if the
    /// connection must close, else the last watch outcome, else `Outcome::Continue`.
    pub fn send_all(&mut self, input: &[u8]) -> (String, Outcome) {
        let (mut out, mut swallow, mut last) = (Vec::new(), 0, Outcome::Continue);
        let done = answer(&self.db, &self.config, &mut self.session, input, &mut swallow, &mut out, |o| last = o);
        if done.close {
            last = Outcome::Close;
        } else {
            assert_eq!((done.used, swallow), (input.len(), 0), "left over");
        }
        (String::from_utf8(out).unwrap(), last)
    }

    /// [`Conn::send_all`]'s replies.
    pub fn send(&mut self, input: &str) -> String {
        self.send_all(input.as_bytes()).0
    }

    /// Feeds `input` one command at a time, each run alone; returns the replies.
    pub fn send_one_by_one(&mut self, input: &[u8]) -> String {
        let mut out = Vec::new();
        let mut at = 0;
        loop {
            match parse(&input[at..], &self.config.limits) {
                Ok(Some((cmd, n))) => {
                    at += n;
                    if execute(&self.db, &self.config, &mut self.session, &cmd, &mut out) == Outcome::Close {
                        break;
                    }
                    if let Command::TooLarge { swallow, .. } = cmd {
                        at += swallow as usize;
                    }
                }
                Ok(None) => break,
                Err(ProtoError { reply }) => {
                    out.extend_from_slice(reply.as_bytes());
                    break;
                }
            }
        }
        String::from_utf8(out).unwrap()
    }

    /// Every entry of the database, reserved keys included, in order.
    pub fn entries(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        let mut it = self.db.iter(&Default::default(), false, Default::default()).unwrap();
        it.seek_to_start();
        let mut all = Vec::new();
        while it.valid() {
            all.push((it.key().to_vec(), it.value().to_vec()));
            it.advance();
        }
        it.status().unwrap();
        all
    }
}
