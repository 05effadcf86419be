//! `NativeServer`: a database served over the network (`db.serve()` in JavaScript). The server
//! itself is `crate::server`; this converts the options, starts it and stops it.

use std::sync::Mutex;

use napi::bindgen_prelude::AsyncTask;
use napi_derive::napi;

use crate::binding::db::NativeDb;
use crate::binding::error::{coded, to_js, Code};
use crate::binding::tasks::EngineTask;
use crate::server::{resp, Config, Protocol, Server};

/// How `db.serve()` was asked to serve.
#[napi(object)]
#[derive(Default)]
pub struct ServeOptions {
    /// TCP port; 0 picks a free one. Default 6379 (Redis) or 11211 (memcache).
    pub port: Option<f64>,
    /// Address to bind. Default 127.0.0.1.
    pub host: Option<String>,
    /// `redis` (default) or `memcache`.
    pub protocol: Option<String>,
    /// Require AUTH with this password.
    pub password: Option<String>,
    /// Sync every network write to disk before acknowledging it. Default false.
    pub sync: Option<bool>,
    /// Connections at once. Default 10,000.
    pub max_clients: Option<u32>,
    /// Largest Redis bulk argument in bytes. Default 512 MiB.
    pub max_bulk_length: Option<f64>,
    /// Most arguments in one Redis request. Default 1,048,576.
    pub max_multibulk_length: Option<u32>,
    /// Longest inline request in bytes. Default 64 KiB.
    pub max_inline_length: Option<u32>,
    /// Bytes queued for a subscriber before it is disconnected. Default 32 MiB.
    pub pubsub_output_limit: Option<f64>,
    /// Largest memcache item in bytes. Default 1 MiB.
    pub max_item_size: Option<f64>,
    /// Send keyspace notifications. Default true.
    pub notify_keyspace_events: Option<bool>,
}

fn bad(message: String) -> napi::Error<Code> {
    coded(Code("LEVEL_INVALID_ARGUMENT"), message)
}

fn limit(value: Option<f64>, default: usize, name: &str) -> napi::Result<usize, Code> {
    match value {
        None => Ok(default),
        Some(v) if v.is_finite() && v >= 1.0 && v <= (1u64 << 40) as f64 => Ok(v as usize),
        Some(_) => Err(bad(format!("The '{name}' option must be a positive number"))),
    }
}

impl ServeOptions {
    fn config(&self) -> napi::Result<(Config, String), Code> {
        let protocol = match self.protocol.as_deref() {
            None | Some("redis") => Protocol::Redis,
            Some("memcache") | Some("memcached") => Protocol::Memcache,
            Some(other) => return Err(bad(format!("Unknown protocol '{other}': use 'redis' or 'memcache'"))),
        };
        let port = match self.port {
            None => {
                if protocol == Protocol::Redis {
                    6379
                } else {
                    11211
                }
            }
            Some(p) if p.fract() == 0.0 && (0.0..=65535.0).contains(&p) => p as u16,
            Some(p) => return Err(bad(format!("The 'port' option must be an integer from 0 to 65535, not {p}"))),
        };
        let host = self.host.clone().unwrap_or_else(|| "127.0.0.1".into());
        let address = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let d = Config::default();
        let config = Config {
            protocol,
            password: self.password.clone().filter(|p| !p.is_empty()),
            sync: self.sync.unwrap_or(false).into(),
            notify: self.notify_keyspace_events.unwrap_or(true).into(),
            limits: resp::Limits {
                max_bulk: limit(self.max_bulk_length, d.limits.max_bulk, "maxBulkLength")?,
                max_args: limit(self.max_multibulk_length.map(f64::from), d.limits.max_args, "maxMultibulkLength")?,
                max_inline: limit(self.max_inline_length.map(f64::from), d.limits.max_inline, "maxInlineLength")?,
            },
            max_clients: limit(self.max_clients.map(f64::from), d.max_clients, "maxClients")?,
            pubsub_limit: limit(self.pubsub_output_limit, d.pubsub_limit, "pubsubOutputLimit")?,
            max_item: limit(self.max_item_size, d.max_item, "maxItemSize")?,
        };
        Ok((config, address))
    }
}

/// A running server.
#[napi]
pub struct NativeServer {
    server: std::sync::Arc<Mutex<Option<Server>>>,
    host: String,
    port: u32,
    family: String,
}

#[napi]
impl NativeServer {
    /// The bound address.
    #[napi(getter)]
    pub fn host(&self) -> String {
        self.host.clone()
    }

    /// The bound port.
    #[napi(getter)]
    pub fn port(&self) -> u32 {
        self.port
    }

    /// `IPv4` or `IPv6`.
    #[napi(getter)]
    pub fn family(&self) -> String {
        self.family.clone()
    }

    /// Stops the server on the pool: no new connections, open ones closed. Twice is harmless.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn close(&self) -> AsyncTask<EngineTask<()>> {
        let server = self.server.clone();
        AsyncTask::new(EngineTask::new(move || {
            let taken = server.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(mut s) = taken {
                s.close();
            }
            Ok(())
        }))
    }
}

#[napi]
impl NativeDb {
    /// Serves this open database over the network. Binding happens here, so an address in use
    /// fails at once (`EADDRINUSE` in the message, code `LEVEL_SERVER_ERROR`).
    #[napi]
    pub fn serve(&self, options: Option<ServeOptions>) -> napi::Result<NativeServer, Code> {
        let db = self.db()?.writer("serve").map_err(to_js)?.clone();
        let (config, address) = options.unwrap_or_default().config()?;
        let server = Server::start(db, &address, config)
            .map_err(|e| coded(Code("LEVEL_SERVER_ERROR"), format!("Cannot listen on {address}: {e}")))?;
        let bound = server.address();
        Ok(NativeServer {
            host: bound.ip().to_string(),
            port: u32::from(bound.port()),
            family: if bound.is_ipv4() { "IPv4" } else { "IPv6" }.into(),
            server: std::sync::Arc::new(Mutex::new(Some(server))),
        })
    }
}
