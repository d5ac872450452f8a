//! What a user configures for an HTTP server: the URL, static headers
//! (secrets: never logged), deadlines and which transport to use.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::auth::AuthProvider;

/// The idle deadline when neither the user nor the session sets one.
const DEFAULT_IDLE: Duration = Duration::from_secs(60);

/// Which HTTP transport to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpMode {
    /// Streamable HTTP, falling back to legacy HTTP+SSE when the server
    /// refuses `initialize` with 400/404/405 and no modern error (A3);
    /// a URL whose path ends in `/sse` goes straight to legacy SSE.
    Auto,
    /// Streamable HTTP only.
    Streamable,
    /// Legacy HTTP+SSE (2024-11-05) only.
    LegacySse,
}

/// How to reach one MCP server over HTTP.
#[derive(Clone)]
pub struct HttpConfig {
    pub(crate) url: String,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) mode: HttpMode,
    /// Set by the user; else requests follow the session's deadlines.
    pub(crate) idle_timeout: Option<Duration>,
    /// The session's longest wait for one request (its hard cap).
    pub(crate) session_cap: Duration,
    pub(crate) connect_timeout: Duration,
    /// The session's connect deadline (set when a session builds the
    /// transport): bounds connecting to a legacy SSE server as a whole,
    /// an authorization flow included.
    pub(crate) connect_deadline: Duration,
    pub(crate) max_reconnects: u32,
    pub(crate) max_message_size: usize,
    /// Supplies `Authorization` and handles 401/403 (e.g. OAuth).
    pub(crate) auth: Option<Arc<dyn AuthProvider>>,
}

impl HttpConfig {
    /// A server at `url`, with the defaults: [`HttpMode::Auto`], 30 s to
    /// connect, 5 reconnects, and no idle deadline on a request's reply of
    /// its own beyond the client's (60 s for everything else).
    pub fn new(url: impl Into<String>) -> Self {
        HttpConfig {
            url: url.into(),
            headers: Vec::new(),
            mode: HttpMode::Auto,
            idle_timeout: None,
            session_cap: DEFAULT_IDLE,
            connect_timeout: Duration::from_secs(30),
            connect_deadline: Duration::ZERO,
            max_reconnects: 5,
            max_message_size: super::super::DEFAULT_MAX_MESSAGE_SIZE,
            auth: None,
        }
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Adds a header sent on every request (e.g. `Authorization`). Values
    /// are treated as secrets: never logged nor shown by `Debug`.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Authorizes requests with `provider` (e.g. [`crate::auth::OAuth`]):
    /// it supplies the `Authorization` header (and DPoP proof) of every
    /// request, on Streamable HTTP (POST, the GET stream, DELETE) and on
    /// legacy HTTP+SSE (the GET stream and each POST), and is told about
    /// 401 and 403 answers, after which the request is sent again (at most
    /// three times). A refusal it cannot fix fails the request (a GET
    /// stream ends; connecting to a legacy SSE server fails with
    /// [`crate::Error::Auth`]).
    pub fn auth(mut self, provider: Arc<dyn AuthProvider>) -> Self {
        self.auth = Some(provider);
        self
    }

    /// Which transport to use.
    pub fn mode(mut self, mode: HttpMode) -> Self {
        self.mode = mode;
        self
    }

    /// The longest wait for response headers or for the next bytes of a
    /// response body before the request fails. Unset, a request's reply
    /// waits as long as the client's own deadlines allow (which cancel it),
    /// and other messages 60 s.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// The idle deadline for the reply to a request.
    pub(crate) fn request_idle(&self) -> Duration {
        self.idle_timeout.unwrap_or(self.session_cap)
    }

    /// The idle deadline for everything else (notifications, replies to
    /// the server, opening GET streams).
    pub(crate) fn message_idle(&self) -> Duration {
        self.idle_timeout.unwrap_or(DEFAULT_IDLE)
    }

    /// The longest wait to open a connection.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How many times in a row a broken event stream is reopened before
    /// giving up (default 5). For the standalone GET stream an attempt
    /// counts unless it delivered a message; the waits start at the
    /// server's `retry:` (at least 100 ms) and double.
    pub fn max_reconnects(mut self, n: u32) -> Self {
        self.max_reconnects = n;
        self
    }

    /// The URL without credentials or query (which may carry tokens), for
    /// logs and `Debug`.
    pub fn redacted_url(&self) -> String {
        match reqwest::Url::parse(&self.url) {
            Ok(mut u) => {
                let _ = u.set_username("");
                let _ = u.set_password(None);
                if u.query().is_some() {
                    u.set_query(Some("…"));
                }
                u.to_string()
            }
            Err(_) => "<invalid URL>".into(),
        }
    }

    /// True if the path ends in `/sse` (legacy SSE by convention).
    pub(crate) fn looks_like_sse(&self) -> bool {
        let path = self.url.split(['?', '#']).next().unwrap_or("");
        path.trim_end_matches('/')
            .to_ascii_lowercase()
            .ends_with("/sse")
    }
}

impl fmt::Debug for HttpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("HttpConfig")
            .field("url", &self.redacted_url())
            .field("headers", &names)
            .field("mode", &self.mode)
            .field("idle_timeout", &self.idle_timeout)
            .field("auth", &self.auth.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_header_values() {
        let c = HttpConfig::new("http://x/mcp").header("Authorization", "Bearer s3cret");
        let shown = format!("{c:?}");
        assert!(shown.contains("Authorization"));
        assert!(!shown.contains("s3cret"));
    }

    #[test]
    fn debug_hides_credentials_in_the_url() {
        let c = HttpConfig::new("https://me:pw@x.test/mcp?api_key=s3cret");
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("pw"),
            "{shown}"
        );
        assert!(shown.contains("x.test/mcp"), "{shown}");
    }

    #[test]
    fn sse_paths() {
        assert!(HttpConfig::new("http://x/sse").looks_like_sse());
        assert!(HttpConfig::new("http://x/a/SSE/?k=1").looks_like_sse());
        assert!(!HttpConfig::new("http://x/mcp").looks_like_sse());
        assert!(!HttpConfig::new("http://x/mcp?sse").looks_like_sse());
    }
}
