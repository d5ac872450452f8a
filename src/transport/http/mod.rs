//! Streamable HTTP (2025-03-26 .. 2026-07-28), with a fallback to legacy
//! HTTP+SSE.
//!
//! Every outgoing frame is one POST. A reply comes back as one JSON body or
//! as an SSE stream scoped to the request; both are handed to the session
//! frame by frame. The transport peeks at each outgoing frame (method, id,
//! name, `_meta` version) to build the headers the spec asks for, since it
//! knows no MCP types.
//!
//! Era-specific behaviour keys off what the frames show:
//! - handshake era (an `initialize` went out): `MCP-Protocol-Version` is the
//!   version the server agreed to, `Mcp-Session-Id` is echoed, a GET stream
//!   carries server messages, broken streams resume with `Last-Event-ID`,
//!   a 404 means the session expired (we re-initialize), close sends DELETE;
//! - 2026-07-28 (requests carry `_meta` protocolVersion): `Mcp-Method` and
//!   `Mcp-Name` headers, and cancelling a request closes its stream instead
//!   of posting `notifications/cancelled`.

mod body;
mod config;
mod conn;
mod get;
mod param_headers;
mod peek;
mod post;
mod reinit;

use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio::sync::mpsc;

pub(crate) use body::{error_chain, read_events, StreamEnd};
pub use config::{HttpConfig, HttpMode};
pub(crate) use conn::{build_client, parse_url, static_headers};
pub(crate) use peek::Outgoing as Peeked;

use super::{sse, InboundSink, Transport, TransportHandle};
use crate::Result;
use conn::Conn;
use peek::{Kind, Outgoing};
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
                outbound: super::Outbound::channel(tx),
                control: conn,
            })
        })
    }
}

/// Peeks at an outgoing frame (for the legacy transport).
pub(crate) fn peek_frame(frame: &[u8]) -> Option<Peeked> {
    Outgoing::peek(frame)
}

/// True if the frame expects a reply.
pub(crate) fn is_request(out: &Peeked) -> bool {
    out.kind == Kind::Request
}

/// Delivers a JSON-RPC error in place of the reply to a request that
/// failed at the HTTP level (logs for anything else).
pub(crate) fn fail_peeked(
    sink: &dyn InboundSink,
    out: &Peeked,
    message: &str,
    status: Option<u16>,
) {
    match (&out.kind, &out.id) {
        (Kind::Request, Some(id)) => {
            tracing::debug!(method = %out.method, %id, "{message}");
            sink.deliver(super::Inbound::Frame(peek::error_frame(
                id, message, status,
            )));
        }
        _ => tracing::warn!(method = %out.method, "could not post a message: {message}"),
    }
}

/// Posts every frame the session sends, until the session goes away.
async fn run(conn: Arc<Conn>, mut rx: mpsc::Receiver<Bytes>) {
    let mut legacy: Option<sse::Legacy> = None;
    while let Some(frame) = rx.recv().await {
        if conn.is_closed() {
            break;
        }
        let Some(out) = Outgoing::peek(&frame) else {
            tracing::warn!(transport = %conn.describe_url(), "not posting a frame that is not a JSON-RPC object");
            continue;
        };
        if let Some(l) = &legacy {
            l.send(frame, out).await;
            continue;
        }
        if out.method == "notifications/cancelled" && conn.cancel(&out) {
            continue;
        }
        match out.kind {
            Kind::Request if out.method == "initialize" => {
                conn.remember_initialize(frame.clone());
                let fallback = post::exchange(&conn, &frame, &out, conn.sink()).await;
                if let Exchange::FallbackToSse(why) = fallback {
                    tracing::info!(transport = %conn.describe_url(), %why, "no Streamable HTTP here; trying legacy HTTP+SSE");
                    match sse::Legacy::connect(conn.legacy_config(), conn.sink_arc()).await {
                        Ok(l) => {
                            l.send(frame, out).await;
                            legacy = Some(l);
                        }
                        Err(e) => {
                            let e = match e {
                                crate::Error::Connect { message, .. } => message,
                                other => other.to_string(),
                            };
                            post::fail(
                                &conn,
                                conn.sink(),
                                &out,
                                &format!("{why}; legacy HTTP+SSE failed too: {e}"),
                            )
                        }
                    }
                }
            }
            Kind::Request => post::spawn_request(&conn, frame, out),
            Kind::Notification | Kind::Response => {
                // In order, and before anything sent after them.
                post::exchange(&conn, &frame, &out, conn.sink()).await;
                if out.method == "notifications/initialized" {
                    conn.remember_initialized(frame);
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
