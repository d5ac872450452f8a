//! One POST: send a frame, hand every message of the reply (a JSON body or
//! an SSE stream) to the session, and turn every HTTP-level failure of a
//! request into a JSON-RPC error for its id, so no caller waits for a reply
//! that cannot come.

use std::sync::Arc;

use bytes::Bytes;
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::StatusCode;

use super::body::{self, Body, StreamEnd};
use super::config::HttpMode;
use super::conn::{Conn, SESSION_ID};
use super::get;
use super::peek::{self, ErrorBody, Kind, Outgoing};
use super::reinit;
use crate::transport::auth::{self, AuthStep};
use crate::transport::sse_parse::{SseItem, SseParser};
use crate::transport::{Inbound, InboundSink};

/// How much of an error body is read.
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// How much of an error body goes into a message.
const ERROR_BODY_SHOWN: usize = 200;

/// How a POST ended, when the caller has something left to do.
pub(crate) enum Exchange {
    /// Finished: the reply, or an error in its place, went to the sink.
    Done,
    /// `initialize` was refused the way a legacy HTTP+SSE server refuses it.
    FallbackToSse(String),
    /// A 404 to a request carrying this session id: the session expired.
    SessionExpired(HeaderValue),
}

/// Posts a request on a task of its own, registered for cancellation.
/// An expired session is re-initialized once; the request is then sent
/// again, except a `tools/call` (it may have run: not ours to repeat).
pub(crate) fn spawn_request(conn: &Arc<Conn>, frame: Bytes, out: Outgoing) {
    let id = out.id.clone().unwrap_or_default();
    let c = conn.clone();
    let task_id = id.clone();
    conn.spawn_in_flight(id, async move {
        let mut renewed = false;
        loop {
            match exchange(&c, &frame, &out, c.sink()).await {
                Exchange::SessionExpired(stale) if !renewed => {
                    renewed = true;
                    match reinit::reinitialize(&c, stale).await {
                        Ok(()) if out.method == "tools/call" => {
                            fail(&c, c.sink(), &out, "the server's session expired; a new session was started, but the tools/call was not re-sent because it may already have run");
                            break;
                        }
                        Ok(()) => continue,
                        Err(e) => {
                            fail(&c, c.sink(), &out, &format!("the server's session expired and starting a new one failed: {e}"));
                            break;
                        }
                    }
                }
                Exchange::SessionExpired(_) => {
                    fail(
                        &c,
                        c.sink(),
                        &out,
                        "the server's session expired again right after a new one was started",
                    );
                    break;
                }
                Exchange::Done | Exchange::FallbackToSse(_) => break,
            }
        }
        c.done_in_flight(&task_id);
    });
}

/// Delivers an error reply for a request (logs for anything else).
pub(crate) fn fail(conn: &Conn, sink: &dyn InboundSink, out: &Outgoing, message: &str) {
    fail_status(conn, sink, out, message, None)
}

/// [`fail`] for an HTTP error status.
fn fail_status(
    conn: &Conn,
    sink: &dyn InboundSink,
    out: &Outgoing,
    message: &str,
    status: Option<u16>,
) {
    let _span = tracing::debug_span!("http", transport = %conn.describe_url()).entered();
    super::fail_peeked(sink, out, message, status);
}

/// Reads an SSE response, handing its messages to the sink, until the
/// reply to `out` arrives (true) or the stream ends (false, with how).
pub(crate) async fn read_until_reply(
    conn: &Conn,
    resp: reqwest::Response,
    parser: &mut SseParser,
    out: &Outgoing,
    sink: &dyn InboundSink,
) -> (bool, StreamEnd) {
    let mut got = false;
    let end = body::read_events(resp, parser, Some(conn.config.request_idle()), |item, _| {
        got |= deliver_item(conn, sink, out, item);
        !got
    })
    .await;
    (got, end)
}

/// Hands one message of the reply to `out` to the sink; true if it is the
/// reply itself. Notes the agreed version from an `initialize` reply.
pub(crate) fn deliver_item(
    conn: &Conn,
    sink: &dyn InboundSink,
    out: &Outgoing,
    item: SseItem,
) -> bool {
    let id = out.id.as_deref().unwrap_or("null");
    match item {
        SseItem::Event { event, data } => {
            if !(event.is_empty() || event == "message") {
                tracing::debug!(transport = %conn.describe_url(), %event, "ignoring an SSE event of another type");
                return false;
            }
            if data.trim_ascii().is_empty() {
                return false;
            }
            deliver_frame(conn, sink, out, data)
        }
        SseItem::Oversized { size, head, tail } => {
            let mine = out.kind == Kind::Request
                && (peek::fragment_names_id(&head, id) || peek::fragment_names_id(&tail, id));
            sink.deliver(Inbound::Oversized { size, head, tail });
            mine
        }
    }
}

fn deliver_frame(conn: &Conn, sink: &dyn InboundSink, out: &Outgoing, data: Bytes) -> bool {
    let id = out.id.as_deref().unwrap_or("null");
    let mine = out.kind == Kind::Request && peek::answers(&data, id);
    let mut data = data;
    if mine && out.method == "tools/list" && out.modern_version.is_some() {
        if let Some(kept) = conn.params.learn(&data) {
            data = kept;
        }
    }
    if mine && out.method == "initialize" {
        if let Some(v) = peek::initialize_version(&data) {
            conn.set_handshake_version(v);
        }
    }
    sink.deliver(Inbound::Frame(data));
    mine
}

/// Posts `frame` and delivers what comes back to `sink`.
pub(crate) async fn exchange(
    conn: &Arc<Conn>,
    frame: &Bytes,
    out: &Outgoing,
    sink: &dyn InboundSink,
) -> Exchange {
    let idle = match out.kind {
        Kind::Request => conn.config.request_idle(),
        _ => conn.config.message_idle(),
    };
    let mut auth_rounds = 0;
    let (resp, sent_session, sent_auth) = loop {
        if let Err(e) = conn.refresh_auth().await {
            fail(conn, sink, out, &format!("authorization failed: {e}"));
            return Exchange::Done;
        }
        let mut headers = conn.post_headers(out, frame);
        if let Err(e) = conn.add_auth_proof("POST", &mut headers) {
            fail(conn, sink, out, &format!("authorization failed: {e}"));
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
                fail(
                    conn,
                    sink,
                    out,
                    &format!("no HTTP response within {idle:?}"),
                );
                return Exchange::Done;
            }
            Ok(Err(e)) => {
                let msg = format!("HTTP POST failed: {}", body::error_chain(&e.without_url()));
                fail(conn, sink, out, &msg);
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
                let msg = format!("authorization failed: {e}");
                fail_status(conn, sink, out, &msg, Some(resp.status().as_u16()));
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
    if out.method == "initialize" && status.is_success() {
        conn.set_session_id(resp.headers().get(SESSION_ID).cloned());
    }
    if !status.is_success() {
        return refused(conn, resp, out, sink, sent_session).await;
    }
    if out.kind != Kind::Request {
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
        return stream_reply(conn, resp, out, sink).await;
    }
    match body::read_limited(resp, conn.config.max_message_size, idle).await {
        Ok(Body::Full(b)) if b.trim_ascii().is_empty() => {
            if conn.handshake_version().is_some() && conn.has_listener() {
                tracing::debug!(transport = %conn.describe_url(), "request accepted without a body; the reply should come on the GET stream");
            } else {
                fail(
                    conn,
                    sink,
                    out,
                    &format!("the server answered HTTP {status} with no reply"),
                );
            }
        }
        Ok(Body::Full(b))
            if !b.trim_ascii_start().starts_with(b"{")
                && !b.trim_ascii_start().starts_with(b"[") =>
        {
            // Not JSON-RPC at all (an HTML page, a proxy's notice): say
            // what came back now instead of waiting out the deadline.
            fail(conn, sink, out, &not_mcp(status, &content_type, &b));
        }
        Ok(Body::Full(b)) => {
            deliver_frame(conn, sink, out, b);
        }
        Ok(Body::Oversized { size, head, tail }) => {
            sink.deliver(Inbound::Oversized { size, head, tail })
        }
        Err(e) if out.modern_version.is_some() => fail(
            conn,
            sink,
            out,
            &lost_message(out, &format!("reading the reply failed: {e}")),
        ),
        Err(e) => fail(conn, sink, out, &format!("reading the reply failed: {e}")),
    }
    Exchange::Done
}

/// Says that a reply was not MCP: its status, content type and first line.
fn not_mcp(status: StatusCode, content_type: &str, body: &[u8]) -> String {
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
    out: &Outgoing,
    sink: &dyn InboundSink,
) -> Exchange {
    let mut parser = SseParser::new(conn.config.max_message_size);
    let (got, end) = read_until_reply(conn, resp, &mut parser, out, sink).await;
    if got {
        return Exchange::Done;
    }
    let handshake = conn.handshake_version().is_some();
    if let (true, Some(last)) = (handshake, parser.last_event_id()) {
        let last = last.to_owned();
        if let Err(e) = get::resume(conn, out, sink, last, parser.retry()).await {
            fail_status(
                conn,
                sink,
                out,
                &format!(
                    "the response stream ended before the reply and could not be resumed: {e}"
                ),
                e.status(),
            );
        }
        return Exchange::Done;
    }
    if out.modern_version.is_some() {
        let detail = match end {
            StreamEnd::Ended => "the server ended it".to_owned(),
            StreamEnd::Failed(e) => e.to_string(),
        };
        fail(conn, sink, out, &lost_message(out, &detail));
        return Exchange::Done;
    }
    match end {
        StreamEnd::Ended if handshake && conn.has_listener() => {
            tracing::debug!(transport = %conn.describe_url(), id = ?out.id, "response stream ended without the reply; it may come on the GET stream");
        }
        StreamEnd::Ended => fail(
            conn,
            sink,
            out,
            "the server ended the response stream before the reply",
        ),
        StreamEnd::Failed(e) => fail(
            conn,
            sink,
            out,
            &format!("the response stream broke before the reply: {e}"),
        ),
    }
    Exchange::Done
}

/// The error for a 2026-07-28 request whose reply was lost with its
/// stream: the session re-sends a request that is safe to repeat under a
/// new id (there is no resumption in 2026-07-28); any other request's
/// outcome is unknown.
fn lost_message(out: &Outgoing, detail: &str) -> String {
    use crate::protocol::jsonrpc::{safe_to_repeat, STREAM_LOST};
    if safe_to_repeat(&out.method) {
        format!("{STREAM_LOST} ({detail})")
    } else {
        format!(
            "{STREAM_LOST} ({detail}); the outcome of {} is unknown (the server may have acted on it), so it was not re-sent",
            out.method
        )
    }
}

/// A non-2xx status.
async fn refused(
    conn: &Arc<Conn>,
    resp: reqwest::Response,
    out: &Outgoing,
    sink: &dyn InboundSink,
    sent_session: Option<HeaderValue>,
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
    if session_gone && conn.handshake_version().is_some() {
        if let Some(stale) = sent_session {
            tracing::info!(transport = %conn.describe_url(), %status, "the server's session expired");
            return Exchange::SessionExpired(stale);
        }
    }
    if out.method == "initialize"
        && conn.config.mode == HttpMode::Auto
        && matches!(status.as_u16(), 400 | 404 | 405)
        && error
            .as_ref()
            .is_none_or(|e| !e.is_modern() && e.id.as_ref().is_none_or(|i| i.get() == "null"))
    {
        return Exchange::FallbackToSse(format!("initialize was refused with HTTP {status}"));
    }
    match (&error, &out.id, &out.kind) {
        (Some(e), Some(id), Kind::Request) => {
            sink.deliver(Inbound::Frame(e.for_request(&body, id)));
        }
        _ => {
            let shown = &body[..body.len().min(ERROR_BODY_SHOWN)];
            let text = String::from_utf8_lossy(shown);
            let msg = if text.trim().is_empty() {
                format!("HTTP {status}")
            } else {
                format!("HTTP {status}: {}", text.trim())
            };
            fail_status(conn, sink, out, &msg, Some(status.as_u16()));
        }
    }
    Exchange::Done
}
