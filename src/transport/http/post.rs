//! One POST: send a frame, hand every message of the reply (a JSON body or
//! an SSE stream) to the session, and report every HTTP-level failure of a
//! request as a typed [`TransportError`] for its id, so no caller waits for
//! a reply that cannot come.

use std::sync::Arc;

use bytes::Bytes;
use reqwest::header::CONTENT_TYPE;
use reqwest::StatusCode;

use super::body::{self, Body, StreamEnd};
use super::config::HttpMode;
use super::conn::{Conn, SESSION_ID};
use super::get;
use super::inbound::{self, ErrorBody};
use crate::transport::auth::{self, AuthStep};
use crate::transport::sse_parse::{SseItem, SseParser};
use crate::transport::{FrameKind, FrameMeta, Inbound, InboundSink, TransportError};

/// How much of an error body is read.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// How much of an error body goes into a message.
const ERROR_BODY_SHOWN: usize = 200;

/// How a POST ended, when the caller has something left to do.
pub(crate) enum Exchange {
    /// Finished: the reply, or a failure in its place, went to the sink.
    Done,
    /// `initialize` was refused the way a legacy HTTP+SSE server refuses it.
    FallbackToSse(String),
}

/// Posts a request on a task of its own, registered for cancellation.
pub(crate) fn spawn_request(conn: &Arc<Conn>, frame: Bytes, meta: Box<FrameMeta>) {
    let Some(id) = meta.id else {
        tracing::warn!(transport = %conn.describe_url(), method = %meta.method, "not posting a request without an id");
        return;
    };
    let c = conn.clone();
    conn.spawn_in_flight(id, async move {
        exchange(&c, &frame, &meta, c.sink()).await;
        c.done_in_flight(id);
    });
}

/// Reports a failure of the message `meta` describes.
pub(crate) fn fail(conn: &Conn, sink: &dyn InboundSink, meta: &FrameMeta, error: TransportError) {
    let _span = tracing::debug_span!("http", transport = %conn.describe_url()).entered();
    super::fail(sink, meta, error);
}

/// Reads an SSE response, handing its messages to the sink, until the
/// reply to `meta` arrives (true) or the stream ends (false, with how).
pub(crate) async fn read_until_reply(
    conn: &Conn,
    resp: reqwest::Response,
    parser: &mut SseParser,
    meta: &FrameMeta,
    sink: &dyn InboundSink,
) -> (bool, StreamEnd) {
    let mut got = false;
    let end = body::read_events(resp, parser, Some(conn.config.request_idle()), |item, _| {
        got |= deliver_item(conn, sink, meta, item);
        !got
    })
    .await;
    (got, end)
}

/// The id of a request, the only kind of message a reply can be for.
fn request_id(meta: &FrameMeta) -> Option<i64> {
    meta.id.filter(|_| meta.kind == FrameKind::Request)
}

/// Hands one message of the reply to `meta` to the sink; true if it is
/// the reply itself.
pub(crate) fn deliver_item(
    conn: &Conn,
    sink: &dyn InboundSink,
    meta: &FrameMeta,
    item: SseItem,
) -> bool {
    match item {
        SseItem::Event { event, data } => {
            if !(event.is_empty() || event == "message") {
                tracing::debug!(transport = %conn.describe_url(), %event, "ignoring an SSE event of another type");
                return false;
            }
            if data.trim_ascii().is_empty() {
                return false;
            }
            deliver_frame(sink, meta, data)
        }
        SseItem::Oversized { size, head, tail } => {
            let mine = request_id(meta).is_some_and(|id| {
                inbound::fragment_names_id(&head, id) || inbound::fragment_names_id(&tail, id)
            });
            sink.deliver(Inbound::Oversized { size, head, tail });
            mine
        }
    }
}

fn deliver_frame(sink: &dyn InboundSink, meta: &FrameMeta, data: Bytes) -> bool {
    let mine = request_id(meta).is_some_and(|id| inbound::answers(&data, id));
    sink.deliver(Inbound::Frame(data));
    mine
}

/// The lost reply of request `meta`: reported as
/// [`TransportError::StreamLost`] (the session decides whether to re-send).
fn lost(conn: &Conn, sink: &dyn InboundSink, meta: &FrameMeta, detail: String) {
    match meta.id {
        Some(id) => fail(conn, sink, meta, TransportError::StreamLost { id, detail }),
        None => tracing::warn!(transport = %conn.describe_url(), method = %meta.method, "{detail}"),
    }
}

/// Posts `frame` and delivers what comes back to `sink`.
pub(crate) async fn exchange(
    conn: &Arc<Conn>,
    frame: &Bytes,
    meta: &FrameMeta,
    sink: &dyn InboundSink,
) -> Exchange {
    let idle = match meta.kind {
        FrameKind::Request => conn.config.request_idle(),
        _ => conn.config.message_idle(),
    };
    let auth_failed =
        |status: Option<u16>, message: String| TransportError::Auth { status, message };
    let mut auth_rounds = 0;
    let (resp, sent_session, sent_auth) = loop {
        if let Err(e) = conn.refresh_auth().await {
            fail(conn, sink, meta, auth_failed(None, e));
            return Exchange::Done;
        }
        let mut headers = conn.post_headers(meta);
        if let Err(e) = conn.add_auth_proof("POST", &mut headers) {
            fail(conn, sink, meta, auth_failed(None, e));
            return Exchange::Done;
        }
        let sent_session = headers.get(SESSION_ID).cloned();
        let sent_auth = auth::sent_authorization(&headers);
        let send = conn
            .client
            .post(conn.url.clone())
            .headers(headers)
            .body(frame.clone())
            .send();
        let resp = match tokio::time::timeout(idle, send).await {
            Err(_) => {
                fail(conn, sink, meta, TransportError::Timeout { after: idle });
                return Exchange::Done;
            }
            Ok(Err(e)) => {
                let message = format!("HTTP POST failed: {}", body::error_chain(&e.without_url()));
                fail(conn, sink, meta, TransportError::Connection { message });
                return Exchange::Done;
            }
            Ok(Ok(r)) => r,
        };
        let step = auth::on_response(
            conn.config.auth.as_deref(),
            &conn.url,
            &resp,
            sent_auth.as_deref(),
            &mut auth_rounds,
        )
        .await;
        match step {
            AuthStep::Retry => continue,
            AuthStep::Proceed => {}
            AuthStep::Failed(e) => {
                let status = Some(resp.status().as_u16());
                fail(conn, sink, meta, auth_failed(status, e.to_string()));
                return Exchange::Done;
            }
        }
        break (resp, sent_session, sent_auth);
    };
    let status = resp.status();
    if status.is_success() && conn.take_get_reopen(sent_auth.as_deref()) && !conn.has_listener() {
        // The GET stream ended on credentials the server refused; these
        // are new and work.
        tracing::debug!(transport = %conn.describe_url(), "credentials renewed: opening the GET stream again");
        let conn = conn.clone();
        tokio::spawn(async move { super::get::start_listener(&conn).await });
    }
    if meta.method == "initialize" && status.is_success() {
        conn.set_session_id(resp.headers().get(SESSION_ID).cloned());
    }
    if !status.is_success() {
        return refused(conn, resp, meta, sink, sent_session.is_some()).await;
    }
    if meta.kind != FrameKind::Request {
        // 202, or a body nobody waits for: drain a little so the
        // connection can be reused.
        let _ = body::read_prefix(resp, ERROR_BODY_LIMIT, idle).await;
        return Exchange::Done;
    }
    let content_type = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let is_sse = content_type.starts_with("text/event-stream");
    if is_sse {
        return stream_reply(conn, resp, meta, sink).await;
    }
    let not_mcp = |detail: String| TransportError::NotMcp {
        status: status.as_u16(),
        detail,
    };
    match body::read_limited(resp, conn.config.max_message_size, idle).await {
        Ok(Body::Full(b)) if b.trim_ascii().is_empty() => {
            if conn.handshake_version().is_some() && conn.has_listener() {
                tracing::debug!(transport = %conn.describe_url(), "request accepted without a body; the reply should come on the GET stream");
            } else {
                let detail = format!("the server answered HTTP {status} with no reply");
                fail(conn, sink, meta, not_mcp(detail));
            }
        }
        Ok(Body::Full(b))
            if !b.trim_ascii_start().starts_with(b"{")
                && !b.trim_ascii_start().starts_with(b"[") =>
        {
            // Not JSON-RPC at all (an HTML page, a proxy's notice): say
            // what came back now instead of waiting out the deadline.
            fail(
                conn,
                sink,
                meta,
                not_mcp(not_mcp_detail(status, &content_type, &b)),
            );
        }
        Ok(Body::Full(b)) => {
            deliver_frame(sink, meta, b);
        }
        Ok(Body::Oversized { size, head, tail }) => {
            sink.deliver(Inbound::Oversized { size, head, tail })
        }
        Err(e) => lost(conn, sink, meta, format!("reading the reply failed: {e}")),
    }
    Exchange::Done
}

/// Says that a reply was not MCP: its status, content type and first line.
fn not_mcp_detail(status: StatusCode, content_type: &str, body: &[u8]) -> String {
    let shown = &body[..body.len().min(ERROR_BODY_SHOWN)];
    let text = String::from_utf8_lossy(shown);
    let first = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let kind = if content_type.is_empty() {
        "no content type"
    } else {
        content_type
    };
    format!(
        "this is not an MCP endpoint: HTTP {status} answered with {kind}, not JSON-RPC \
         (application/json or text/event-stream), starting {first:?}"
    )
}

/// A request answered with an event stream: deliver until the reply.
async fn stream_reply(
    conn: &Arc<Conn>,
    resp: reqwest::Response,
    meta: &FrameMeta,
    sink: &dyn InboundSink,
) -> Exchange {
    let mut parser = SseParser::new(conn.config.max_message_size);
    let (got, end) = read_until_reply(conn, resp, &mut parser, meta, sink).await;
    if got {
        return Exchange::Done;
    }
    let handshake = conn.handshake_version().is_some();
    if let (true, Some(last)) = (handshake, parser.last_event_id()) {
        let last = last.to_owned();
        match get::resume(conn, meta, sink, last, parser.retry()).await {
            Ok(()) => {}
            // A refusal the auth provider could not fix: say so, with its
            // status.
            Err(e @ get::OpenError::Unauthorized { .. }) => {
                let auth = TransportError::Auth {
                    status: e.status(),
                    message: format!(
                        "the response stream ended before the reply and resuming it was refused: {e}"
                    ),
                };
                fail(conn, sink, meta, auth);
            }
            Err(e) => lost(
                conn,
                sink,
                meta,
                format!("the response stream ended before the reply and could not be resumed: {e}"),
            ),
        }
        return Exchange::Done;
    }
    let detail = match end {
        StreamEnd::Ended if handshake && conn.has_listener() => {
            tracing::debug!(transport = %conn.describe_url(), id = ?meta.id, "response stream ended without the reply; it may come on the GET stream");
            return Exchange::Done;
        }
        StreamEnd::Ended => "the server ended the response stream before the reply".to_owned(),
        StreamEnd::Failed(e) => format!("the response stream broke before the reply: {e}"),
    };
    lost(conn, sink, meta, detail);
    Exchange::Done
}

/// A non-2xx status (`sent_session`: the POST carried a session id).
async fn refused(
    conn: &Arc<Conn>,
    resp: reqwest::Response,
    meta: &FrameMeta,
    sink: &dyn InboundSink,
    sent_session: bool,
) -> Exchange {
    let status = resp.status();
    let body = body::read_prefix(resp, ERROR_BODY_LIMIT, conn.config.message_idle()).await;
    let error = ErrorBody::parse(&body);
    // The spec says 404; servers built on the TS SDK's example code (such
    // as server-everything) answer an unknown session with 400 and a
    // JSON-RPC error about the session id.
    let session_gone = match status {
        StatusCode::NOT_FOUND => error.as_ref().is_none_or(|e| e.error.code != -32601),
        StatusCode::BAD_REQUEST => error
            .as_ref()
            .is_some_and(|e| e.error.message.to_ascii_lowercase().contains("session")),
        _ => false,
    };
    if session_gone && sent_session && conn.handshake_version().is_some() {
        tracing::info!(transport = %conn.describe_url(), %status, "the server's session expired");
        let expired = TransportError::SessionExpired {
            status: status.as_u16(),
        };
        fail(conn, sink, meta, expired);
        return Exchange::Done;
    }
    if meta.method == "initialize"
        && conn.config.mode == HttpMode::Auto
        && matches!(status.as_u16(), 400 | 404 | 405)
        && error
            .as_ref()
            .is_none_or(|e| !e.is_modern() && e.id.as_ref().is_none_or(|i| i.get() == "null"))
    {
        return Exchange::FallbackToSse(format!("initialize was refused with HTTP {status}"));
    }
    match (&error, request_id(meta)) {
        // The server's own JSON-RPC error: delivered as its reply.
        (Some(e), Some(id)) => sink.deliver(Inbound::Frame(e.for_request(&body, id))),
        _ => {
            let shown = &body[..body.len().min(ERROR_BODY_SHOWN)];
            let body_hint = String::from_utf8_lossy(shown).trim().to_owned();
            let http = TransportError::Http {
                status: status.as_u16(),
                body_hint,
            };
            fail(conn, sink, meta, http);
        }
    }
    Exchange::Done
}
