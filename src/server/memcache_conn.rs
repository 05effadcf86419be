//! A memcache connection's task (wired to the protocol module once it lands).

use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::hub::Subscriber;
use super::Shared;

/// Serves one memcache connection.
pub async fn serve(
    _shared: &Arc<Shared>,
    mut stream: TcpStream,
    _stop: watch::Receiver<bool>,
) -> Option<Arc<Subscriber>> {
    let _ = stream.write_all(b"SERVER_ERROR not yet\r\n").await;
    None
}
