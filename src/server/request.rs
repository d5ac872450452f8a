//! One request being served: what its era decided, kept for the handler's
//! [`Context`](super::Context) and for the reply.

use std::sync::Arc;

use serde_json::value::RawValue;

use crate::protocol::{
    ClientCapabilities, Era, Implementation, ProtocolVersion, RequestId, RequestMeta,
};

/// A request whose era has been decided and checked.
pub(crate) struct RequestInfo {
    /// The era it came through.
    pub(crate) era: Era,
    /// Negotiated (handshake era) or declared in `_meta` (2026-07-28).
    pub(crate) version: ProtocolVersion,
    /// Its id.
    pub(crate) id: RequestId,
    /// Its id exactly as received, echoed in the reply.
    pub(crate) raw_id: Box<RawValue>,
    /// The method.
    pub(crate) method: String,
    /// The client capabilities in force: `initialize`'s in the handshake
    /// era, the request's own in 2026-07-28.
    pub(crate) capabilities: Arc<ClientCapabilities>,
    /// Who the client says it is.
    pub(crate) client_info: Option<Arc<Implementation>>,
    /// `params._meta` (its capabilities and client info moved out).
    pub(crate) meta: RequestMeta,
}
