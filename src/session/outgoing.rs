//! Encoding requests with their `_meta`: the modern era's per-request
//! identity (precomputed once as raw JSON), progress tokens, log level.
//!
//! Params are written straight into the output buffer with `_meta`
//! flattened in; no intermediate `Value` tree is built.

use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// The modern era's identity fields, serialized once per session.
#[derive(Debug)]
pub(crate) struct ModernIdentity {
    pub(crate) version: &'static str,
    pub(crate) capabilities: Box<RawValue>,
    pub(crate) client_info: Box<RawValue>,
}

/// The `_meta` object of one request.
#[derive(Serialize, Default)]
pub(crate) struct MetaOut<'a> {
    #[serde(rename = "progressToken", skip_serializing_if = "Option::is_none")]
    pub(crate) progress_token: Option<i64>,
    #[serde(
        rename = "io.modelcontextprotocol/protocolVersion",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) protocol_version: Option<&'a str>,
    #[serde(
        rename = "io.modelcontextprotocol/clientCapabilities",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) client_capabilities: Option<&'a RawValue>,
    #[serde(
        rename = "io.modelcontextprotocol/clientInfo",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) client_info: Option<&'a RawValue>,
    #[serde(
        rename = "io.modelcontextprotocol/logLevel",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) log_level: Option<&'a str>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub(crate) extra: Option<&'a Map<String, Value>>,
}

impl MetaOut<'_> {
    pub(crate) fn is_empty(&self) -> bool {
        self.progress_token.is_none()
            && self.protocol_version.is_none()
            && self.client_capabilities.is_none()
            && self.client_info.is_none()
            && self.log_level.is_none()
            && self.extra.is_none_or(|m| m.is_empty())
    }

    pub(crate) fn modern(identity: &ModernIdentity) -> MetaOut<'_> {
        MetaOut {
            protocol_version: Some(identity.version),
            client_capabilities: Some(&identity.capabilities),
            client_info: Some(&identity.client_info),
            ..MetaOut::default()
        }
    }
}

/// Params with `_meta` merged in.
#[derive(Serialize)]
pub(crate) struct WithMeta<'a, P: Serialize + ?Sized> {
    #[serde(flatten)]
    pub(crate) params: &'a P,
    #[serde(rename = "_meta", skip_serializing_if = "MetaOut::is_empty")]
    pub(crate) meta: MetaOut<'a>,
}

/// Params of a request that has none of its own.
#[derive(Serialize, Debug, Default, Clone, Copy)]
pub(crate) struct NoParams {}

/// The retry of an input-required round: original params plus answers.
#[derive(Serialize)]
pub(crate) struct RoundParams<'a, P: Serialize + ?Sized> {
    #[serde(flatten)]
    pub(crate) params: &'a P,
    #[serde(rename = "inputResponses", skip_serializing_if = "Option::is_none")]
    pub(crate) input_responses: Option<&'a Map<String, Value>>,
    #[serde(rename = "requestState", skip_serializing_if = "Option::is_none")]
    pub(crate) request_state: Option<&'a str>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn meta_is_flattened_into_params() {
        let identity = ModernIdentity {
            version: "2026-07-28",
            capabilities: RawValue::from_string("{}".into()).unwrap(),
            client_info: RawValue::from_string(r#"{"name":"c","version":"1"}"#.into()).unwrap(),
        };
        let mut meta = MetaOut::modern(&identity);
        meta.progress_token = Some(4);
        let params = json!({"name": "add"});
        let with = WithMeta {
            params: &params,
            meta,
        };
        let v: Value = serde_json::to_value(&with).unwrap();
        assert_eq!(
            v,
            json!({"name":"add","_meta":{"progressToken":4,
                "io.modelcontextprotocol/protocolVersion":"2026-07-28",
                "io.modelcontextprotocol/clientCapabilities":{},
                "io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"}}})
        );
        let bare = WithMeta {
            params: &NoParams {},
            meta: MetaOut::default(),
        };
        assert_eq!(serde_json::to_string(&bare).unwrap(), "{}");
    }
}
