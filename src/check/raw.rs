//! The raw JSON-RPC bodies the stdio and HTTP checks send over
//! connections of their own, and the verdicts on version fallback: a
//! version no server speaks (`2099-01-01`) must be countered with one it
//! does (handshake era) or refused with -32022 naming the supported ones
//! (2026-07-28).

use serde_json::{json, Value};

use super::checker::Checker;
use super::report::Finding;
use crate::protocol::version::meta;
use crate::protocol::{codes, ProtocolVersion};

/// A version no server speaks.
pub(super) const FUTURE: &str = "2099-01-01";

fn info() -> Value {
    json!({"name": "switchboard-check", "version": env!("CARGO_PKG_VERSION")})
}

/// `initialize` proposing `version`.
pub(super) fn initialize(id: i64, version: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {}, "clientInfo": info()}})
}

/// A 2026-07-28 request: `_meta` with `version`, no capabilities, our identity.
pub(super) fn modern(id: i64, method: &str, version: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": {"_meta": {
        meta::PROTOCOL_VERSION: version, meta::CLIENT_CAPABILITIES: {}, meta::CLIENT_INFO: info()}}})
}

/// `initialize` with [`FUTURE`] got a version the server does speak.
pub(super) fn handshake_fallback(c: &mut Checker, sent: &Value, reply: &Value) {
    c.ran("negotiation.fallback");
    let agreed = reply
        .pointer("/result/protocolVersion")
        .and_then(Value::as_str);
    if agreed.is_some_and(|v| v != FUTURE) {
        return;
    }
    c.find(
        Finding::warning("negotiation.fallback", format!("initialize with protocolVersion {FUTURE} is not countered with a version the server speaks"))
            .sent(sent.clone())
            .received(reply.clone())
            .rule("basic/lifecycle (version negotiation): if the server does not support the requested version, it MUST respond with another version it supports")
            .fix("answer initialize with your newest version when the client's is unknown"),
    );
}

/// A 2026-07-28 request speaking [`FUTURE`] was refused with -32022 and
/// the versions the server supports (`reply` is `None` when none came).
pub(super) fn modern_fallback(c: &mut Checker, sent: &Value, reply: Option<&Value>) {
    c.ran("negotiation.fallback-modern");
    let code = reply
        .and_then(|r| r.pointer("/error/code"))
        .and_then(Value::as_i64);
    let supported = reply
        .and_then(|r| r.pointer("/error/data/supported"))
        .and_then(Value::as_array)
        .is_some_and(|v| {
            v.iter()
                .filter_map(Value::as_str)
                .any(|s| ProtocolVersion::parse(s).is_some())
        });
    if code == Some(codes::UNSUPPORTED_PROTOCOL_VERSION) && supported {
        return;
    }
    c.find(
        Finding::warning("negotiation.fallback-modern", format!("a request speaking {FUTURE} is not refused with -32022 and the supported versions"))
            .sent(sent.clone())
            .received(reply.cloned().unwrap_or(Value::Null))
            .rule("2026-07-28 basic (versioning): a request whose _meta protocolVersion the server does not speak gets -32022 UnsupportedProtocolVersion with data {supported, requested}")
            .fix("refuse an unknown protocolVersion with -32022, listing the versions you speak in data.supported"),
    );
}
