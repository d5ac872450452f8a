//! The fault injector of the fencing test: a TCP proxy on 127.0.0.1
//! between one worker and nats-server. [`Proxy::freeze`] stops forwarding
//! bytes both ways but keeps every socket open (a partition: nothing is
//! refused or reset, nothing arrives); [`Proxy::thaw`] forwards again,
//! what was held first, as a healed network would.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// A running proxy; its tasks end when it is dropped.
pub struct Proxy {
    port: u16,
    frozen: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.tasks.abort_all();
    }
}

impl Proxy {
    /// Listens on a free 127.0.0.1 port and forwards every connection to
    /// `upstream` (a `nats://127.0.0.1:PORT` URL).
    pub async fn start(upstream: &str) -> Proxy {
        let upstream: SocketAddr = upstream
            .trim_start_matches("nats://")
            .parse()
            .expect("a nats://127.0.0.1:PORT url");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("local addr").port();
        let (frozen, rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        // Runs until the proxy is dropped (the test's lifetime).
        tasks.spawn(async move {
            let mut pumps = JoinSet::new();
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                pumps.spawn(pump(cr, sw, rx.clone()));
                pumps.spawn(pump(sr, cw, rx.clone()));
            }
        });
        Proxy {
            port,
            frozen,
            tasks,
        }
    }

    /// `nats://127.0.0.1:PORT` of the proxy.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Stops forwarding (sockets stay open).
    pub fn freeze(&self) {
        let _ = self.frozen.send(true);
    }

    /// Forwards again.
    pub fn thaw(&self) {
        let _ = self.frozen.send(false);
    }
}

/// Copies `from` to `to`, holding each chunk while frozen. Ends with the
/// connection (or when the proxy is dropped).
async fn pump(mut from: OwnedReadHalf, mut to: OwnedWriteHalf, mut frozen: watch::Receiver<bool>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        if frozen.wait_for(|f| !*f).await.is_err() {
            return;
        }
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        // Read while thawed, but the freeze may have come since: hold it.
        if frozen.wait_for(|f| !*f).await.is_err() {
            return;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}
