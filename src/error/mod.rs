//! The one error type of the library.
//!
//! Every failure a caller can act on is its own variant, so code can `match`
//! instead of parsing messages. Errors the peer sent (JSON-RPC errors) keep
//! their code, message and data untouched; errors we raise locally (timeouts,
//! a dead transport) can never be mistaken for them.

mod from_wire;
pub(crate) mod model;
mod transport;

use std::time::Duration;

use serde_json::Value;

pub use crate::protocol::ProtocolError;
pub use model::ModelError;
pub use transport::TransportError;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to an MCP server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a JSON-RPC error object.
    #[error("server error {code}: {message}")]
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
    /// the call may or may not have run. It is never replayed silently.
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
    /// A skill file's bytes do not hash to the digest its manifest lists.
    /// The content was discarded.
    #[error(
        "skill file {uri}: digest mismatch (listed {expected}, read {actual}); content refused"
    )]
    SkillDigestMismatch {
        /// The file's URI.
        uri: String,
        /// The digest the manifest lists.
        expected: String,
        /// The digest of the bytes read (`sha256:<hex>`).
        actual: String,
    },
    /// A skill file's length differs from the size its manifest lists (a
    /// verification failure like a digest mismatch). The content was
    /// discarded.
    #[error(
        "skill file {uri}: size mismatch (listed {expected} bytes, read {actual}); content refused"
    )]
    SkillSizeMismatch {
        /// The file's URI.
        uri: String,
        /// The size the manifest lists.
        expected: u64,
        /// The length of the bytes read.
        actual: u64,
    },
    /// A `SKILL.md`'s frontmatter differs from the frontmatter its
    /// `skills/list` entry carries. The skill was not loaded.
    #[error("skill {uri}: frontmatter field {field:?} differs (listed {listed}, file has {file}); skill not loaded")]
    SkillFrontmatterMismatch {
        /// The `SKILL.md` URI.
        uri: String,
        /// The first field that differs.
        field: String,
        /// The field's value in the listed entry (`null` when absent).
        listed: Value,
        /// The field's value in the file (`null` when absent).
        file: Value,
    },
    /// A skill file could not be verified: a `SKILL.md` without parseable
    /// YAML frontmatter, a read that returned no content for the file, a
    /// manifest digest this client cannot check. The skill was not loaded
    /// (or the file not returned).
    #[error("skill file {uri}: {message}; content refused")]
    SkillInvalid {
        /// The file's URI.
        uri: String,
        /// What is wrong.
        message: String,
    },
    /// A file was asked of a skill whose manifest does not list it:
    /// reading it would be a verification failure, so it is not read.
    #[error("skill {skill}: {uri} is not listed in its manifest; not read")]
    SkillFileNotListed {
        /// The skill's URI.
        skill: String,
        /// The file asked for.
        uri: String,
    },
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
    /// registration, the user's consent, the token endpoint) or was
    /// refused for safety (an issuer or resource that does not match).
    #[error("authorization: {0}")]
    Auth(String),
    /// Bad configuration or arguments from the caller.
    #[error("configuration: {0}")]
    Config(String),
    /// Serializing a request failed (a caller-supplied value that is not JSON).
    #[error("could not encode request: {0}")]
    Encode(String),
    /// An I/O error outside any connection (spawning, files).
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A call to a model endpoint failed or was refused (sampling, agents);
    /// [`ModelError::code`] names the kind.
    #[error(transparent)]
    Model(#[from] ModelError),
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
        matches!(
            self,
            Error::SkillDigestMismatch { .. }
                | Error::SkillSizeMismatch { .. }
                | Error::SkillFrontmatterMismatch { .. }
                | Error::SkillInvalid { .. }
                | Error::SkillFileNotListed { .. }
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
