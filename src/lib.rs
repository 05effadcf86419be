//! todb: an embedded, sorted key-value store for Node.js. `engine` is the storage engine in plain
//! Rust; `binding` is the thin napi-rs layer that JavaScript (`index.js`) calls.

pub mod binding;
pub mod engine;
pub mod server;
