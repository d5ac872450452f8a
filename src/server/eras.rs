//! The two protocol eras as a server sees them: which ones it speaks, the
//! version an `initialize` gets, and what every 2026-07-28 request must
//! declare in its `_meta`.

use std::sync::Arc;

use serde_json::json;

use super::error::error;
use crate::protocol::{
    codes, ClientCapabilities, Era, ErrorObject, Implementation, ProtocolVersion, RequestMeta,
};

/// Which protocol eras a server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Eras {
    /// Both: `server/discover` and `_meta` requests, and `initialize` (the
    /// default).
    #[default]
    Both,
    /// Only 2026-07-28: `initialize` is refused with the supported versions.
    ModernOnly,
    /// Only 2025-11-25 and earlier: `server/discover` is -32601.
    HandshakeOnly,
}

impl Eras {
    /// True when 2026-07-28 requests are served.
    pub fn modern(self) -> bool {
        self != Eras::HandshakeOnly
    }

    /// True when the `initialize` handshake is served.
    pub fn handshake(self) -> bool {
        self != Eras::ModernOnly
    }
}

/// The only modern revision served.
pub(crate) const MODERN: ProtocolVersion = ProtocolVersion::V2026_07_28;

/// The version answered to `initialize`: the requested one when it is a
/// handshake revision, else the latest handshake revision.
pub(crate) fn negotiate(requested: &str) -> ProtocolVersion {
    ProtocolVersion::parse(requested)
        .filter(|v| v.era() == Era::Handshake)
        .unwrap_or(ProtocolVersion::LATEST_HANDSHAKE)
}

/// The -32022 error listing the one modern revision served.
fn unsupported(message: String, requested: Option<&str>) -> ErrorObject {
    ErrorObject {
        code: codes::UNSUPPORTED_PROTOCOL_VERSION,
        message,
        data: Some(json!({"supported": [MODERN.as_str()], "requested": requested})),
    }
}

/// The answer a modern-only server gives to `initialize`.
pub(crate) fn initialize_refused(requested: &str) -> ErrorObject {
    unsupported(
        format!(
            "this server only speaks protocol version {}",
            MODERN.as_str()
        ),
        Some(requested),
    )
}

/// What a valid 2026-07-28 request declared.
pub(crate) struct Declared {
    pub(crate) capabilities: Arc<ClientCapabilities>,
    pub(crate) client_info: Option<Arc<Implementation>>,
}

/// Checks the `_meta` every 2026-07-28 request must carry and takes the
/// capabilities and identity out of it.
pub(crate) fn check_modern_meta(meta: Option<&mut RequestMeta>) -> Result<Declared, ErrorObject> {
    let invalid = |message: &str| error(codes::INVALID_PARAMS, message);
    let meta = meta.ok_or_else(|| invalid("missing params._meta (required in 2026-07-28)"))?;
    let version = meta
        .protocol_version
        .as_deref()
        .ok_or_else(|| invalid("missing _meta protocolVersion"))?;
    if version != MODERN.as_str() {
        return Err(unsupported(
            format!("unsupported protocol version {version}"),
            Some(version),
        ));
    }
    let capabilities = meta
        .client_capabilities
        .take()
        .ok_or_else(|| invalid("missing _meta clientCapabilities"))?;
    Ok(Declared {
        capabilities: Arc::new(capabilities),
        client_info: meta.client_info.take().map(Arc::new),
    })
}
