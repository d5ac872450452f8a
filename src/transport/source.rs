//! Where a server is, and so which transport reaches it. Inferring a
//! source from what a user types is the client's job (`client/source.rs`).

use std::fmt;
use std::sync::Arc;

use super::http::{HttpConfig, HttpTransport};
use super::memory::{InProcessServer, MemoryTransport};
use super::stdio::{StdioConfig, StdioTransport};
use super::Transport;
use crate::Result;

/// Where a server lives and so which transport reaches it.
#[derive(Clone)]
#[non_exhaustive]
pub enum Source {
    /// A child process speaking newline-delimited JSON-RPC on stdio.
    Stdio(StdioConfig),
    /// A Streamable HTTP endpoint (falls back to legacy SSE; `/sse` goes
    /// straight to SSE), with its headers and deadlines.
    Http(HttpConfig),
    /// A server running in this process.
    Memory(Arc<dyn InProcessServer>),
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Stdio(c) => write!(f, "Stdio({})", c.command_line()),
            Source::Http(c) => write!(f, "Http({})", c.redacted_url()),
            Source::Memory(_) => f.write_str("Memory"),
        }
    }
}

impl Source {
    /// A child process: `program` with `args`.
    pub fn stdio(
        program: impl Into<String>,
        args: impl IntoIterator<Item = impl Into<String>>,
    ) -> Source {
        Source::Stdio(StdioConfig::new(program, args))
    }

    /// A Streamable HTTP (or legacy SSE) URL.
    pub fn http(url: impl Into<String>) -> Source {
        Source::Http(HttpConfig::new(url))
    }

    /// A Streamable HTTP (or legacy SSE) URL with headers sent on every
    /// request, e.g. `[("Authorization", "Bearer ...")]`. Their values are
    /// secrets: never logged.
    pub fn http_with_headers<N, V>(
        url: impl Into<String>,
        headers: impl IntoIterator<Item = (N, V)>,
    ) -> Source
    where
        N: Into<String>,
        V: Into<String>,
    {
        let config = headers
            .into_iter()
            .fold(HttpConfig::new(url), |c, (n, v)| c.header(n, v));
        Source::Http(config)
    }

    /// A Streamable HTTP (or legacy SSE: a path ending in `/sse`, or a
    /// refused `initialize`) URL whose requests `auth` authorizes, e.g. an
    /// [`crate::auth::OAuth`] built from [`crate::auth::OAuthConfig`]. For
    /// a legacy SSE server whose path does not end in `/sse`, use
    /// `Source::Http(HttpConfig::new(url).mode(HttpMode::LegacySse).auth(auth))`.
    pub fn http_with_auth(
        url: impl Into<String>,
        auth: std::sync::Arc<dyn crate::auth::AuthProvider>,
    ) -> Source {
        Source::Http(HttpConfig::new(url).auth(auth))
    }

    /// A server in this process, e.g. one built with [`crate::testing::TestServer`].
    pub fn memory(server: impl InProcessServer) -> Source {
        Source::Memory(Arc::new(server))
    }

    /// Builds the transport for a single server, whose frames are at most
    /// `max_message_size` bytes.
    pub(crate) fn into_transport(self, max_message_size: usize) -> Result<Box<dyn Transport>> {
        match self {
            Source::Stdio(mut cfg) => {
                cfg.max_message_size = max_message_size;
                Ok(Box::new(StdioTransport::new(cfg)))
            }
            Source::Memory(server) => Ok(Box::new(MemoryTransport {
                server,
                max_message_size,
            })),
            Source::Http(mut config) => {
                config.max_message_size = max_message_size;
                Ok(Box::new(HttpTransport { config }))
            }
        }
    }
}
