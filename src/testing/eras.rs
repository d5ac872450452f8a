//! The two protocol eras as a server sees them: which ones it speaks, how a
//! handshake version is negotiated, how a modern request's `_meta` is checked,
//! and the `requestState` tokens of input-required rounds.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::Mutex;

use serde_json::{json, Map, Value};

use super::context::LogLevel;
use crate::protocol::codes;
use crate::protocol::version::meta;
use crate::protocol::{ErrorObject, ProtocolVersion};

/// Which protocol eras a [`super::TestServer`] speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Eras {
    /// Both: `server/discover` and `_meta` requests, and `initialize`.
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
pub(crate) fn negotiate(requested: Option<&str>) -> ProtocolVersion {
    requested
        .and_then(ProtocolVersion::parse)
        .filter(|v| v.era() == crate::protocol::Era::Handshake)
        .unwrap_or(ProtocolVersion::LATEST_HANDSHAKE)
}

/// What a valid modern request declared in `params._meta`.
pub(crate) struct ModernMeta {
    pub(crate) meta: Value,
    pub(crate) capabilities: Value,
    pub(crate) log_level: Option<LogLevel>,
}

/// Checks the `_meta` every 2026-07-28 request must carry.
pub(crate) fn check_modern_meta(params: &Value) -> Result<ModernMeta, ErrorObject> {
    let invalid = |message: &str| ErrorObject {
        code: codes::INVALID_PARAMS,
        message: message.into(),
        data: None,
    };
    let meta_obj = params
        .get("_meta")
        .filter(|m| m.is_object())
        .ok_or_else(|| invalid("missing params._meta (required in 2026-07-28)"))?;
    let version = meta_obj
        .get(meta::PROTOCOL_VERSION)
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("missing _meta protocolVersion"))?;
    if version != MODERN.as_str() {
        return Err(ErrorObject {
            code: codes::UNSUPPORTED_PROTOCOL_VERSION,
            message: format!("unsupported protocol version {version}"),
            data: Some(json!({"supported": [MODERN.as_str()], "requested": version})),
        });
    }
    let capabilities = meta_obj
        .get(meta::CLIENT_CAPABILITIES)
        .filter(|c| c.is_object())
        .cloned()
        .ok_or_else(|| invalid("missing _meta clientCapabilities"))?;
    let log_level = match meta_obj.get(meta::LOG_LEVEL) {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_str()
                .and_then(LogLevel::from_wire)
                .ok_or_else(|| invalid("invalid _meta logLevel"))?,
        ),
    };
    Ok(ModernMeta {
        meta: meta_obj.clone(),
        capabilities,
        log_level,
    })
}

/// The `-32022` answer a modern-only server gives to `initialize`.
pub(crate) fn initialize_refused(requested: Option<&str>) -> ErrorObject {
    ErrorObject {
        code: codes::UNSUPPORTED_PROTOCOL_VERSION,
        message: format!(
            "this server only speaks protocol version {}",
            MODERN.as_str()
        ),
        data: Some(json!({"supported": [MODERN.as_str()], "requested": requested})),
    }
}

/// How many `requestState` tokens a server remembers.
const MAX_STATES: usize = 4096;

struct Stored {
    method: String,
    target: String,
    answers: Map<String, Value>,
}

/// `requestState` tokens and the answers they stand for. Kept on the server
/// (not in the token) so that a forged or altered token is simply unknown;
/// shared by all connections, since a modern retry may come over another.
pub(crate) struct StateStore {
    states: Mutex<(HashMap<String, Stored>, VecDeque<String>)>,
    salt: RandomState,
    counter: std::sync::atomic::AtomicU64,
}

impl StateStore {
    pub(crate) fn new() -> Self {
        StateStore {
            states: Mutex::new((HashMap::new(), VecDeque::new())),
            salt: RandomState::new(),
            counter: Default::default(),
        }
    }

    /// Mints a token for the answers gathered so far in a round of
    /// `method` on `target` (tool name, URI or prompt name).
    pub(crate) fn mint(&self, method: &str, target: &str, answers: Map<String, Value>) -> String {
        let n = self
            .counter
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let token = format!("rs{n:x}.{:016x}", self.salt.hash_one((n, method, target)));
        let mut guard = self.states.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order) = &mut *guard;
        map.insert(
            token.clone(),
            Stored {
                method: method.into(),
                target: target.into(),
                answers,
            },
        );
        order.push_back(token.clone());
        while order.len() > MAX_STATES {
            if let Some(old) = order.pop_front() {
                map.remove(&old);
            }
        }
        token
    }

    /// The answers behind `token`, which must have been minted for the same
    /// method and target; anything else is -32602.
    pub(crate) fn redeem(
        &self,
        token: &str,
        method: &str,
        target: &str,
    ) -> Result<Map<String, Value>, ErrorObject> {
        let guard = self.states.lock().unwrap_or_else(|p| p.into_inner());
        match guard.0.get(token) {
            Some(s) if s.method == method && s.target == target => Ok(s.answers.clone()),
            _ => Err(ErrorObject {
                code: codes::INVALID_PARAMS,
                message: "invalid requestState".into(),
                data: None,
            }),
        }
    }
}
