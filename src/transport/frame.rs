//! What the session hands a transport: one encoded JSON-RPC message, and
//! what the session knows about it (kind, id, method, name, protocol
//! version, whether it may be repeated, extra headers).
//!
//! The metadata exists for transports that route or decorate by it
//! (Streamable HTTP builds its headers from it; legacy SSE needs the kind
//! and id). A transport that only writes bytes (stdio, in-memory) never
//! reads it, so the session does not build it for them:
//! [`Outbound::wants_meta`](super::Outbound::wants_meta) says which is
//! which, and a frame sent to a byte transport carries `None`.

use bytes::Bytes;

use crate::protocol::ProtocolVersion;

/// What an outgoing message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// A request of ours: a reply (or a [`super::TransportError`] in its
    /// place) is due for its id.
    Request,
    /// A notification: nothing comes back.
    Notification,
    /// Our reply to a request of the server (handshake era).
    Response,
}

/// What the session knows about one outgoing message, so a transport never
/// has to parse the bytes to learn it.
///
/// Built with [`FrameMeta::request`], [`FrameMeta::notification`] or
/// [`FrameMeta::response`] and the setters below; every field defaults to
/// "not known / not set".
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FrameMeta {
    /// Request, notification or response.
    pub kind: FrameKind,
    /// The JSON-RPC id of a request (ours are integers); `None` otherwise.
    pub id: Option<i64>,
    /// The method (empty for a response).
    pub method: String,
    /// What `Mcp-Name` mirrors: the tool (`tools/call`) or prompt
    /// (`prompts/get`) name, or the resource URI (`resources/read`).
    pub name: Option<String>,
    /// The protocol revision the message speaks: for 2026-07-28 requests,
    /// the `_meta` protocolVersion; in the handshake era the agreed
    /// version (none on `initialize`, which proposes one).
    pub version: Option<ProtocolVersion>,
    /// True if sending the request again cannot do harm (it only reads).
    /// The session decides retries with it; a transport may use it to
    /// re-send a request it knows never reached the server. Default false.
    pub idempotent: bool,
    /// For `notifications/cancelled`: the id of the request it cancels.
    pub cancels: Option<i64>,
    /// Extra headers for this message (e.g. `Mcp-Param-Region` from a
    /// tool's `x-mcp-header` annotations): names as sent, values raw: an
    /// HTTP transport encodes a value that is not plain visible ASCII as
    /// the 2026-07-28 spec says (`=?base64?…?=`). Transports without
    /// headers ignore them. Default none.
    pub headers: Vec<(String, String)>,
}

impl FrameMeta {
    fn new(kind: FrameKind, id: Option<i64>, method: String) -> Self {
        FrameMeta {
            kind,
            id,
            method,
            name: None,
            version: None,
            idempotent: false,
            cancels: None,
            headers: Vec::new(),
        }
    }

    /// A request with this id and method.
    pub fn request(id: i64, method: impl Into<String>) -> Self {
        Self::new(FrameKind::Request, Some(id), method.into())
    }

    /// A notification.
    pub fn notification(method: impl Into<String>) -> Self {
        Self::new(FrameKind::Notification, None, method.into())
    }

    /// A reply to a server request.
    pub fn response() -> Self {
        Self::new(FrameKind::Response, None, String::new())
    }

    /// Sets what `Mcp-Name` mirrors.
    pub fn name(mut self, name: Option<impl Into<String>>) -> Self {
        self.name = name.map(Into::into);
        self
    }

    /// Sets the protocol revision the message speaks.
    pub fn version(mut self, version: Option<ProtocolVersion>) -> Self {
        self.version = version;
        self
    }

    /// Marks a request as safe to send again.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }

    /// Marks a `notifications/cancelled` with the id it cancels.
    pub fn cancels(mut self, id: i64) -> Self {
        self.cancels = Some(id);
        self
    }

    /// Adds extra headers.
    pub fn headers(mut self, headers: impl IntoIterator<Item = (String, String)>) -> Self {
        self.headers.extend(headers);
        self
    }
}

/// One outgoing message: its bytes (one JSON-RPC object, without framing)
/// and, for transports that want it, its [`FrameMeta`].
///
/// A `Frame` made from bare [`Bytes`] has no metadata: fine for a byte
/// transport; a routing transport (Streamable HTTP, legacy SSE) refuses it
/// with a warning, as it cannot tell what it is.
#[derive(Debug, Clone)]
pub struct Frame {
    bytes: Bytes,
    meta: Option<Box<FrameMeta>>,
}

impl Frame {
    /// A frame with its metadata.
    pub fn new(bytes: Bytes, meta: FrameMeta) -> Self {
        Frame {
            bytes,
            meta: Some(Box::new(meta)),
        }
    }

    /// A frame whose metadata is built only when `wanted` (the session
    /// passes [`Outbound::wants_meta`](super::Outbound::wants_meta)), so a
    /// byte transport costs nothing extra per message.
    #[inline]
    pub fn with_meta_if(bytes: Bytes, wanted: bool, meta: impl FnOnce() -> FrameMeta) -> Self {
        Frame {
            bytes,
            meta: wanted.then(|| Box::new(meta())),
        }
    }

    /// The encoded message.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// The metadata, when the session built it.
    pub fn meta(&self) -> Option<&FrameMeta> {
        self.meta.as_deref()
    }

    /// The bytes alone (what a byte transport writes).
    pub fn into_bytes(self) -> Bytes {
        self.bytes
    }

    /// Bytes and metadata.
    pub fn into_parts(self) -> (Bytes, Option<Box<FrameMeta>>) {
        (self.bytes, self.meta)
    }
}

impl From<Bytes> for Frame {
    /// A frame without metadata (see [`Frame`]).
    fn from(bytes: Bytes) -> Self {
        Frame { bytes, meta: None }
    }
}
