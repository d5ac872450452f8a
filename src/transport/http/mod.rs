//! Streamable HTTP (2025-03-26 .. 2026-07-28), with a fallback to legacy
//! HTTP+SSE.
//!
//! Every outgoing frame is one POST. A reply comes back as one JSON body or
//! as an SSE stream scoped to the request; both are handed to the session
//! frame by frame. The headers come from each frame's [`FrameMeta`], which
//! the session built when it encoded the frame: nothing outgoing is parsed
//! here. A request that cannot be carried fails with a typed
//! [`TransportError`] for its id ([`Inbound::Failed`]).
//!
//! Era-specific behaviour keys off what the metadata says:
//! - handshake era (the frames speak a handshake-era version):
//!   `MCP-Protocol-Version` is the agreed version, `Mcp-Session-Id` is
//!   echoed, a GET stream carries server messages, broken streams resume
//!   with `Last-Event-ID`, a 404 to a request carrying the session id is
//!   reported as [`TransportError::SessionExpired`] (the session starts a
//!   new one with a new `initialize`, posted without the old id, whose
//!   reply brings the new one), close sends DELETE;
//! - 2026-07-28: `Mcp-Method` and `Mcp-Name` headers plus the frame's
//!   extra ones (`Mcp-Param-*`), and cancelling a request closes its stream
//!   instead of posting `notifications/cancelled`.

mod body;
mod config;
mod conn;
mod get;
pub(crate) mod header_value;
mod inbound;
mod post;

use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

pub(crate) use body::{error_chain, read_events, StreamEnd};
pub use config::{HttpConfig, HttpMode};
pub(crate) use conn::{build_client, parse_url, static_headers};

use super::{
    sse, Frame, FrameKind, FrameMeta, Inbound, InboundSink, Transport, TransportError,
    TransportHandle,
};
use crate::Result;
use conn::Conn;
use post::Exchange;

/// Frames waiting to be posted.
const CHANNEL_CAPACITY: usize = 64;

/// The Streamable HTTP transport (falls back to legacy SSE per its mode).
pub(crate) struct HttpTransport {
    pub(crate) config: HttpConfig,
}

impl Transport for HttpTransport {
    fn start(
        self: Box<Self>,
        sink: Arc<dyn InboundSink>,
    ) -> BoxFuture<'static, Result<TransportHandle>> {
        Box::pin(async move {
            let config = self.config;
            if config.mode == HttpMode::LegacySse
                || (config.mode == HttpMode::Auto && config.looks_like_sse())
            {
                return sse::start(config, sink).await;
            }
            let conn = Arc::new(Conn::new(config, sink)?);
            let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
            let writer = tokio::spawn(run(conn.clone(), rx));
            conn.track(writer.abort_handle());
            Ok(TransportHandle {
                outbound: super::Outbound::frames(tx),
                control: conn,
            })
        })
    }
}

/// Reports a failure of the message `meta` describes: for a request, to
/// its waiter ([`Inbound::Failed`]); anything else has no waiter, and is
/// logged.
pub(crate) fn fail(sink: &dyn InboundSink, meta: &FrameMeta, error: TransportError) {
    match (meta.kind, meta.id) {
        (FrameKind::Request, Some(id)) => {
            tracing::debug!(method = %meta.method, id, "{error}");
            sink.deliver(Inbound::Failed { id, error });
        }
        _ => tracing::warn!(method = %meta.method, "could not post a message: {error}"),
    }
}

/// The metadata of a frame, or `None` (logged) for one the session did
/// not describe, which cannot be routed.
pub(crate) fn routable(frame: Frame) -> Option<(bytes::Bytes, Box<FrameMeta>)> {
    match frame.into_parts() {
        (bytes, Some(meta)) => Some((bytes, meta)),
        (_, None) => {
            tracing::warn!("not posting a frame without metadata (it cannot be routed)");
            None
        }
    }
}

/// Posts every frame the session sends, until the session goes away.
async fn run(conn: Arc<Conn>, mut rx: mpsc::Receiver<Frame>) {
    let mut legacy: Option<sse::Legacy> = None;
    while let Some(frame) = rx.recv().await {
        if conn.is_closed() {
            break;
        }
        if let Some(l) = &legacy {
            l.send(frame).await;
            continue;
        }
        let Some((bytes, meta)) = routable(frame) else {
            continue;
        };
        conn.note_version(&meta);
        if meta.cancels.is_some() && conn.cancel(&meta) {
            continue;
        }
        match meta.kind {
            FrameKind::Request if meta.method == "initialize" => {
                // Inline: nothing is posted before the handshake's reply
                // (which brings the HTTP session id, if any).
                let fallback = post::exchange(&conn, &bytes, &meta, conn.sink()).await;
                if let Exchange::FallbackToSse(why) = fallback {
                    tracing::info!(transport = %conn.describe_url(), %why, "no Streamable HTTP here; trying legacy HTTP+SSE");
                    match sse::Legacy::connect(conn.legacy_config(), conn.sink_arc()).await {
                        Ok(l) => {
                            l.send(Frame::new(bytes, *meta)).await;
                            legacy = Some(l);
                        }
                        Err(e) => {
                            let e = match e {
                                crate::Error::Connect { message, .. } => message,
                                other => other.to_string(),
                            };
                            let message = format!("{why}; legacy HTTP+SSE failed too: {e}");
                            post::fail(
                                &conn,
                                conn.sink(),
                                &meta,
                                TransportError::Connection { message },
                            )
                        }
                    }
                }
            }
            FrameKind::Request => post::spawn_request(&conn, bytes, meta),
            FrameKind::Notification | FrameKind::Response => {
                // In order, and before anything sent after them.
                post::exchange(&conn, &bytes, &meta, conn.sink()).await;
                if meta.method == "notifications/initialized" {
                    get::start_listener(&conn).await;
                }
            }
        }
    }
    if let Some(l) = legacy {
        l.shutdown();
    }
    conn.shutdown().await;
}
