//! The HTTP calls of the flow (metadata, registration, tokens): one
//! `reqwest` client that never follows redirects (each hop would need the
//! same checks as the first), a deadline on every call, bounded bodies,
//! and the rule that authorization URLs are `https`, or `http` to a
//! loopback host.

use std::net::IpAddr;
use std::time::Duration;

use reqwest::header::{HeaderMap, ACCEPT, CONTENT_TYPE};
use reqwest::{StatusCode, Url};
use serde_json::Value;

use crate::error::AuthErrorKind;
use crate::{Error, Result};

/// Largest metadata or token response read.
const BODY_LIMIT: usize = 256 * 1024;

/// The client for authorization-server calls.
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client> {
    crate::http_client::builder(timeout.min(Duration::from_secs(10)))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .map_err(|e| Error::config(format!("cannot build the OAuth HTTP client: {e}")))
}

/// True for `localhost` and loopback addresses.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Parses a URL a server gave us and checks it may be used: `https`, or
/// `http` to a loopback host (development), never anything else.
pub(crate) fn checked_url(what: &str, raw: &str) -> Result<Url> {
    let url = Url::parse(raw).map_err(|e| {
        Error::auth(
            AuthErrorKind::Discovery,
            format!("{what}: invalid URL: {e}"),
        )
    })?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        other => Err(Error::auth(
            AuthErrorKind::Unsafe,
            format!("{what}: refusing a {other}: URL (only https, or http to a loopback host)"),
        )),
    }
}

/// A URL without its query, for messages and logs.
pub(crate) fn shown(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_username("");
    let _ = u.set_password(None);
    u.to_string()
}

/// A response's status and its body (bounded).
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) body: Vec<u8>,
    /// The `DPoP-Nonce` header (RFC 9449 §8), if any.
    pub(crate) dpop_nonce: Option<String>,
}

impl Reply {
    /// The body as JSON, if it is.
    pub(crate) fn json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The OAuth `error` code of the body, if any.
    pub(crate) fn error_code(&self) -> Option<String> {
        self.json()?["error"].as_str().map(str::to_owned)
    }

    /// `error` / `error_description` of an OAuth error body, for messages
    /// (never the whole body: it might echo secrets).
    pub(crate) fn oauth_error(&self) -> String {
        let v = self.json().unwrap_or_default();
        let code = v["error"].as_str().unwrap_or("no error code");
        match v["error_description"].as_str() {
            Some(d) => format!(
                "HTTP {}: {code}: {}",
                self.status,
                d.chars().take(200).collect::<String>()
            ),
            None => format!("HTTP {}: {code}", self.status),
        }
    }
}

async fn finish(what: &str, resp: reqwest::Response) -> Result<Reply> {
    let status = resp.status();
    let dpop_nonce = resp
        .headers()
        .get(super::dpop::DPOP_NONCE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let mut resp = resp;
    let mut body = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > BODY_LIMIT {
                    return Err(Error::auth(
                        AuthErrorKind::Http,
                        format!("{what}: response larger than {BODY_LIMIT} bytes"),
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => {
                return Err(Error::auth(
                    AuthErrorKind::Http,
                    format!("{what}: reading the response failed: {}", e.without_url()),
                ))
            }
        }
    }
    Ok(Reply {
        status,
        body,
        dpop_nonce,
    })
}

/// GET `url` asking for JSON. The client's timeout bounds the whole call;
/// the outer deadline guards against a body that trickles.
pub(crate) async fn get(
    http: &reqwest::Client,
    what: &str,
    url: &Url,
    deadline: Duration,
) -> Result<Reply> {
    send(what, url, http.get(url.clone()), deadline).await
}

/// POST a body (form or JSON, per `headers`) to `url`.
pub(crate) async fn post(
    http: &reqwest::Client,
    what: &str,
    url: &Url,
    headers: HeaderMap,
    body: Vec<u8>,
    deadline: Duration,
) -> Result<Reply> {
    let request = http.post(url.clone()).headers(headers).body(body);
    send(what, url, request, deadline).await
}

/// Sends `request` (asking for JSON) and reads the reply within `deadline`.
async fn send(
    what: &str,
    url: &Url,
    request: reqwest::RequestBuilder,
    deadline: Duration,
) -> Result<Reply> {
    let call = async {
        let resp = request
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| {
                Error::auth(
                    AuthErrorKind::Http,
                    format!("{what} ({}): {}", shown(url), e.without_url()),
                )
            })?;
        finish(what, resp).await
    };
    tokio::time::timeout(deadline, call).await.map_err(|_| {
        Error::auth(
            AuthErrorKind::Http,
            format!("{what} ({}): no answer within {deadline:?}", shown(url)),
        )
    })?
}

/// Headers for a form POST.
pub(crate) fn form_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        CONTENT_TYPE,
        reqwest::header::HeaderValue::from_static("application/x-www-form-urlencoded"),
    );
    h
}

/// Headers for a JSON POST.
pub(crate) fn json_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        CONTENT_TYPE,
        reqwest::header::HeaderValue::from_static("application/json"),
    );
    h
}

/// `application/x-www-form-urlencoded` from pairs.
pub(crate) fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_loopback_http() {
        assert!(checked_url("x", "https://as.example.com/authorize").is_ok());
        assert!(checked_url("x", "http://localhost:3000/authorize").is_ok());
        assert!(checked_url("x", "http://127.0.0.1/t").is_ok());
        assert!(checked_url("x", "http://[::1]:8/t").is_ok());
        assert!(checked_url("x", "http://as.example.com/authorize").is_err());
        assert!(checked_url("x", "javascript:alert(1)").is_err());
        assert!(checked_url("x", "file:///etc/passwd").is_err());
    }
}
