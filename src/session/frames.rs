//! The metadata of each frame the session sends, built once where the
//! frame is encoded (the session knows what it sends; no transport parses
//! it again). Byte transports (stdio, in-memory) get none: it is only
//! built when the transport asks for it ([`Outbound::wants_meta`]).

use bytes::Bytes;

use super::retry;
use crate::protocol::ProtocolVersion;
use crate::transport::{Frame, FrameMeta, Outbound};

/// What a caller above the session adds to one request's frame: the name
/// `Mcp-Name` mirrors and extra headers (`Mcp-Param-*`). Default: neither.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Target<'a> {
    /// The tool or prompt name, or the resource URI.
    pub(crate) name: Option<&'a str>,
    /// Extra headers, values raw (the transport encodes them).
    pub(crate) headers: &'a [(String, String)],
}

impl<'a> Target<'a> {
    /// A request named `name` (a tool, prompt or resource URI).
    pub(crate) fn named(name: &'a str) -> Self {
        Target {
            name: Some(name),
            headers: &[],
        }
    }
}

/// A request's frame.
#[inline]
pub(crate) fn request(
    out: &Outbound,
    bytes: Bytes,
    id: i64,
    method: &str,
    version: Option<ProtocolVersion>,
    target: Target<'_>,
) -> Frame {
    Frame::with_meta_if(bytes, out.wants_meta(), || {
        FrameMeta::request(id, method)
            .name(target.name)
            .version(version)
            .idempotent(retry::idempotent(method))
            .headers(target.headers.iter().cloned())
    })
}

/// A notification's frame (`cancels`: the id a `notifications/cancelled`
/// cancels).
pub(crate) fn notification(
    out: &Outbound,
    bytes: Bytes,
    method: &str,
    version: Option<ProtocolVersion>,
    cancels: Option<i64>,
) -> Frame {
    Frame::with_meta_if(bytes, out.wants_meta(), || {
        let meta = FrameMeta::notification(method).version(version);
        match cancels {
            Some(id) => meta.cancels(id),
            None => meta,
        }
    })
}

/// The frame of a reply to a server request.
pub(crate) fn response(out: &Outbound, bytes: Bytes, version: Option<ProtocolVersion>) -> Frame {
    Frame::with_meta_if(bytes, out.wants_meta(), || {
        FrameMeta::response().version(version)
    })
}
