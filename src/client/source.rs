//! Where a server is, inferred from one string the way users type it, and
//! the transport a client opens for it.

use std::path::{Path, PathBuf};

use crate::session::SessionOptions;
use crate::transport::{HttpConfig, Source, StdioConfig, Transport};
use crate::{Error, Result};

/// Whether `text` names an `mcpServers` config file (a path ending `.json`
/// or `.toml`, no spaces): many servers, so a fleet rather than a client.
pub fn is_config_path(text: &str) -> bool {
    let trimmed = text.trim();
    let lower = trimmed.to_ascii_lowercase();
    !trimmed.contains(char::is_whitespace) && (lower.ends_with(".json") || lower.ends_with(".toml"))
}

impl Source {
    /// Infers the source from one string:
    /// - `http://` / `https://`: Streamable HTTP (a path ending in `/sse`: legacy SSE);
    /// - `replay://PATH`: a recorded session served back ([`Source::replay`]);
    /// - a path ending `.json` or `.toml` is refused: it is an `mcpServers`
    ///   config of many servers (see [`is_config_path`] and `Fleet::from_config`);
    /// - a command whose program ends `.py` runs with `python3`, `.js`/`.mjs`/`.cjs` with `node`;
    /// - anything else: a command line, split as a POSIX shell would.
    pub fn infer(text: &str) -> Result<Source> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(Error::invalid_argument("empty server source"));
        }
        let lower = trimmed.to_ascii_lowercase();
        if lower.starts_with("memory://") {
            return Err(Error::invalid_argument(format!(
                "{trimmed}: an in-process server is built in code (Source::memory); \
                 memory://demo is known to the CLI and to config files"
            )));
        }
        if lower.starts_with("replay://") {
            return Ok(Source::replay(&trimmed["replay://".len()..]));
        }
        if lower.starts_with("http://") || lower.starts_with("https://") {
            return Ok(Source::Http(HttpConfig::new(trimmed)));
        }
        if is_config_path(trimmed) {
            return Err(Error::invalid_argument(format!(
                "{trimmed} is an mcpServers config with many servers: load it with \
                 Fleet::from_config (a client reaches one server's command or URL)"
            )));
        }
        let words = shlex::split(trimmed).ok_or_else(|| {
            Error::invalid_argument(format!(
                "cannot split command line {trimmed:?} (unbalanced quotes?)"
            ))
        })?;
        let (program, args) = words
            .split_first()
            .ok_or_else(|| Error::invalid_argument("empty server command"))?;
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
}

/// Builds the transport for a single server, within the session's
/// limits (message size; an HTTP reply waits as long as a request may).
pub(crate) fn transport_for(
    source: Source,
    options: &SessionOptions,
) -> Result<Box<dyn Transport>> {
    deadlines(source, options).into_transport(options.max_message_size)
}

/// `source` with the session's deadlines on its HTTP config (a recorded
/// source's too).
fn deadlines(source: Source, options: &SessionOptions) -> Source {
    match source {
        Source::Http(mut config) => {
            config.session_cap = options.max_request_time.max(options.request_timeout);
            config.connect_deadline = options.connect_timeout;
            Source::Http(config)
        }
        Source::Record(recording) => {
            Source::Record(recording.map_inner(|inner| deadlines(inner, options)))
        }
        other => other,
    }
}

/// Anything that names a server: a string to infer from, a path, a [`Source`].
pub trait IntoSource {
    /// Converts, failing with [`Error::InvalidArgument`] when the text
    /// cannot be a source.
    fn into_source(self) -> Result<Source>;
}

impl IntoSource for Source {
    fn into_source(self) -> Result<Source> {
        Ok(self)
    }
}
/// A stdio server configured in code (environment, working directory):
/// `Client::builder(StdioConfig::new("python3", ["server.py"]).env("K", "v"))`.
impl IntoSource for StdioConfig {
    fn into_source(self) -> Result<Source> {
        Ok(Source::Stdio(self))
    }
}
/// A Streamable HTTP (or legacy SSE) server configured in code.
impl IntoSource for HttpConfig {
    fn into_source(self) -> Result<Source> {
        Ok(Source::Http(self))
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
        assert!(is_config_path("servers.json") && is_config_path(" cfg/MCP.toml"));
        assert!(!is_config_path("node x.json") && !is_config_path("server.py"));
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
        let config = Source::infer("servers.json").unwrap_err().to_string();
        assert!(config.contains("Fleet::from_config"), "{config}");
        let memory = Source::infer("memory://demo").unwrap_err().to_string();
        assert!(memory.contains("Source::memory"), "{memory}");
    }
}
