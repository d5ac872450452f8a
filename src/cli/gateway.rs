//! `switchboard gateway CONFIG`: the config file's fleet served as one MCP
//! server, over Streamable HTTP at `http://LISTEN/mcp` or, with `--stdio`,
//! over this process's stdin and stdout (for a desktop client that spawns
//! it as one server).
//!
//! Beside `/mcp`: `/healthz` and `/readyz` (at least one server ready).
//!
//! On SIGINT or SIGTERM it stops taking requests, gives those in flight
//! `--drain-secs` to finish, then closes the fleet (its stdio servers
//! end). Set `SWITCHBOARD_GATEWAY_KEY` to the same secret on every replica
//! so that a 2026-07-28 input-required retry may land on any of them.

use std::path::Path;
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};

use super::args::Global;
use super::shutdown::outln;
use crate::gateway::{Gateway, Relay};
use crate::server::http::{AllowedHosts, HttpOptions};
use crate::{Error, Result};

/// The environment variable holding the replicas' shared `requestState` key.
pub const KEY_VAR: &str = "SWITCHBOARD_GATEWAY_KEY";

/// Where and how to serve.
pub(super) struct Serving<'a> {
    pub(super) listen: &'a str,
    pub(super) stdio: bool,
    pub(super) drain: Duration,
    pub(super) unprefixed: bool,
}

/// Resolves when the process is told to stop (SIGINT, SIGTERM, SIGHUP).
async fn stop_signal() {
    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
        _ = hup.recv() => {}
    }
}

pub(super) async fn run(global: &Global, config: &Path, serving: Serving<'_>) -> Result<u8> {
    let relay = Relay::new();
    let handlers = relay.clone();
    let fleet = super::fleet::build_with(global, config, move |b| {
        b.map_handlers(move |h| handlers.handlers(h))
    })
    .await?;
    let key = std::env::var(KEY_VAR).ok().filter(|k| !k.is_empty());
    let gateway = if serving.unprefixed {
        Gateway::unprefixed(fleet.clone())?
    } else {
        Gateway::new(fleet.clone())
    }
    .with_relay(relay);
    let server = gateway.clone().into_server_with(|b| match key {
        Some(key) => b.state_key(key.into_bytes()),
        None => b,
    });
    let served = if serving.stdio {
        tokio::select! {
            served = server.serve_stdio() => served.map_err(Error::Io),
            () = stop_signal() => Ok(()),
        }
    } else {
        let listener = tokio::net::TcpListener::bind(serving.listen)
            .await
            .map_err(|e| Error::invalid_argument(format!("--listen {}: {e}", serving.listen)))?;
        let addr = listener.local_addr().map_err(Error::Io)?;
        outln!("listening on http://{addr}/mcp");
        super::shutdown::flush_stdout();
        let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
        let hosts = if addr.ip().is_loopback() {
            AllowedHosts::Loopback
        } else {
            AllowedHosts::Any
        };
        let router = server
            .http_router(HttpOptions::default().allowed_hosts(hosts))
            .merge(gateway.ops_router());
        let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
            stop_signal().await;
            let _ = stopped_tx.send(());
        });
        let serve = tokio::spawn(async move { serve.await });
        tokio::pin!(serve);
        tokio::select! {
            served = &mut serve => served
                .map_err(|e| Error::Io(std::io::Error::other(e)))?
                .map_err(Error::Io),
            _ = stopped_rx => {
                tracing::info!(drain = ?serving.drain, "stopping: draining requests in flight");
                // Open streams (GET, listens) never end by themselves:
                // the drain is bounded.
                let _ = tokio::time::timeout(serving.drain, &mut serve).await;
                Ok(())
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(10), fleet.close()).await;
    served.map(|()| 0)
}
