//! From bytes to typed params and from typed results to bytes: the
//! server's half of the JSON-RPC envelope.
//!
//! A request's params are read twice from the same bytes, each pass
//! skipping what it does not want: once for `_meta` (which decides the
//! era), once into the method's typed params. Both are plain scans; a
//! single pass would need serde's `flatten`, which copies everything into a
//! tree first.
//!
//! Replies are written in one buffer: the envelope, the typed result, and
//! in 2026-07-28 the server's identity, spliced into the result's `_meta`
//! as JSON serialized once per server (no tree per reply).

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::error::error;
use crate::protocol::version::meta as keys;
use crate::protocol::{
    codes, CacheScope, CallToolResult, CompleteResult, DiscoverResult, EmptyResult, Era,
    ErrorObject, GetPromptResult, GetSkillResult, InitializeResult, ListPromptsResult,
    ListResourceTemplatesResult, ListResourcesResult, ListSkillsResult, ListToolsResult, Meta,
    ReadResourceResult, RequestMeta, ResultType, SubscriptionsListenResult,
};

/// The params of a request, typed; absent params read as `{}`.
pub(crate) fn decode<P: DeserializeOwned>(
    method: &str,
    params: Option<&[u8]>,
) -> Result<P, ErrorObject> {
    serde_json::from_slice(params.unwrap_or(b"{}")).map_err(|e| {
        error(
            codes::INVALID_PARAMS,
            format!("invalid params for {method}: {e}"),
        )
    })
}

/// The `_meta` of a request's params, if it has one.
pub(crate) fn peek_meta(params: Option<&[u8]>) -> Result<Option<RequestMeta>, ErrorObject> {
    #[derive(Deserialize)]
    struct Peek {
        #[serde(rename = "_meta", default)]
        meta: Option<RequestMeta>,
    }
    let Some(params) = params else {
        return Ok(None);
    };
    serde_json::from_slice::<Peek>(params)
        .map(|p| p.meta)
        .map_err(|e| error(codes::INVALID_PARAMS, format!("invalid params: {e}")))
}

/// Where a result keeps its `_meta`.
pub(crate) enum MetaSlot<'a> {
    /// A typed `meta` field.
    Typed(&'a mut Option<Meta>),
    /// Only the `extra` map (a result type without its own field).
    Extra(&'a mut Map<String, Value>),
}

/// A result the server sends, readied for the era of its request.
pub(crate) trait WireResult: Serialize {
    /// 2026-07-28: `resultType` (default `complete`) and, for cacheable
    /// results, the caching hints the handler left open. Handshake era:
    /// those modern fields are removed.
    fn ready(&mut self, era: Era, ttl_ms: i64);
    /// Where `_meta` lives.
    fn meta_slot(&mut self) -> MetaSlot<'_>;
    /// True for a task in place of the result: its handler goes on
    /// running, so its round is not over.
    fn is_task(&self) -> bool {
        false
    }
}

fn result_type(slot: &mut Option<ResultType>, era: Era) {
    match era {
        Era::Modern => {
            slot.get_or_insert(ResultType::Complete);
        }
        Era::Handshake => *slot = None,
    }
}

fn cache(ttl: &mut Option<i64>, scope: &mut Option<CacheScope>, era: Era, ttl_ms: i64) {
    match era {
        Era::Modern => {
            ttl.get_or_insert(ttl_ms);
            scope.get_or_insert(CacheScope::Public);
        }
        Era::Handshake => {
            *ttl = None;
            *scope = None;
        }
    }
}

macro_rules! wire_result {
    ($($ty:ty: $cacheable:tt;)*) => {$(
        impl WireResult for $ty {
            fn ready(&mut self, era: Era, _ttl_ms: i64) {
                result_type(&mut self.result_type, era);
                wire_result!(@cache $cacheable, self, era, _ttl_ms);
            }
            fn meta_slot(&mut self) -> MetaSlot<'_> {
                MetaSlot::Typed(&mut self.meta)
            }
        }
    )*};
    (@cache yes, $s:ident, $era:ident, $ttl:ident) => {
        cache(&mut $s.ttl_ms, &mut $s.cache_scope, $era, $ttl)
    };
    (@cache no, $s:ident, $era:ident, $ttl:ident) => {};
}

wire_result! {
    EmptyResult: no;
    CallToolResult: no;
    GetPromptResult: no;
    CompleteResult: no;
    SubscriptionsListenResult: no;
    DiscoverResult: yes;
    ListToolsResult: yes;
    ListResourcesResult: yes;
    ListResourceTemplatesResult: yes;
    ReadResourceResult: yes;
    ListPromptsResult: yes;
    ListSkillsResult: yes;
}

impl WireResult for InitializeResult {
    fn ready(&mut self, _era: Era, _ttl_ms: i64) {}
    fn meta_slot(&mut self) -> MetaSlot<'_> {
        MetaSlot::Typed(&mut self.meta)
    }
}

impl WireResult for GetSkillResult {
    fn ready(&mut self, era: Era, ttl_ms: i64) {
        match era {
            Era::Modern => {
                for (key, value) in [
                    ("resultType", Value::from("complete")),
                    ("ttlMs", Value::from(ttl_ms)),
                    ("cacheScope", Value::from("public")),
                ] {
                    self.extra.entry(key).or_insert(value);
                }
            }
            Era::Handshake => {
                for key in ["resultType", "ttlMs", "cacheScope"] {
                    self.extra.remove(key);
                }
            }
        }
    }
    fn meta_slot(&mut self) -> MetaSlot<'_> {
        MetaSlot::Extra(&mut self.extra)
    }
}

/// `input_required`, with the asks as they were made (a relayed ask is
/// passed on verbatim, so the asks are JSON rather than typed).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct InputRequiredOut {
    pub(crate) result_type: ResultType,
    #[serde(skip_serializing_if = "Map::is_empty")]
    pub(crate) input_requests: Map<String, Value>,
    pub(crate) request_state: String,
    #[serde(rename = "_meta", skip_serializing_if = "Option::is_none")]
    pub(crate) meta: Option<Meta>,
}

impl WireResult for InputRequiredOut {
    fn ready(&mut self, _era: Era, _ttl_ms: i64) {}
    fn meta_slot(&mut self) -> MetaSlot<'_> {
        MetaSlot::Typed(&mut self.meta)
    }
}

const HEAD: &[u8] = br#"{"jsonrpc":"2.0","id":"#;

/// What the server says about itself on every 2026-07-28 result.
pub(crate) struct Identity {
    /// `serverInfo` as JSON text.
    pub(crate) json: Box<RawValue>,
    /// The same as a value, for a result that already has a `_meta`.
    pub(crate) value: Value,
}

/// Encodes the reply to request `id` carrying `result`, readied for `era`
/// (`identity` goes into `_meta` in 2026-07-28).
pub(crate) fn encode_result<R: WireResult>(
    id: &RawValue,
    mut result: R,
    era: Era,
    ttl_ms: i64,
    identity: &Identity,
) -> Result<Bytes, ErrorObject> {
    result.ready(era, ttl_ms);
    let mut splice = false;
    if era == Era::Modern {
        match result.meta_slot() {
            MetaSlot::Typed(Some(meta)) => {
                meta.insert(keys::SERVER_INFO.into(), identity.value.clone());
            }
            MetaSlot::Typed(None) => splice = true,
            MetaSlot::Extra(extra) => match extra.get_mut("_meta") {
                Some(Value::Object(meta)) => {
                    meta.insert(keys::SERVER_INFO.into(), identity.value.clone());
                }
                _ => splice = true,
            },
        }
    }
    let mut buf = Vec::with_capacity(256);
    buf.extend_from_slice(HEAD);
    buf.extend_from_slice(id.get().as_bytes());
    buf.extend_from_slice(br#","result":"#);
    let start = buf.len();
    serde_json::to_writer(&mut buf, &result).map_err(|e| {
        error(
            codes::INTERNAL_ERROR,
            format!("the result does not serialize: {e}"),
        )
    })?;
    if splice && buf.last() == Some(&b'}') {
        let empty = buf.len() - start == 2;
        buf.pop();
        if !empty {
            buf.push(b',');
        }
        buf.extend_from_slice(br#""_meta":{""#);
        buf.extend_from_slice(keys::SERVER_INFO.as_bytes());
        buf.extend_from_slice(br#"":"#);
        buf.extend_from_slice(identity.json.get().as_bytes());
        buf.extend_from_slice(b"}}");
    }
    buf.push(b'}');
    Ok(Bytes::from(buf))
}

/// Encodes an error reply to request `id` (`null` when it had none).
pub(crate) fn encode_error(id: &RawValue, error: &ErrorObject) -> Bytes {
    #[derive(Serialize)]
    struct Out<'a> {
        jsonrpc: &'static str,
        id: &'a RawValue,
        error: &'a ErrorObject,
    }
    let out = Out {
        jsonrpc: "2.0",
        id,
        error,
    };
    match serde_json::to_vec(&out) {
        Ok(v) => Bytes::from(v),
        // An error whose `data` does not serialize: send it without.
        Err(_) => {
            let bare = ErrorObject {
                code: error.code,
                message: error.message.clone(),
                data: None,
            };
            serde_json::to_vec(&Out {
                jsonrpc: "2.0",
                id,
                error: &bare,
            })
            .map(Bytes::from)
            .unwrap_or_default()
        }
    }
}

/// The `null` id, for errors about a message whose id is unknown.
pub(crate) const NULL_ID: &RawValue = RawValue::NULL;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::Implementation;

    fn identity() -> Identity {
        let info = Implementation::new("s", "1");
        Identity {
            json: serde_json::value::to_raw_value(&info).unwrap(),
            value: serde_json::to_value(&info).unwrap(),
        }
    }

    fn id() -> Box<RawValue> {
        RawValue::from_string("7".into()).unwrap()
    }

    #[test]
    fn modern_results_get_their_type_identity_and_cache_hints() {
        let out =
            encode_result(&id(), EmptyResult::default(), Era::Modern, 5, &identity()).unwrap();
        assert_eq!(
            &out[..],
            br#"{"jsonrpc":"2.0","id":7,"result":{"resultType":"complete","_meta":{"io.modelcontextprotocol/serverInfo":{"name":"s","version":"1"}}}}"#
        );
        let list = ListToolsResult::default();
        let out = encode_result(&id(), list, Era::Modern, 5, &identity()).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["result"]["ttlMs"], 5);
        assert_eq!(v["result"]["cacheScope"], "public");
        assert_eq!(v["result"]["_meta"][keys::SERVER_INFO]["name"], "s");
        // An existing `_meta` keeps its keys and gains the identity.
        let mut with_meta = CallToolResult::from_text("hi");
        with_meta.meta = Some(Map::from_iter([("k".to_owned(), Value::from(1))]));
        let out = encode_result(&id(), with_meta, Era::Modern, 5, &identity()).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["result"]["_meta"]["k"], 1);
        assert_eq!(v["result"]["_meta"][keys::SERVER_INFO]["version"], "1");
        // The skills result has no `_meta` field of its own.
        let mut skill = GetSkillResult::default();
        skill
            .extra
            .insert("_meta".into(), serde_json::json!({"x": true}));
        let out = encode_result(&id(), skill, Era::Modern, 5, &identity()).unwrap();
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["result"]["_meta"]["x"], true);
        assert_eq!(v["result"]["_meta"][keys::SERVER_INFO]["name"], "s");
        assert_eq!(v["result"]["ttlMs"], 5);
    }

    #[test]
    fn handshake_results_carry_no_modern_fields() {
        let mut list = ListToolsResult {
            ttl_ms: Some(9),
            result_type: Some(ResultType::Complete),
            ..Default::default()
        };
        list.cache_scope = Some(CacheScope::Private);
        let out = encode_result(&id(), list, Era::Handshake, 5, &identity()).unwrap();
        assert_eq!(
            &out[..],
            br#"{"jsonrpc":"2.0","id":7,"result":{"tools":[]}}"#
        );
    }

    #[test]
    fn params_decode_typed_and_meta_alone() {
        let params = br#"{"name":"echo","arguments":{"text":"hi"},"_meta":{"progressToken":"p"}}"#;
        let call: crate::protocol::CallToolRequestParams =
            decode("tools/call", Some(params)).unwrap();
        assert_eq!(call.name, "echo");
        let meta = peek_meta(Some(params)).unwrap().unwrap();
        assert_eq!(meta.progress_token, Some("p".into()));
        let err = decode::<crate::protocol::CallToolRequestParams>("tools/call", Some(b"{}"))
            .unwrap_err();
        assert_eq!(err.code, codes::INVALID_PARAMS);
        assert!(err.message.contains("tools/call"), "{}", err.message);
        assert!(peek_meta(Some(br#"{"_meta": 3}"#)).is_err());
        assert!(peek_meta(None).unwrap().is_none());
    }
}
