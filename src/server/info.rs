//! The INFO reply: the sections clients read (ioredis waits for `loading:0` before it is ready).

use std::fmt::Write;
use std::sync::atomic::Ordering;

use super::Shared;

/// The Redis version todb answers as: the command set it follows is 7.0's.
pub const REDIS_VERSION: &str = "7.0.0";

/// The INFO text for `section` (all sections when `None`, `all` or `everything`).
pub fn info(shared: &Shared, section: Option<String>) -> String {
    let want =
        |name: &str| section.as_deref().is_none_or(|s| s == name || s == "all" || s == "everything" || s == "default");
    let mut text = String::new();
    if want("server") {
        let _ = write!(
            text,
            "# Server\r\nredis_version:{REDIS_VERSION}\r\ntodb_version:{}\r\nredis_mode:standalone\r\nos:{}\r\narch_bits:64\r\nprocess_id:{}\r\ntcp_port:{}\r\nuptime_in_seconds:{}\r\n\r\n",
            env!("CARGO_PKG_VERSION"),
            std::env::consts::OS,
            std::process::id(),
            shared.port,
            shared.started.elapsed().as_secs(),
        );
    }
    if want("clients") {
        let _ = write!(
            text,
            "# Clients\r\nconnected_clients:{}\r\nmaxclients:{}\r\n\r\n",
            shared.stats.clients.load(Ordering::Relaxed),
            shared.config.max_clients,
        );
    }
    if want("persistence") {
        let _ = write!(
            text,
            "# Persistence\r\nloading:0\r\naof_enabled:1\r\ntodb_sync_writes:{}\r\n\r\n",
            u8::from(shared.config.sync.load(Ordering::Relaxed)),
        );
    }
    if want("stats") {
        let s = &shared.stats;
        let _ = write!(
            text,
            "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\nrejected_connections:{}\r\npubsub_channels:{}\r\n\r\n",
            s.connections.load(Ordering::Relaxed),
            s.commands.load(Ordering::Relaxed),
            s.rejected.load(Ordering::Relaxed),
            shared.hub.channels(None).len(),
        );
    }
    if want("keyspace") {
        let seq = shared.db.last_sequence();
        let _ = write!(text, "# Keyspace\r\ntodb_last_sequence:{seq}\r\n\r\n");
    }
    text
}
