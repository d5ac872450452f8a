//! Transports move whole JSON-RPC messages between us and a server. A
//! message goes out as one [`Frame`]: the bytes the session encoded, plus,
//! for transports that route by it (HTTP), the [`FrameMeta`] the session
//! knows (kind, id, method, name, version, whether it may be repeated,
//! extra headers), so no transport parses what it sends. Every message read
//! comes back through an [`InboundSink`], and a request the transport could
//! not carry comes back as [`Inbound::Failed`] with a typed
//! [`TransportError`], never as a made-up JSON-RPC error.
//!
//! [`Source`] says which transport reaches a server (the client infers one
//! from what a user types). Any source can be recorded
//! ([`Source::record`]: every frame both ways, timed, secrets redacted)
//! and a recording served back ([`Source::replay`]).

mod auth;
mod frame;
pub mod http;
mod memory;
mod outbound;
mod record;
pub mod redact;
mod replay;
mod source;
mod sse;
pub(crate) mod sse_parse;
mod stdin_writer;
pub mod stdio;

use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;

pub use crate::error::TransportError;
pub use frame::{Frame, FrameKind, FrameMeta};
pub use http::{HttpConfig, HttpMode};
pub use memory::{InProcessServer, ServerEnd};
pub use outbound::{Outbound, SendError};
pub use record::Recording;
pub use source::Source;
pub use stdio::StdioConfig;

use crate::Result;

/// Default maximum size of one message: 32 MiB.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 32 * 1024 * 1024;

/// Why a transport stopped delivering messages.
#[derive(Debug, Clone)]
pub struct Closed {
    /// What happened (EOF, exit status, ...).
    pub reason: String,
    /// The last lines of the server's stderr, if it has one.
    pub stderr_tail: Vec<String>,
}

/// What a transport hands up.
#[derive(Debug)]
pub enum Inbound {
    /// One complete message (a JSON-RPC object or batch), without framing.
    Frame(Bytes),
    /// A message larger than the limit arrived and was discarded; `head` and
    /// `tail` are its first and last bytes, kept to find its id. A
    /// transport may report it as soon as it passes the limit, with `tail`
    /// empty (the rest is discarded as it arrives, and may never end), and
    /// then once more when it ends, with `head` empty and its tail.
    Oversized {
        /// Bytes seen before giving up (at least the limit).
        size: usize,
        /// The first bytes of the message (empty in the report of its end).
        head: Bytes,
        /// The last bytes of the message (empty while it goes on).
        tail: Bytes,
    },
    /// The request `id` failed in the transport: its reply will not come.
    Failed {
        /// The request's id (from its [`FrameMeta::id`]).
        id: i64,
        /// Why.
        error: TransportError,
    },
    /// No more messages will come.
    Closed(Closed),
}

/// Receives everything a transport reads, on the transport's own task.
/// Implementations must not block.
pub trait InboundSink: Send + Sync + 'static {
    /// Called for each inbound event, in order.
    fn deliver(&self, event: Inbound);
}

/// Control over a running transport.
pub trait TransportControl: Send + Sync + 'static {
    /// Shuts the transport down gracefully and within bounded time
    /// (for stdio: close stdin, wait, SIGTERM, wait, SIGKILL the group).
    fn close(&self) -> BoxFuture<'static, ()>;
    /// Stops the transport at once, synchronously (for drop paths): a stdio
    /// server's process group gets SIGKILL.
    fn kill(&self);
    /// The last lines the server wrote to stderr (empty where there is none).
    fn stderr_tail(&self) -> Vec<String>;
    /// A short description for logs and errors, e.g. `stdio: node x.js (pid 42)`.
    fn describe(&self) -> String;
    /// The key under which the server's era is remembered for later
    /// connections in this process (Streamable HTTP: scheme, host, port and
    /// path), or `None` to probe every time.
    fn era_key(&self) -> Option<String> {
        None
    }
}

/// A started transport: where to send frames, and how to stop it.
pub struct TransportHandle {
    /// Encoded messages to send, one per frame. Bounded: senders feel
    /// backpressure when the peer reads slowly. Says whether the transport
    /// reads frame metadata ([`Outbound::wants_meta`]).
    pub outbound: Outbound,
    /// Shutdown and diagnostics.
    pub control: Arc<dyn TransportControl>,
}

/// A transport that has not been started.
pub trait Transport: Send + 'static {
    /// Starts it: from now on every inbound event goes to `sink`.
    fn start(
        self: Box<Self>,
        sink: Arc<dyn InboundSink>,
    ) -> BoxFuture<'static, Result<TransportHandle>>;
}
