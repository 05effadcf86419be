//! Tests of the Redis front door through a real loopback socket, where what matters is what the
//! client reads: how many replies a pipeline gets back, and in what order.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::{Config, Server};
use crate::engine::env::{FaultFs, FaultKind, MemFs};
use crate::engine::{Db, Options};

fn command(args: &[&str]) -> String {
    let mut out = format!("*{}\r\n", args.len());
    for a in args {
        out.push_str(&format!("${}\r\n{a}\r\n", a.len()));
    }
    out
}

/// Reads until `lines` reply lines have arrived (every reply here is one line).
fn read_lines(stream: &mut TcpStream, lines: usize) -> Vec<String> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while got.iter().filter(|&&b| b == b'\n').count() < lines {
        let n = stream.read(&mut buf).expect("a reply before the timeout");
        assert!(n > 0, "the server closed the connection");
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(got).unwrap().split_inclusive("\r\n").map(str::to_string).collect()
}

/// An engine error in the middle of a pipelined group fails every command of the group, each
/// with its own reply: one reply for the group would leave the client pairing every later
/// reply with the wrong command.
#[test]
fn an_engine_error_in_a_pipelined_group_answers_every_command() {
    let fs = FaultFs::new(Arc::new(MemFs::new()));
    let db = Db::open(Arc::new(fs.clone()), Path::new("/db"), Options::default()).unwrap();
    let mut server = Server::start(db.clone(), "127.0.0.1:0", Config::default()).unwrap();
    let mut stream = TcpStream::connect(server.address()).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    stream.write_all(command(&["SET", "t", "0"]).as_bytes()).unwrap();
    assert_eq!(read_lines(&mut stream, 1), ["+OK\r\n"]);
    // In a table, so that INCR's read of it needs the file system, where the fault is.
    db.compact_range(None, None).unwrap();
    fs.fail_at(1, &[FaultKind::Read], true);
    let pipeline = [command(&["SET", "a", "1"]), command(&["INCR", "t"]), command(&["SET", "b", "2"])].concat();
    stream.write_all(format!("{pipeline}{}", command(&["PING"])).as_bytes()).unwrap();
    let replies = read_lines(&mut stream, 4);
    assert_eq!(replies.len(), 4, "{replies:?}");
    assert!(replies[0].starts_with("-ERR ") && replies[..3].iter().all(|r| *r == replies[0]), "{replies:?}");
    assert_eq!(replies[3], "+PONG\r\n");
    fs.heal();
    stream.write_all(command(&["MGET", "a", "b", "t"]).as_bytes()).unwrap();
    assert_eq!(read_lines(&mut stream, 5).concat(), "*3\r\n$-1\r\n$-1\r\n$1\r\n0\r\n");
    server.close();
    db.close().unwrap();
}
