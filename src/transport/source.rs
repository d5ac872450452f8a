//! Where a server is, and so which transport reaches it. Inferring a
//! source from what a user types is the client's job (`client/source.rs`).

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use super::http::{HttpConfig, HttpTransport};
use super::memory::{InProcessServer, MemoryTransport};
use super::record::Recording;
use super::replay::ReplayTransport;
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
    /// Another source, every frame of its sessions recorded to a file
    /// ([`Source::record`]).
    Record(Recording),
    /// A recorded session served back ([`Source::replay`]): no server.
    Replay(PathBuf),
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Stdio(c) => write!(f, "Stdio({})", c.command_line()),
            Source::Http(c) => write!(f, "Http({})", c.redacted_url()),
            Source::Memory(_) => f.write_str("Memory"),
            Source::Record(r) => write!(f, "Record({:?} to {})", r.inner, r.path().display()),
            Source::Replay(path) => write!(f, "Replay({})", path.display()),
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

    /// This source, with every frame of its sessions written to `path` as
    /// JSON lines with their times (the file is created on the first
    /// connection; a restart appends). Values under secret-looking keys
    /// (`authorization`, `apiKey`, `token`, `password`, ...), bearer
    /// tokens, and the values this source was given (environment values,
    /// header values, URL query values) are written as `[redacted]`.
    pub fn record(self, path: impl Into<PathBuf>) -> Source {
        Source::Record(Recording::new(self, path.into()))
    }

    /// A recorded session ([`Source::record`], `switchboard record`)
    /// served back: each request is matched against the recorded ones by
    /// method and params (ids, progress tokens and trace context ignored)
    /// and gets what the server sent then, in order; a request the
    /// recording does not hold fails with
    /// [`crate::transport::TransportError::ReplayMismatch`] naming the
    /// recorded request that was due. The file is read when the client
    /// connects. As a string: `replay://session.jsonl`.
    pub fn replay(path: impl Into<PathBuf>) -> Source {
        Source::Replay(path.into())
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
            Source::Record(recording) => recording.into_transport(max_message_size),
            Source::Replay(path) => Ok(Box::new(ReplayTransport { path })),
        }
    }
}
