//! POST: one JSON-RPC message per request, sent where it belongs: a
//! session's connection (with `Mcp-Session-Id`), a new session
//! (`initialize`), or an exchange of its own (2026-07-28).

use std::sync::Arc;

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;

use super::guard::{check_origin, check_post, refuse, refuse_with};
use super::headers::{header, PROTOCOL_VERSION, SESSION_ID};
use super::session::{self, ErrorReply};
use super::{exchange, Endpoint};
use crate::protocol::jsonrpc::{parse_one, Incoming};
use crate::protocol::{codes, Era, ErrorObject, ProtocolVersion, RequestId};

/// POST, with one access-log line per request (target
/// `switchboard::access`, level info; the CLI shows them with
/// `SWITCHBOARD_LOG=switchboard::access=info`):
/// the JSON-RPC method, the HTTP status, the `MCP-Protocol-Version`
/// header, whether it belonged to a session, and the time to the
/// response's head (a stream goes on after it).
pub(crate) async fn post(
    State(ep): State<Arc<Endpoint>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = std::time::Instant::now();
    let mut method = String::new();
    let response = serve(&ep, &headers, body, &mut method).await;
    tracing::info!(
        target: "switchboard::access",
        method = %method,
        status = response.status().as_u16(),
        protocol = header(&headers, PROTOCOL_VERSION).unwrap_or("-"),
        session = header(&headers, SESSION_ID).is_some(),
        micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        "POST"
    );
    response
}

async fn serve(
    ep: &Arc<Endpoint>,
    headers: &HeaderMap,
    body: Bytes,
    logged: &mut String,
) -> Response {
    if let Err(r) = check_origin(&ep.hosts, headers).and_then(|()| check_post(headers)) {
        return r.into_response();
    }
    if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return refuse_with(
            StatusCode::BAD_REQUEST,
            codes::INVALID_REQUEST,
            "JSON-RPC batches are not supported: send one message per request",
        );
    }
    let message = match parse_one(&body) {
        Ok(m) => m,
        Err(e) => {
            let code = if serde_json::from_slice::<serde::de::IgnoredAny>(&body).is_ok() {
                codes::INVALID_REQUEST
            } else {
                codes::PARSE_ERROR
            };
            return refuse_with(StatusCode::BAD_REQUEST, code, e.0);
        }
    };
    let (request, method) = match &message {
        Incoming::Request { id, method, .. } => match serde_json::from_str::<RequestId>(id.get()) {
            Ok(rid) => (Some(rid), method.clone()),
            Err(_) => {
                let e = ErrorObject {
                    code: codes::INVALID_REQUEST,
                    message: "the request id must be a string or an integer".into(),
                    data: None,
                };
                return refuse(StatusCode::BAD_REQUEST, Some(id), &e);
            }
        },
        Incoming::Notification { method, .. } => (None, method.clone()),
        Incoming::Response { .. } => (None, String::new()),
    };
    logged.clone_from(&method);
    let eras = ep.server.shared.options.eras;
    if let Some(sid) = header(headers, SESSION_ID) {
        return session::in_session(ep, sid, headers, request, message).await;
    }
    let Some(id) = request else {
        // Outside a session a notification or a response means nothing
        // (2026-07-28 cancels by closing the stream).
        return StatusCode::ACCEPTED.into_response();
    };
    let modern_header = header(headers, PROTOCOL_VERSION)
        .and_then(ProtocolVersion::parse)
        .is_some_and(|v| v.era() == Era::Modern);
    if method == "initialize" && eras.handshake() && !modern_header {
        return session::initialize(ep, id, message).await;
    }
    if !eras.modern() {
        return refuse_with(
            StatusCode::BAD_REQUEST,
            codes::INVALID_REQUEST,
            "missing Mcp-Session-Id: send initialize first",
        );
    }
    exchange::serve(ep, headers, &method, message).await
}

/// A reply as a JSON response. In 2026-07-28 an error's HTTP status
/// follows its code: 404 for an unknown method, 400 for what the client
/// got wrong; in the handshake era every reply is 200.
pub(crate) fn json_reply(frame: Bytes, era: Era) -> Response {
    #[derive(Deserialize)]
    struct Peek {
        #[serde(default)]
        error: Option<Code>,
    }
    #[derive(Deserialize)]
    struct Code {
        code: i64,
    }
    let code = serde_json::from_slice::<Peek>(&frame)
        .ok()
        .and_then(|p| p.error)
        .map(|e| e.code);
    let status = match (era, code) {
        (Era::Modern, Some(codes::METHOD_NOT_FOUND)) => StatusCode::NOT_FOUND,
        (
            Era::Modern,
            Some(
                codes::PARSE_ERROR
                | codes::INVALID_REQUEST
                | codes::INVALID_PARAMS
                | codes::HEADER_MISMATCH
                | codes::MISSING_REQUIRED_CLIENT_CAPABILITY
                | codes::UNSUPPORTED_PROTOCOL_VERSION,
            ),
        ) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    let mut response = (status, [(CONTENT_TYPE, "application/json")], frame).into_response();
    if code.is_some() {
        response.extensions_mut().insert(ErrorReply);
    }
    response
}
