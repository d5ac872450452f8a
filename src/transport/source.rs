//! Where a server is: inferred from one string the way users type it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::http::{HttpConfig, HttpTransport};
use super::memory::{InProcessServer, MemoryTransport};
use super::stdio::{StdioConfig, StdioTransport};
use super::Transport;
use crate::session::SessionOptions;
use crate::{Error, Result};

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
    /// An `mcpServers` config file (JSON or TOML): many servers.
    Config(PathBuf),
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Stdio(c) => write!(f, "Stdio({})", c.command_line()),
            Source::Http(c) => write!(f, "Http({})", c.redacted_url()),
            Source::Memory(_) => f.write_str("Memory"),
            Source::Config(p) => write!(f, "Config({})", p.display()),
        }
    }
}

impl Source {
    /// Infers the source from one string:
    /// - `http://` / `https://`: Streamable HTTP (a path ending in `/sse`: legacy SSE);
    /// - a path ending `.json` or `.toml`: an `mcpServers` config;
    /// - a command whose program ends `.py` runs with `python3`, `.js`/`.mjs`/`.cjs` with `node`;
    /// - anything else: a command line, split as a POSIX shell would.
    pub fn infer(text: &str) -> Result<Source> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(Error::Config("empty server source".into()));
        }
        let lower = trimmed.to_ascii_lowercase();
        if let Some(name) = lower.strip_prefix("memory://") {
            return match name.trim_end_matches('/') {
                "demo" => Ok(Source::memory(crate::testing::demo_server())),
                other => Err(Error::Config(format!(
                    "memory://{other}: the only built-in in-process server is memory://demo"
                ))),
            };
        }
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Ok(Source::Http(HttpConfig::new(trimmed)));
        }
        if !trimmed.contains(char::is_whitespace)
            && (lower.ends_with(".json") || lower.ends_with(".toml"))
        {
            return Ok(Source::Config(PathBuf::from(trimmed)));
        }
        let words = shlex::split(trimmed).ok_or_else(|| {
            Error::Config(format!(
                "cannot split command line {trimmed:?} (unbalanced quotes?)"
            ))
        })?;
        let (program, args) = words
            .split_first()
            .ok_or_else(|| Error::Config("empty server command".into()))?;
        let program_lower = program.to_ascii_lowercase();
        let interpreter = if program_lower.ends_with(".py") {
            Some("python3")
        } else if [".js", ".mjs", ".cjs"]
            .iter()
            .any(|ext| program_lower.ends_with(ext))
        {
            Some("node")
        } else {
            None
        };
        Ok(Source::Stdio(match interpreter {
            Some(interp) => {
                let mut all = vec![program.clone()];
                all.extend(args.iter().cloned());
                StdioConfig::new(interp, all)
            }
            None => StdioConfig::new(program.clone(), args.to_vec()),
        }))
    }

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

    /// Builds the transport for a single server, within the session's
    /// limits (message size; an HTTP reply waits as long as a request may).
    pub(crate) fn into_transport_for(self, options: &SessionOptions) -> Result<Box<dyn Transport>> {
        match self {
            Source::Http(mut config) => {
                config.max_message_size = options.max_message_size;
                config.session_cap = options.max_request_time.max(options.request_timeout);
                config.connect_deadline = options.connect_timeout;
                Ok(Box::new(HttpTransport { config }))
            }
            other => other.into_transport(options.max_message_size),
        }
    }

    /// Builds the transport for a single server.
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
            Source::Config(path) => Err(Error::Config(format!(
                "{} is an mcpServers config with many servers; a single-server client needs one server's command or URL",
                path.display()
            ))),
        }
    }
}

/// Anything that names a server: a string to infer from, a path, a [`Source`].
pub trait IntoSource {
    /// Converts, failing with [`Error::Config`] when the text cannot be a source.
    fn into_source(self) -> Result<Source>;
}

impl IntoSource for Source {
    fn into_source(self) -> Result<Source> {
        Ok(self)
    }
}
impl IntoSource for &str {
    fn into_source(self) -> Result<Source> {
        Source::infer(self)
    }
}
impl IntoSource for String {
    fn into_source(self) -> Result<Source> {
        Source::infer(&self)
    }
}
impl IntoSource for &String {
    fn into_source(self) -> Result<Source> {
        Source::infer(self)
    }
}
impl IntoSource for &Path {
    fn into_source(self) -> Result<Source> {
        Source::infer(&self.to_string_lossy())
    }
}
impl IntoSource for PathBuf {
    fn into_source(self) -> Result<Source> {
        self.as_path().into_source()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stdio(s: &str) -> (String, Vec<String>) {
        match Source::infer(s).unwrap() {
            Source::Stdio(c) => (c.program, c.args),
            other => panic!("expected stdio, got {other:?}"),
        }
    }

    #[test]
    fn infers_each_kind_of_source() {
        assert!(matches!(
            Source::infer("https://x.test/mcp").unwrap(),
            Source::Http(_)
        ));
        assert!(matches!(
            Source::infer("HTTP://x.test/sse").unwrap(),
            Source::Http(_)
        ));
        assert!(matches!(
            Source::infer("servers.json").unwrap(),
            Source::Config(_)
        ));
        assert!(matches!(
            Source::infer("cfg/mcp.toml").unwrap(),
            Source::Config(_)
        ));
        assert_eq!(
            stdio("server.py --port 3"),
            (
                "python3".into(),
                vec!["server.py".into(), "--port".into(), "3".into()]
            )
        );
        assert_eq!(
            stdio("./dist/index.mjs stdio"),
            (
                "node".into(),
                vec!["./dist/index.mjs".into(), "stdio".into()]
            )
        );
        assert_eq!(
            stdio("npx -y 'some pkg'"),
            ("npx".into(), vec!["-y".into(), "some pkg".into()])
        );
    }

    #[test]
    fn rejects_what_cannot_be_a_source() {
        assert!(Source::infer("   ").is_err());
        assert!(Source::infer("cmd 'unclosed").is_err());
    }
}
