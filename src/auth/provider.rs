//! What the HTTP transports (Streamable HTTP and legacy HTTP+SSE) ask of
//! an authorization scheme: a header for each request, what to do when
//! the server refuses one, and the DPoP nonces the server hands out.

use std::fmt;

use futures_util::future::BoxFuture;
use reqwest::Url;

use crate::Result;

/// A request the server refused with 401 or 403.
pub struct Refusal<'a> {
    /// The HTTP status (401 or 403).
    pub status: u16,
    /// Every `WWW-Authenticate` value of the response.
    pub www_authenticate: Vec<String>,
    /// The MCP server's URL.
    pub server_url: &'a Url,
    /// The `Authorization` value the refused request carried (a secret:
    /// compare it, never log it). Lets a provider see that another
    /// request already renewed the credentials.
    pub sent_authorization: Option<&'a str>,
    /// The response's `DPoP-Nonce` header (RFC 9449 §9), if any: a
    /// `use_dpop_nonce` refusal asks for the next proof to carry it.
    pub dpop_nonce: Option<String>,
}

impl fmt::Debug for Refusal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Refusal")
            .field("status", &self.status)
            .field("www_authenticate", &self.www_authenticate)
            .field("server_url", &self.server_url.as_str())
            .field(
                "sent_authorization",
                &self.sent_authorization.map(|_| "<redacted>"),
            )
            .field("dpop_nonce", &self.dpop_nonce)
            .finish()
    }
}

/// Supplies credentials to the HTTP transports
/// ([`crate::transport::HttpConfig::auth`]): every request to the server
/// (Streamable HTTP's POST, GET and DELETE; legacy HTTP+SSE's GET and
/// POST) carries [`AuthProvider::authorization`], and a 401 or 403 answer
/// goes to [`AuthProvider::refused`] before the request is sent again (at
/// most three times). [`crate::auth::OAuth`] is the implementation for
/// the MCP authorization spec.
pub trait AuthProvider: Send + Sync + 'static {
    /// The `Authorization` header value for the next request to
    /// `server_url`, if there is one yet. May refresh a token about to
    /// expire.
    fn authorization<'a>(&'a self, server_url: &'a Url) -> BoxFuture<'a, Result<Option<String>>>;

    /// The `DPoP` header value (RFC 9449 proof of possession) for one
    /// request that carries `authorization` (the value
    /// [`AuthProvider::authorization`] gave): a fresh proof bound to
    /// `method`, `url` and the access token. `None` (the default) when
    /// the credentials are not bound to a key.
    fn dpop_proof(&self, method: &str, url: &Url, authorization: &str) -> Result<Option<String>> {
        let _ = (method, url, authorization);
        Ok(None)
    }

    /// The server refused a request. Returns `Ok(true)` when new
    /// credentials are ready and the request should be sent again,
    /// `Ok(false)` when the refusal is not ours to fix (the request then
    /// fails with the server's answer), or the reason authorization
    /// failed.
    fn refused<'a>(&'a self, refusal: Refusal<'a>) -> BoxFuture<'a, Result<bool>>;

    /// A successful response from `server_url` carried this `DPoP-Nonce`
    /// (RFC 9449 §9: a server rotating its nonce hands out the next one
    /// this way). A provider that signs DPoP proofs puts it in the next
    /// proof to that server, sparing a `use_dpop_nonce` refusal. The
    /// default ignores it.
    fn observe_nonce(&self, server_url: &Url, nonce: &str) {
        let _ = (server_url, nonce);
    }
}
