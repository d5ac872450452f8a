//! The one error type of the library.
//!
//! Every failure a caller can act on is its own variant, so code can `match`
//! instead of parsing messages. Errors the peer sent (JSON-RPC errors) keep
//! their code, message and data untouched; errors we raise locally (timeouts,
//! a dead transport) can never be mistaken for them.

mod auth;
mod config;
mod fan_out;
mod from_wire;
pub(crate) mod model;
mod policy;
mod skill;
mod task;
mod transport;

use std::time::Duration;

use serde_json::Value;

pub use crate::protocol::ProtocolError;
pub use auth::{AuthError, AuthErrorKind};
pub use config::ConfigError;
pub use fan_out::{FanOutError, FanOutErrorKind, LegEnd, LegReport};
pub use model::ModelError;
pub use policy::PolicyError;
pub use skill::SkillError;
pub use task::TaskError;
pub use transport::TransportError;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to an MCP server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a JSON-RPC error object.
    #[error("server error {code}: {}", without_code(message, *code))]
    Protocol {
        /// The JSON-RPC error code (see [`crate::protocol::codes`]).
        code: i64,
        /// The server's message.
        message: String,
        /// Optional structured data the server attached.
        data: Option<Value>,
    },
    /// The server broke the protocol: malformed JSON where a reply was due,
    /// a result of the wrong shape, an unknown `resultType`, ...
    #[error("invalid message from server: {0}")]
    InvalidMessage(String),
    /// A message exceeded the configured maximum size and was discarded.
    #[error("message of {size} bytes exceeds the limit of {limit} bytes")]
    MessageTooLarge {
        /// Size of the offending message in bytes (at least this many).
        size: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The request did not complete within its deadline.
    #[error("{method} timed out after {elapsed:?}{}", hint.as_deref().map(|h| format!(" ({h})")).unwrap_or_default())]
    Timeout {
        /// The method that timed out.
        method: String,
        /// How long we waited.
        elapsed: Duration,
        /// What we know that may explain it (ignored garbage, unknown ids...).
        hint: Option<String>,
    },
    /// The request was cancelled by the caller.
    #[error("request cancelled")]
    Cancelled,
    /// The connection to the server is gone (process exited, stream closed).
    #[error("connection closed: {reason}{}", stderr_suffix(stderr_tail))]
    ConnectionClosed {
        /// Why, as far as we know (exit status, EOF, ...).
        reason: String,
        /// The last lines the server wrote to stderr, if any.
        stderr_tail: Vec<String>,
    },
    /// The server's connection was restarted while the call was in flight;
    /// the call may or may not have run. Tool calls are sent again only as
    /// the client's [`ReplayPolicy`](crate::client::ReplayPolicy) allows,
    /// and once: this error means the call was not (or its one replay was
    /// cut too).
    #[error("server restarted while the call was in flight; its outcome is unknown")]
    ServerRestarted,
    /// The server failed too often in a row; calls fail fast until the
    /// breaker lets a probe through and it succeeds.
    #[error(
        "server {server}: circuit breaker open (retry in {retry_in:?}); last error: {last_error}"
    )]
    CircuitOpen {
        /// The server's name.
        server: String,
        /// When the next probe is due.
        retry_in: Duration,
        /// What failed last.
        last_error: String,
    },
    /// Starting or reaching the server failed.
    #[error("could not connect: {message}{}", stderr_suffix(stderr_tail))]
    Connect {
        /// What failed.
        message: String,
        /// The last lines the server wrote to stderr, if any.
        stderr_tail: Vec<String>,
    },
    /// Client and server share no protocol version.
    #[error("no mutual protocol version: server supports {server:?}, we support {client:?}")]
    UnsupportedVersion {
        /// Versions the server offered.
        server: Vec<String>,
        /// Versions this client speaks.
        client: Vec<String>,
    },
    /// The operation does not exist in the negotiated protocol era or the
    /// server did not advertise the capability it needs.
    #[error("not supported: {0}")]
    NotSupported(String),
    /// The call belongs to an extension the server did not declare in its
    /// `capabilities.extensions` (e.g. `skills/list` without
    /// `io.modelcontextprotocol/skills`).
    #[error("the server does not declare the {extension} extension")]
    ExtensionNotDeclared {
        /// The extension's identifier.
        extension: String,
    },
    /// A skill's content could not be verified against its manifest and
    /// was refused (see [`SkillError`]).
    #[error(transparent)]
    Skill(#[from] SkillError),
    /// A task ended without a result, or could not be followed (see
    /// [`TaskError`]).
    #[error(transparent)]
    Task(#[from] TaskError),
    /// A tool answered with `isError: true` (only from calls that ask for it,
    /// like [`crate::ToolOutput::into_result`]).
    #[error("tool {tool} failed: {message}")]
    ToolFailed {
        /// The tool's name.
        tool: String,
        /// The text content of the error result.
        message: String,
    },
    /// Structured output did not match the tool's `outputSchema`, or could
    /// not be decoded into the requested type.
    #[error("structured output of {tool}: {message}")]
    OutputValidation {
        /// The tool's name.
        tool: String,
        /// What did not match.
        message: String,
    },
    /// The transport could not carry a request or its reply: an HTTP error
    /// status without a JSON-RPC error body, a refused or reset connection,
    /// a response stream that broke, an expired HTTP session. The server
    /// may or may not have acted on the request; the
    /// [`TransportError`] says what
    /// happened (and [`TransportError::status`]
    /// the HTTP status, if any).
    #[error("transport: {0}")]
    Transport(#[from] TransportError),
    /// A list call (all its pages together) went past one of its caps:
    /// pages (`ClientBuilder::max_pages`, default 64), items (100,000) or
    /// bytes (4 times `ClientBuilder::max_message_size`: 128 MiB by
    /// default). Nothing of the list is returned.
    #[error("{method}: more than {cap} {limit} in one list call (the cap on {limit}, all pages together)")]
    ListTooLarge {
        /// The list method, e.g. `tools/list`.
        method: String,
        /// Which cap was passed.
        limit: ListLimit,
        /// The cap's value.
        cap: u64,
    },
    /// The client was used before it was initialized, or after it was closed.
    #[error("client is not connected: {0}")]
    NotConnected(String),
    /// Input-required rounds went on longer than the configured cap.
    #[error("{method}: server asked for input more than {rounds} times")]
    TooManyRounds {
        /// The method being retried.
        method: String,
        /// The cap that was hit.
        rounds: u32,
    },
    /// (2026-07-28) The server answered `input_required` to a call made
    /// with [`CallOptions::relay_input_required`](crate::CallOptions::relay_input_required):
    /// its asks and `requestState` as it sent them, for the caller to pass
    /// on and to retry with [`CallOptions::resume`](crate::CallOptions::resume).
    #[error("{method}: the server asked for input ({} asks), relayed to the caller", input_requests.len())]
    InputRequired {
        /// The call that needs the input.
        method: String,
        /// The asks by key, each `{method, params}` as the server sent it.
        input_requests: serde_json::Map<String, serde_json::Value>,
        /// The server's `requestState`, to send back with the answers.
        request_state: Option<String>,
    },
    /// The server needed input (sampling, elicitation, roots) that this
    /// client could not or would not give, so the call could not go on.
    #[error("{method}: could not answer the server's {request}: {message}")]
    InputDeclined {
        /// The call that needed the input.
        method: String,
        /// What the server asked for, e.g. `sampling/createMessage`.
        request: String,
        /// Why not.
        message: String,
    },
    /// Authorizing to an HTTP server failed (OAuth discovery,
    /// registration, the user's consent, the token endpoint, the token
    /// store) or was refused for safety (an issuer or resource that does
    /// not match); [`AuthError::kind`] says which.
    #[error("authorization: {0}")]
    Auth(#[from] AuthError),
    /// A setting could not be used: a config file, a server's entry, an
    /// agent or policy table, a builder setting. The [`ConfigError`] names
    /// the file, server and field where they are known.
    #[error("configuration: {0}")]
    Config(#[from] ConfigError),
    /// The caller passed a value the operation cannot take (tool arguments
    /// that are not a JSON object, an empty source, a malformed `KEY=VALUE`).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// What the caller named does not exist: no such server in the fleet,
    /// no such tool or prompt among its servers, no such agent.
    #[error("no {kind} named {name:?}{}", hint.as_deref().map(|h| format!("; {h}")).unwrap_or_default())]
    NotFound {
        /// What was looked for.
        kind: NotFoundKind,
        /// The name as given.
        name: String,
        /// What may help: the names that were meant, why a known name is
        /// not offered.
        hint: Option<String>,
    },
    /// A policy could not be built or reached (see [`PolicyError`]).
    #[error(transparent)]
    Policy(#[from] PolicyError),
    /// Serializing a request failed (a caller-supplied value that is not JSON).
    #[error("could not encode request: {0}")]
    Encode(String),
    /// An I/O error outside any connection (spawning, files).
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A race, quorum or gathered read over several servers did not get
    /// the successes it needed; [`FanOutError`] says how each leg ended.
    #[error(transparent)]
    FanOut(#[from] FanOutError),
    /// A call to a model endpoint failed or was refused (sampling, agents);
    /// [`ModelError::code`] names the kind.
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// What an [`Error::NotFound`] looked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NotFoundKind {
    /// A server of a fleet.
    Server,
    /// A tool.
    Tool,
    /// A prompt.
    Prompt,
    /// A resource (by URI) no server of a fleet lists.
    Resource,
    /// An agent definition.
    Agent,
}

impl std::fmt::Display for NotFoundKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NotFoundKind::Server => "server",
            NotFoundKind::Tool => "tool",
            NotFoundKind::Prompt => "prompt",
            NotFoundKind::Resource => "resource",
            NotFoundKind::Agent => "agent",
        })
    }
}

/// Which cap of a list call was passed (see [`Error::ListTooLarge`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListLimit {
    /// The number of pages.
    Pages,
    /// The number of items.
    Items,
    /// The bytes of the pages.
    Bytes,
}

impl std::fmt::Display for ListLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ListLimit::Pages => "pages",
            ListLimit::Items => "items",
            ListLimit::Bytes => "bytes",
        })
    }
}

fn stderr_suffix(tail: &[String]) -> String {
    if tail.is_empty() {
        String::new()
    } else {
        format!("; server stderr (last lines):\n  {}", tail.join("\n  "))
    }
}

impl Error {
    /// An [`Error::Auth`] of `kind`.
    pub(crate) fn auth(kind: AuthErrorKind, message: impl Into<String>) -> Error {
        Error::Auth(AuthError::new(kind, message))
    }

    /// An [`Error::InvalidArgument`].
    pub(crate) fn invalid_argument(message: impl Into<String>) -> Error {
        Error::InvalidArgument(message.into())
    }

    /// An [`Error::NotFound`] of `kind` named `name`.
    pub(crate) fn not_found(
        kind: NotFoundKind,
        name: impl Into<String>,
        hint: Option<String>,
    ) -> Error {
        Error::NotFound {
            kind,
            name: name.into(),
            hint,
        }
    }

    /// An [`Error::Config`] about `field`.
    pub(crate) fn config_field(field: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::Config(ConfigError::new(reason).in_field(field))
    }

    /// A configuration error about a field of `table` (its field, if any,
    /// becomes `table.field`; another error becomes one about `table`).
    pub(crate) fn within(self, table: &str) -> Error {
        let mut problem = match self {
            Error::Config(c) => c,
            other => ConfigError::new(other.to_string()),
        };
        problem.field = Some(match problem.field.take() {
            Some(field) => format!("{table}.{field}"),
            None => table.to_owned(),
        });
        Error::Config(problem)
    }

    /// A configuration error placed in `file` (another error becomes one,
    /// with its text as the reason).
    pub(crate) fn in_file(self, file: &str) -> Error {
        let problem = match self {
            Error::Config(c) if c.file.is_some() => c,
            Error::Config(c) => c.in_file(file),
            other => ConfigError::new(other.to_string()).in_file(file),
        };
        Error::Config(problem)
    }

    /// A configuration error placed in the entry of `server` (another
    /// error becomes one, with its text as the reason).
    pub(crate) fn in_server(self, server: &str) -> Error {
        let problem = match self {
            Error::Config(c) if c.server.is_some() => c,
            Error::Config(c) => c.in_server(server),
            other => ConfigError::new(other.to_string()).in_server(server),
        };
        Error::Config(problem)
    }

    /// An [`Error::Config`] with only its reason (no file, server or
    /// field known).
    pub(crate) fn config(reason: impl Into<String>) -> Error {
        Error::Config(ConfigError::new(reason))
    }

    /// The JSON-RPC error code, when the server sent an error.
    pub fn code(&self) -> Option<i64> {
        match self {
            Error::Protocol { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The `method` of the [`Error::Timeout`] for a connection that was
    /// not negotiated (or, for legacy SSE, not reached) within its connect
    /// deadline.
    pub const CONNECT: &'static str = "connect";

    /// The server's last stderr lines carried by a connection error (empty
    /// for other errors).
    pub fn stderr_tail(&self) -> &[String] {
        match self {
            Error::Connect { stderr_tail, .. } | Error::ConnectionClosed { stderr_tail, .. } => {
                stderr_tail
            }
            _ => &[],
        }
    }

    /// True for a skill verification failure (digest, size, frontmatter,
    /// unverifiable or unlisted file): the content was refused.
    pub fn is_skill_verification(&self) -> bool {
        matches!(self, Error::Skill(_))
    }

    /// True for an [`Error::Config`]: a setting that cannot be used.
    pub fn is_config(&self) -> bool {
        matches!(self, Error::Config(_))
    }

    /// The configuration error, for an [`Error::Config`].
    pub fn as_config(&self) -> Option<&ConfigError> {
        match self {
            Error::Config(c) => Some(c),
            _ => None,
        }
    }

    /// True for an [`Error::Auth`].
    pub fn is_auth(&self) -> bool {
        matches!(self, Error::Auth(_))
    }

    /// The authorization failure, for an [`Error::Auth`].
    pub fn as_auth(&self) -> Option<&AuthError> {
        match self {
            Error::Auth(a) => Some(a),
            _ => None,
        }
    }

    /// True for an [`Error::InvalidArgument`].
    pub fn is_invalid_argument(&self) -> bool {
        matches!(self, Error::InvalidArgument(_))
    }

    /// True for an [`Error::NotFound`] (of any kind).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::NotFound { .. })
    }

    /// True for an [`Error::Policy`].
    pub fn is_policy(&self) -> bool {
        matches!(self, Error::Policy(_))
    }

    /// True for a mistake of the caller's, not a failure of a server or
    /// the network: a configuration error (a policy's included), an
    /// invalid argument, a name that does not exist. The CLI exits with
    /// its usage code (2) for these.
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::Config(_)
                | Error::InvalidArgument(_)
                | Error::NotFound { .. }
                | Error::Policy(PolicyError::Config(_) | PolicyError::Root { .. })
                | Error::Model(ModelError::Config(_))
        )
    }

    /// The transport's failure, for an [`Error::Transport`].
    pub fn as_transport(&self) -> Option<&TransportError> {
        match self {
            Error::Transport(t) => Some(t),
            _ => None,
        }
    }

    /// True for an [`Error::Transport`]: the transport, not the server's
    /// protocol handling, failed the request.
    pub fn is_transport(&self) -> bool {
        matches!(self, Error::Transport(_))
    }

    /// True for errors that mean the connection itself is gone.
    pub fn is_connection_lost(&self) -> bool {
        matches!(
            self,
            Error::ConnectionClosed { .. }
                | Error::ServerRestarted
                | Error::NotConnected(_)
                | Error::CircuitOpen { .. }
        )
    }
}

/// A server's message without the code it repeats (the TypeScript SDK
/// writes `MCP error -32602: ...`), so the code is shown once.
fn without_code(message: &str, code: i64) -> &str {
    let prefix = format!("MCP error {code}:");
    message
        .strip_prefix(prefix.as_str())
        .map_or(message, str::trim_start)
}

#[cfg(test)]
mod display_tests {
    use super::*;

    #[test]
    fn a_code_the_message_repeats_is_shown_once() {
        let e = Error::Protocol {
            code: -32602,
            message: "MCP error -32602: Tool nope not found".into(),
            data: None,
        };
        assert_eq!(e.to_string(), "server error -32602: Tool nope not found");
        let other = Error::Protocol {
            code: -32602,
            message: "MCP error -32601: odd".into(),
            data: None,
        };
        assert_eq!(
            other.to_string(),
            "server error -32602: MCP error -32601: odd"
        );
    }
}
