//! A memcache text-protocol load generator in the manner of redis-benchmark, for `npm run bench:server`:
//! Debian 12 has no memtier_benchmark, and memaslap mixes gets and sets, picks its own keys and
//! reports no latency percentiles. `-c` connections, each on its own thread with a blocking socket,
//! send `set` or `get` of random keys `key:000000123456` (3-byte values, as redis-benchmark's
//! default) in batches of `-P`, until `-n` requests have been answered; then it prints ops/s and
//! latency percentiles. Only std, so that it needs no async runtime of its own.
//!
//!   cargo run --release --example mc_load -- [--host 127.0.0.1] [--port 11211] [-t set|get]
//!       [-n 100000] [-c 50] [-P 1] [-r 1000000] [-d 3] [--max-seconds 300] [--json]
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy, PartialEq)]
enum Test {
    Set,
    Get,
}

struct Opts {
    host: String,
    port: u16,
    test: Test,
    requests: u64,
    connections: usize,
    pipeline: u64,
    keyspace: u64,
    value_size: usize,
    max_seconds: u64,
    json: bool,
}

fn usage(msg: &str) -> ! {
    eprintln!("mc_load: {msg}");
    eprintln!("usage: mc_load [--host H] [--port P] [-t set|get] [-n N] [-c C] [-P DEPTH] [-r KEYSPACE] [-d BYTES] [--max-seconds S] [--json]");
    std::process::exit(2)
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        host: "127.0.0.1".into(),
        port: 11211,
        test: Test::Set,
        requests: 100_000,
        connections: 50,
        pipeline: 1,
        keyspace: 1_000_000,
        value_size: 3,
        max_seconds: 300,
        json: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--json" {
            o.json = true;
            continue;
        }
        let v = args.next().unwrap_or_else(|| usage(&format!("{a} needs a value")));
        let num =
            || v.parse::<u64>().ok().filter(|&x| x > 0).unwrap_or_else(|| usage(&format!("bad value for {a}: {v}")));
        match a.as_str() {
            "--host" | "-h" => o.host = v.clone(),
            "--port" | "-p" => o.port = num() as u16,
            "-t" | "--test" => {
                o.test = match v.as_str() {
                    "set" => Test::Set,
                    "get" => Test::Get,
                    _ => usage(&format!("unknown test {v}")),
                }
            }
            "-n" => o.requests = num(),
            "-c" => o.connections = num() as usize,
            "-P" => o.pipeline = num(),
            "-r" => o.keyspace = num(),
            "-d" => o.value_size = num() as usize,
            "--max-seconds" => o.max_seconds = num(),
            _ => usage(&format!("unknown option {a}")),
        }
    }
    o
}

// splitmix64: std has no random numbers, and key choice needs only to be uniform and cheap.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[derive(Default)]
struct Tally {
    latencies_ns: Vec<u64>,
    hits: u64,
    misses: u64,
    errors: u64,
}

struct Shared {
    claimed: AtomicU64,
    stop: AtomicBool,
}

fn read_line(r: &mut BufReader<TcpStream>, line: &mut Vec<u8>) -> std::io::Result<()> {
    line.clear();
    r.read_until(b'\n', line)?;
    if !line.ends_with(b"\r\n") {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed mid-reply"));
    }
    line.truncate(line.len() - 2);
    Ok(())
}

// One reply to a set or a get; a reply the server should not give counts as an error rather than
// ending the run, as redis-benchmark does with error replies.
fn read_reply(r: &mut BufReader<TcpStream>, test: Test, line: &mut Vec<u8>, tally: &mut Tally) -> std::io::Result<()> {
    read_line(r, line)?;
    match test {
        Test::Set => {
            if line != b"STORED" {
                tally.errors += 1;
            }
        }
        Test::Get => {
            if line.starts_with(b"VALUE ") {
                let len: usize = std::str::from_utf8(line)
                    .ok()
                    .and_then(|s| s.split(' ').nth(3))
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "bad VALUE line"))?;
                let mut data = vec![0u8; len + 2];
                r.read_exact(&mut data)?;
                read_line(r, line)?;
                if line != b"END" {
                    return Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "VALUE not followed by END"));
                }
                tally.hits += 1;
            } else if line == b"END" {
                tally.misses += 1;
            } else {
                tally.errors += 1;
            }
        }
    }
    Ok(())
}

fn run_connection(
    o: &Opts,
    stream: TcpStream,
    shared: &Shared,
    barrier: &Barrier,
    seed: u64,
    deadline: Duration,
) -> std::io::Result<Tally> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::with_capacity(64 << 10, stream);
    let value = vec![b'x'; o.value_size];
    let mut rng = Rng(seed);
    let mut tally = Tally {
        latencies_ns: Vec::with_capacity((o.requests / o.connections as u64 + o.pipeline) as usize),
        ..Tally::default()
    };
    let mut batch = Vec::with_capacity(o.pipeline as usize * (40 + o.value_size));
    let mut line = Vec::with_capacity(64);
    barrier.wait();
    let start = Instant::now();
    loop {
        // Requests are handed out in batches from one counter, so that fast connections do more of
        // them and the run ends when `-n` is reached, as in redis-benchmark.
        let first = shared.claimed.fetch_add(o.pipeline, Ordering::Relaxed);
        if first >= o.requests || shared.stop.load(Ordering::Relaxed) {
            break;
        }
        if start.elapsed() > deadline {
            shared.stop.store(true, Ordering::Relaxed);
            return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "run took longer than --max-seconds"));
        }
        let count = o.pipeline.min(o.requests - first);
        batch.clear();
        for _ in 0..count {
            let key = rng.next() % o.keyspace;
            match o.test {
                Test::Set => {
                    write!(batch, "set key:{key:012} 0 0 {}\r\n", value.len())?;
                    batch.extend_from_slice(&value);
                    batch.extend_from_slice(b"\r\n");
                }
                Test::Get => write!(batch, "get key:{key:012}\r\n")?,
            }
        }
        let sent = Instant::now();
        writer.write_all(&batch)?;
        // Each request's latency runs from its batch's write to its own reply, so with `-P` the
        // later replies of a batch count their wait behind the earlier ones.
        for _ in 0..count {
            read_reply(&mut reader, o.test, &mut line, &mut tally)?;
            tally.latencies_ns.push(sent.elapsed().as_nanos() as u64);
        }
    }
    Ok(tally)
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((p / 100.0 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1e6
}

fn main() {
    let o = Arc::new(parse_opts());
    let addr = format!("{}:{}", o.host, o.port);
    // Every connection is open before the clock starts, so connect time is not in the figures.
    let streams: Vec<TcpStream> = (0..o.connections)
        .map(|_| {
            let s = TcpStream::connect(&addr).unwrap_or_else(|e| {
                eprintln!("mc_load: cannot connect to {addr}: {e}");
                std::process::exit(1)
            });
            s.set_nodelay(true).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            s
        })
        .collect();
    let shared = Arc::new(Shared { claimed: AtomicU64::new(0), stop: AtomicBool::new(false) });
    let barrier = Arc::new(Barrier::new(o.connections + 1));
    let seed = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0);
    let deadline = Duration::from_secs(o.max_seconds);
    let handles: Vec<_> = streams
        .into_iter()
        .enumerate()
        .map(|(i, stream)| {
            let (o, shared, barrier) = (o.clone(), shared.clone(), barrier.clone());
            let seed = seed ^ (i as u64).wrapping_mul(0xd1b5_4a32_d192_ed03);
            std::thread::spawn(move || {
                let r = run_connection(&o, stream, &shared, &barrier, seed, deadline);
                if r.is_err() {
                    shared.stop.store(true, Ordering::Relaxed);
                }
                r
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let mut total = Tally::default();
    let mut failure = None;
    for h in handles {
        match h.join().expect("connection thread panicked") {
            Ok(t) => {
                total.latencies_ns.extend(t.latencies_ns);
                total.hits += t.hits;
                total.misses += t.misses;
                total.errors += t.errors;
            }
            Err(e) => failure = failure.or(Some(e)),
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    if let Some(e) = failure {
        eprintln!("mc_load: {addr}: {e}");
        std::process::exit(1)
    }
    let lat = &mut total.latencies_ns;
    lat.sort_unstable();
    let done = lat.len() as u64;
    let rps = done as f64 / seconds;
    let avg = lat.iter().sum::<u64>() as f64 / done.max(1) as f64 / 1e6;
    let (p50, p95, p99, max) =
        (percentile(lat, 50.0), percentile(lat, 95.0), percentile(lat, 99.0), percentile(lat, 100.0));
    let name = if o.test == Test::Set { "set" } else { "get" };
    if o.json {
        println!(
            "{{\"test\":\"{name}\",\"requests\":{done},\"connections\":{},\"pipeline\":{},\"seconds\":{seconds:.3},\"rps\":{rps:.2},\"avg_ms\":{avg:.3},\"p50_ms\":{p50:.3},\"p95_ms\":{p95:.3},\"p99_ms\":{p99:.3},\"max_ms\":{max:.3},\"hits\":{},\"misses\":{},\"errors\":{}}}",
            o.connections, o.pipeline, total.hits, total.misses, total.errors
        );
    } else {
        println!("{name}: {rps:.2} requests per second, p50={p50:.3} msec, p99={p99:.3} msec");
        println!(
            "  {done} requests in {seconds:.2} s, {} connections, pipeline {}, avg {avg:.3} / p95 {p95:.3} / max {max:.3} msec, {} errors{}",
            o.connections,
            o.pipeline,
            total.errors,
            if o.test == Test::Get { format!(", {} hits, {} misses", total.hits, total.misses) } else { String::new() }
        );
    }
}
