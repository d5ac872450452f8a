//! What a request must pass before its body is read: the `Host` and
//! `Origin` it names (DNS rebinding protection), what it accepts and what
//! it sends. Failures are answered with a JSON-RPC error body and the HTTP
//! status the transport specification gives.

use axum::http::header::{ACCEPT, CONTENT_TYPE, HOST, ORIGIN};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::value::RawValue;

use crate::protocol::{codes, ErrorObject};

/// Which `Host` (and `Origin`) values an endpoint serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowedHosts {
    /// `localhost`, `127.0.0.1` and `[::1]`, with any port: what a server
    /// on a loopback address should accept, so that a web page whose name
    /// was rebound to 127.0.0.1 cannot reach it.
    Loopback,
    /// These host names (compared without the port, ASCII
    /// case-insensitively), for a server behind its own public name.
    Only(Vec<String>),
    /// Any: for a server behind a proxy that checks names itself.
    Any,
}

impl AllowedHosts {
    fn allows(&self, host: &str) -> bool {
        let name = strip_port(host);
        match self {
            AllowedHosts::Any => true,
            AllowedHosts::Loopback => {
                name.eq_ignore_ascii_case("localhost") || name == "127.0.0.1" || name == "[::1]"
            }
            AllowedHosts::Only(names) => names.iter().any(|n| n.eq_ignore_ascii_case(name)),
        }
    }
}

/// `example.com:8080` → `example.com`; `[::1]:80` → `[::1]`.
fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// A JSON-RPC error answered with an HTTP status.
pub(crate) fn refuse(status: StatusCode, id: Option<&RawValue>, error: &ErrorObject) -> Response {
    let id = id.unwrap_or(super::super::wire::NULL_ID);
    let body = super::super::wire::encode_error(id, error);
    (status, [(CONTENT_TYPE, "application/json")], body).into_response()
}

/// A request refused before it reached the core: an HTTP status and the
/// JSON-RPC error its body carries.
#[derive(Debug)]
pub(crate) struct Refusal {
    status: StatusCode,
    error: ErrorObject,
}

impl Refusal {
    pub(crate) fn new(status: StatusCode, code: i64, message: impl Into<String>) -> Self {
        Refusal {
            status,
            error: ErrorObject {
                code,
                message: message.into(),
                data: None,
            },
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        refuse(self.status, None, &self.error)
    }
}

/// [`Refusal`] as a response at once.
pub(crate) fn refuse_with(status: StatusCode, code: i64, message: impl Into<String>) -> Response {
    Refusal::new(status, code, message).into_response()
}

/// Checks `Host` and `Origin` against the allowed names: 403 otherwise.
pub(crate) fn check_origin(hosts: &AllowedHosts, headers: &HeaderMap) -> Result<(), Refusal> {
    if *hosts == AllowedHosts::Any {
        return Ok(());
    }
    let forbidden = |what: &str, value: &str| {
        Refusal::new(
            StatusCode::FORBIDDEN,
            codes::INVALID_REQUEST,
            format!("{what} {value:?} is not served here"),
        )
    };
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !hosts.allows(host) {
        return Err(forbidden("host", host));
    }
    if let Some(origin) = headers.get(ORIGIN) {
        let origin = origin.to_str().unwrap_or("");
        let authority = origin
            .split_once("://")
            .map(|(_, rest)| rest.split('/').next().unwrap_or(""));
        if !authority.is_some_and(|a| hosts.allows(a)) {
            return Err(forbidden("origin", origin));
        }
    }
    Ok(())
}

/// True when the `Accept` header admits `mime` (or everything).
pub(crate) fn accepts(headers: &HeaderMap, mime: &str) -> bool {
    headers.get_all(ACCEPT).iter().any(|v| {
        v.to_str().unwrap_or("").split(',').any(|item| {
            let range = item.split(';').next().unwrap_or("").trim();
            range == mime || range == "*/*"
        })
    })
}

/// A POST must send JSON and accept both JSON and an event stream.
pub(crate) fn check_post(headers: &HeaderMap) -> Result<(), Refusal> {
    let json = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(Refusal::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            codes::INVALID_REQUEST,
            "Content-Type must be application/json",
        ));
    }
    if !(accepts(headers, "application/json") && accepts(headers, "text/event-stream")) {
        return Err(Refusal::new(
            StatusCode::NOT_ACCEPTABLE,
            codes::INVALID_REQUEST,
            "Accept must list both application/json and text/event-stream",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_names_pass_with_any_port_and_others_do_not() {
        let l = AllowedHosts::Loopback;
        for ok in [
            "localhost",
            "LOCALHOST:80",
            "127.0.0.1:8931",
            "[::1]",
            "[::1]:3000",
        ] {
            assert!(l.allows(ok), "{ok}");
        }
        for bad in [
            "evil.example.com",
            "127.0.0.1.evil.com",
            "localhost.evil",
            "",
            "[::2]",
        ] {
            assert!(!l.allows(bad), "{bad}");
        }
        let only = AllowedHosts::Only(vec!["mcp.example.com".into()]);
        assert!(only.allows("MCP.example.com:443"));
        assert!(!only.allows("localhost"));
    }
}
