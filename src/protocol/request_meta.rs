//! The `_meta` of a request, as the receiving side reads it: in 2026-07-28
//! it carries the protocol version, the client's capabilities and identity
//! and the log level on every request; in both eras the progress token.
//!
//! Decoded by a hand-written visitor (a derived one with a flattened
//! `extra` map would first copy the whole object into a tree): every
//! request of the modern era carries one, so this is the server's hot path.

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::capabilities::ClientCapabilities;
use super::common::Implementation;
use super::key::KeyBuf;
use super::logging::LoggingLevel;
use super::progress::ProgressToken;
use super::version::meta as keys;

/// A request's `params._meta`, the reserved keys typed and the rest kept.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RequestMeta {
    /// `io.modelcontextprotocol/protocolVersion` (2026-07-28), as sent.
    pub protocol_version: Option<String>,
    /// `io.modelcontextprotocol/clientCapabilities` (2026-07-28).
    pub client_capabilities: Option<ClientCapabilities>,
    /// `io.modelcontextprotocol/clientInfo` (2026-07-28).
    pub client_info: Option<Implementation>,
    /// `io.modelcontextprotocol/logLevel` (2026-07-28): the least severe
    /// level this request wants to hear.
    pub log_level: Option<LoggingLevel>,
    /// `progressToken` (both eras).
    pub progress_token: Option<ProgressToken>,
    /// Every other key.
    pub extra: Map<String, Value>,
}

impl<'de> Deserialize<'de> for RequestMeta {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(MetaVisitor)
    }
}

struct MetaVisitor;

impl<'de> Visitor<'de> for MetaVisitor {
    type Value = RequestMeta;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a _meta object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RequestMeta, A::Error> {
        let mut out = RequestMeta::default();
        while let Some(key) = map.next_key::<KeyBuf<'de>>()? {
            match key.as_str() {
                keys::PROTOCOL_VERSION => out.protocol_version = map.next_value()?,
                keys::CLIENT_CAPABILITIES => out.client_capabilities = map.next_value()?,
                keys::CLIENT_INFO => out.client_info = map.next_value()?,
                keys::LOG_LEVEL => {
                    let level: Option<KeyBuf<'de>> = map.next_value()?;
                    out.log_level = match level {
                        None => None,
                        Some(l) => Some(LoggingLevel::from_wire(l.as_str()).ok_or_else(|| {
                            de::Error::custom(format_args!(
                                "invalid _meta logLevel {:?}",
                                l.as_str()
                            ))
                        })?),
                    };
                }
                keys::PROGRESS_TOKEN => out.progress_token = map.next_value()?,
                _ => {
                    out.extra
                        .insert(key.into_owned(), map.next_value::<Value>()?);
                }
            }
        }
        Ok(out)
    }
}

impl Serialize for RequestMeta {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        if let Some(t) = &self.progress_token {
            map.serialize_entry(keys::PROGRESS_TOKEN, t)?;
        }
        if let Some(v) = &self.protocol_version {
            map.serialize_entry(keys::PROTOCOL_VERSION, v)?;
        }
        if let Some(c) = &self.client_capabilities {
            map.serialize_entry(keys::CLIENT_CAPABILITIES, c)?;
        }
        if let Some(i) = &self.client_info {
            map.serialize_entry(keys::CLIENT_INFO, i)?;
        }
        if let Some(l) = &self.log_level {
            map.serialize_entry(keys::LOG_LEVEL, l)?;
        }
        for (k, v) in &self.extra {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reserved_keys_are_typed_and_the_rest_kept() {
        let wire = json!({
            "progressToken": 7,
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {"sampling": {}, "x-future": 1},
            "io.modelcontextprotocol/clientInfo": {"name": "c", "version": "1"},
            "io.modelcontextprotocol/logLevel": "warning",
            "vendor/trace": "abc"
        });
        let meta: RequestMeta = serde_json::from_value(wire.clone()).expect("decodes");
        assert_eq!(meta.protocol_version.as_deref(), Some("2026-07-28"));
        assert_eq!(meta.progress_token, Some(ProgressToken::Number(7)));
        assert_eq!(meta.log_level, Some(LoggingLevel::Warning));
        let caps = meta.client_capabilities.as_ref().expect("capabilities");
        assert!(caps.sampling.is_some());
        assert_eq!(caps.extra["x-future"], json!(1));
        assert_eq!(
            meta.client_info.as_ref().map(|i| i.name.as_str()),
            Some("c")
        );
        assert_eq!(meta.extra["vendor/trace"], json!("abc"));
        assert_eq!(serde_json::to_value(&meta).expect("encodes"), wire);
    }

    #[test]
    fn malformed_reserved_keys_are_errors() {
        for bad in [
            json!({"io.modelcontextprotocol/logLevel": "loud"}),
            json!({"io.modelcontextprotocol/clientCapabilities": 5}),
            json!({"io.modelcontextprotocol/protocolVersion": 2026}),
            json!({"progressToken": {"a": 1}}),
            json!([1]),
        ] {
            assert!(
                serde_json::from_value::<RequestMeta>(bad.clone()).is_err(),
                "{bad}"
            );
        }
        let empty: RequestMeta = serde_json::from_value(json!({})).expect("decodes");
        assert_eq!(empty, RequestMeta::default());
        let null_level: RequestMeta =
            serde_json::from_value(json!({"io.modelcontextprotocol/logLevel": null}))
                .expect("decodes");
        assert_eq!(null_level.log_level, None);
    }
}
