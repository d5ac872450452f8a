//! Streamable HTTP: `Accept` handling, session ids, Origin checks on
//! loopback, and the standard headers of 2026-07-28, over raw requests
//! of our own.

use std::time::Duration;

use reqwest::header::{HeaderMap, CONTENT_TYPE, ORIGIN};
use serde_json::{json, Value};

use super::checker::Checker;
use super::raw;
use super::report::Finding;
use crate::protocol::ProtocolVersion;
use crate::transport::HttpConfig;

/// The most of a body read.
const MAX_BODY: usize = 4 * 1024 * 1024;
const BOTH: &str = "application/json, text/event-stream";
const SESSION: &str = "mcp-session-id";

/// One raw POST and what came back.
struct Reply {
    status: u16,
    headers: HeaderMap,
    /// The JSON-RPC message of the body (the first SSE event with an id).
    message: Option<Value>,
}

impl Reply {
    fn content_type(&self) -> String {
        self.headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase()
    }

    fn quoted(&self) -> Value {
        json!({"status": self.status, "content-type": self.content_type(), "body": self.message})
    }
}

struct Http {
    client: reqwest::Client,
    config: HttpConfig,
    timeout: Duration,
}

impl Http {
    async fn post(&self, body: &Value, headers: &[(&str, &str)]) -> Result<Reply, String> {
        let mut request = self
            .client
            .post(&self.config.url)
            .header(CONTENT_TYPE, "application/json")
            .json(body);
        for (k, v) in &self.config.headers {
            request = request.header(k, v);
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let mut response = tokio::time::timeout(self.timeout, request.send())
            .await
            .map_err(|_| "no response".to_owned())?
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let mut bytes = Vec::new();
        let until = tokio::time::Instant::now() + self.timeout;
        let mut message = None;
        while bytes.len() < MAX_BODY {
            match tokio::time::timeout_at(until, response.chunk()).await {
                Ok(Ok(Some(chunk))) => bytes.extend_from_slice(&chunk),
                _ => break,
            }
            message = parse(&bytes);
            if message.is_some() {
                break;
            }
        }
        Ok(Reply {
            status,
            headers,
            message: message.or_else(|| parse(&bytes)),
        })
    }
}

/// The body's JSON-RPC message: the whole body, or the first SSE `data:`
/// event that is a response.
fn parse(bytes: &[u8]) -> Option<Value> {
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        return Some(v);
    }
    let text = String::from_utf8_lossy(bytes);
    text.split("\n\n").find_map(|event| {
        let data: String = event
            .lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(str::trim_start)
            .collect();
        serde_json::from_str::<Value>(&data)
            .ok()
            .filter(|v| v.get("id").is_some())
    })
}

fn is_loopback(url: &str) -> bool {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .is_some_and(|h| {
            h == "localhost"
                || h.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
                || h == "[::1]"
        })
}

/// Runs the HTTP checks against `config`, in the eras the server spoke.
pub(super) async fn check(
    config: &HttpConfig,
    handshake: bool,
    modern_era: bool,
    timeout: Duration,
    c: &mut Checker,
) {
    let client = match crate::http_client::builder(timeout).build() {
        Ok(client) => client,
        Err(e) => {
            c.skip("http.accept", format!("no HTTP client: {e}"));
            return;
        }
    };
    let http = Http {
        client,
        config: config.clone(),
        timeout,
    };
    let (first, headers): (Value, Vec<(&str, &str)>) = if handshake {
        (
            raw::initialize(1, ProtocolVersion::LATEST_HANDSHAKE.as_str()),
            vec![],
        )
    } else {
        (
            raw::modern(1, "server/discover", ProtocolVersion::LATEST.as_str()),
            vec![
                ("mcp-protocol-version", ProtocolVersion::LATEST.as_str()),
                ("mcp-method", "server/discover"),
            ],
        )
    };
    accept(&http, c, &first, &headers).await;
    if handshake {
        session(&http, c).await;
    } else {
        c.skip("http.session", "sessions belong to the handshake era");
    }
    if is_loopback(&config.url) {
        origin(&http, c, &first, &headers).await;
    } else {
        c.skip("http.origin", "not a loopback address");
    }
    if modern_era {
        standard_headers(&http, c).await;
        modern_fallback(&http, c).await;
    } else {
        c.skip("http.headers", "the server does not speak 2026-07-28");
    }
}

async fn accept(http: &Http, c: &mut Checker, body: &Value, headers: &[(&str, &str)]) {
    c.ran("http.accept");
    let mut both = headers.to_vec();
    both.push(("accept", BOTH));
    if let Ok(reply) = http.post(body, &both).await {
        let ct = reply.content_type();
        if (200..300).contains(&reply.status)
            && !ct.starts_with("application/json")
            && !ct.starts_with("text/event-stream")
        {
            c.find(
                Finding::error("http.accept", format!("answers a request with content type {ct:?}"))
                    .sent(json!({"POST": body, "Accept": BOTH}))
                    .received(reply.quoted())
                    .rule("basic/transports (Streamable HTTP): a request is answered with application/json or text/event-stream")
                    .fix("answer with Content-Type: application/json, or an SSE stream"),
            );
        }
    }
    let mut json_only = headers.to_vec();
    json_only.push(("accept", "application/json"));
    let Ok(reply) = http.post(body, &json_only).await else {
        return;
    };
    if (200..300).contains(&reply.status) && reply.content_type().starts_with("text/event-stream") {
        c.find(
            Finding::error("http.accept", "answers an SSE stream to a client that accepts only application/json")
                .sent(json!({"POST": body, "Accept": "application/json"}))
                .received(reply.quoted())
                .rule("RFC 9110 (Accept) and basic/transports: a server answers in a type the client accepts, or 406")
                .fix("answer with JSON when Accept has no text/event-stream, or refuse with 406 Not Acceptable"),
        );
    }
}

async fn session(http: &Http, c: &mut Checker) {
    c.ran("http.session");
    let both = [("accept", BOTH)];
    let Ok(reply) = http
        .post(
            &raw::initialize(10, ProtocolVersion::LATEST_HANDSHAKE.as_str()),
            &both,
        )
        .await
    else {
        return;
    };
    let Some(id) = reply.headers.get(SESSION).map(|v| v.as_bytes().to_vec()) else {
        c.skip("http.session", "no Mcp-Session-Id: a stateless server");
        return;
    };
    let id = String::from_utf8_lossy(&id).into_owned();
    if id.is_empty() || !id.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        c.find(
            Finding::error("http.session", "Mcp-Session-Id has characters outside visible ASCII")
                .received(json!({"Mcp-Session-Id": id}))
                .rule("basic/transports (session management): the session ID MUST only contain visible ASCII characters (0x21 to 0x7E)")
                .fix("use a UUID or a base64url token"),
        );
    }
    let version = ProtocolVersion::LATEST_HANDSHAKE.as_str();
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let _ = http
        .post(
            &initialized,
            &[
                ("accept", BOTH),
                (SESSION, &id),
                ("mcp-protocol-version", version),
            ],
        )
        .await;
    let list = json!({"jsonrpc": "2.0", "id": 11, "method": "tools/list", "params": {}});
    if let Ok(r) = http
        .post(
            &list,
            &[("accept", BOTH), ("mcp-protocol-version", version)],
        )
        .await
    {
        if (200..300).contains(&r.status) {
            c.find(
                Finding::warning("http.session", "a request without its Mcp-Session-Id is served")
                    .sent(json!({"POST": list, "Mcp-Session-Id": null}))
                    .received(r.quoted())
                    .rule("basic/transports (session management): servers that require a session ID SHOULD respond to requests without one with 400 Bad Request")
                    .fix("refuse requests that lack the session id the server issued, with 400"),
            );
        }
    }
    let bogus = "switchboard-check-no-such-session";
    if let Ok(r) = http
        .post(
            &list,
            &[
                ("accept", BOTH),
                (SESSION, bogus),
                ("mcp-protocol-version", version),
            ],
        )
        .await
    {
        if r.status != 404 {
            c.find(
                Finding::warning("http.session", format!("a request with an unknown Mcp-Session-Id gets {}, not 404", r.status))
                    .sent(json!({"POST": list, "Mcp-Session-Id": bogus}))
                    .received(r.quoted())
                    .rule("basic/transports (session management): a request with a terminated or unknown session ID gets 404 Not Found, so the client starts a new session")
                    .fix("answer an unknown session id with 404"),
            );
        }
    }
    let mut delete = http.client.delete(&http.config.url).header(SESSION, &id);
    for (k, v) in &http.config.headers {
        delete = delete.header(k, v);
    }
    let _ = tokio::time::timeout(http.timeout, delete.send()).await;
}

async fn origin(http: &Http, c: &mut Checker, body: &Value, headers: &[(&str, &str)]) {
    c.ran("http.origin");
    let evil = "http://switchboard-check.invalid";
    let mut with = headers.to_vec();
    with.extend([("accept", BOTH), (ORIGIN.as_str(), evil)]);
    let Ok(reply) = http.post(body, &with).await else {
        return;
    };
    if (200..300).contains(&reply.status) {
        c.find(
            Finding::error("http.origin", format!("a loopback server serves a request from Origin {evil}"))
                .sent(json!({"POST": body, "Origin": evil}))
                .received(reply.quoted())
                .rule("basic/transports (security): servers MUST validate the Origin header; an invalid Origin gets 403 Forbidden (DNS rebinding)")
                .fix("refuse requests whose Origin is not your own (or an allowed list) with 403"),
        );
    }
}

async fn standard_headers(http: &Http, c: &mut Checker) {
    c.ran("http.headers");
    let body = raw::modern(20, "tools/list", ProtocolVersion::LATEST.as_str());
    let version = ProtocolVersion::LATEST.as_str();
    let wrong = [
        ("accept", BOTH),
        ("mcp-protocol-version", version),
        ("mcp-method", "prompts/list"),
    ];
    let Ok(reply) = http.post(&body, &wrong).await else {
        return;
    };
    let code = reply
        .message
        .as_ref()
        .and_then(|m| m.pointer("/error/code"))
        .and_then(Value::as_i64);
    if (200..300).contains(&reply.status) && code.is_none() {
        c.find(
            Finding::error("http.headers", "a request whose Mcp-Method header disagrees with its body is served")
                .sent(json!({"POST": body, "Mcp-Method": "prompts/list"}))
                .received(reply.quoted())
                .rule("2026-07-28 basic/transports: Mcp-Method (and Mcp-Name) mirror the body; a mismatch is 400 with -32020")
                .fix("compare the standard headers with the body and refuse a mismatch with 400 and error -32020"),
        );
    }
}

async fn modern_fallback(http: &Http, c: &mut Checker) {
    let body = raw::modern(30, "tools/list", raw::FUTURE);
    let headers = [
        ("accept", BOTH),
        ("mcp-protocol-version", raw::FUTURE),
        ("mcp-method", "tools/list"),
    ];
    let reply = http
        .post(&body, &headers)
        .await
        .ok()
        .and_then(|r| r.message);
    raw::modern_fallback(c, &body, reply.as_ref());
}
