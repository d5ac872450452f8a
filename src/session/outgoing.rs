//! Encoding requests with their `_meta`: the modern era's per-request
//! identity (precomputed once as raw JSON), progress tokens, log level.
//!
//! Params are written straight into the output buffer with `_meta`
//! flattened in; no intermediate `Value` tree is built.

use std::sync::atomic::Ordering;

use bytes::Bytes;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::call_options::declared_for;
use super::{CallOptions, MetaMode, Session};
use crate::protocol::{LoggingLevel, ProtocolVersion, TraceContext};
use crate::{Error, Result};

/// The modern era's identity fields, serialized once per session.
#[derive(Debug)]
pub(crate) struct ModernIdentity {
    pub(crate) version: crate::protocol::ProtocolVersion,
    pub(crate) capabilities: Box<RawValue>,
    pub(crate) client_info: Box<RawValue>,
}

/// A request as [`Session::encode`] wrote it.
pub(super) struct Encoded {
    pub(super) id: i64,
    pub(super) bytes: Bytes,
    /// The revision the request speaks, once known.
    pub(super) version: Option<ProtocolVersion>,
    /// Whether it carries a progress token (its id).
    pub(super) wants_progress: bool,
}

impl Session {
    /// Takes the next id and encodes a request with its `_meta`: the
    /// modern identity (or the one `mode` gives), the call's log level,
    /// asks and extra entries, a progress token, the trace context. A
    /// plain function, so that none of what it uses is held in the
    /// request's future.
    pub(super) fn encode<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: &P,
        call: Option<&CallOptions>,
        mode: MetaMode<'_>,
    ) -> Result<Encoded> {
        let shared = self.shared();
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let wants_progress = call.is_some_and(|c| c.on_progress.is_some())
            || (shared.options.progress_tokens
                && matches!(method, "tools/call" | "resources/read" | "prompts/get"));

        let negotiated = shared.negotiated.get();
        let rare = call.and_then(CallOptions::rare);
        let declared: Option<Box<serde_json::value::RawValue>>;
        let mut meta = match mode {
            MetaMode::Modern(identity) => MetaOut::modern(identity),
            MetaMode::Negotiated => match negotiated.and_then(|n| n.modern.as_ref()) {
                Some(identity) => {
                    let mut m = MetaOut::modern(identity);
                    m.log_level = rare
                        .and_then(|r| r.log_level)
                        .or_else(|| shared.log_level.get())
                        .map(LoggingLevel::as_str);
                    declared = rare.and_then(|r| declared_for(&identity.capabilities, r));
                    if let Some(caps) = &declared {
                        m.client_capabilities = Some(caps);
                    }
                    m
                }
                None => MetaOut::default(),
            },
            MetaMode::Bare => MetaOut::default(),
        };
        if wants_progress {
            meta.progress_token = Some(id);
        }
        meta.extra = rare.and_then(|r| r.meta.as_ref());
        let ambient;
        if !meta
            .extra
            .is_some_and(|m| m.contains_key(crate::protocol::trace_context::TRACEPARENT))
        {
            meta.trace = match rare.and_then(|r| r.trace.as_ref()) {
                Some(explicit) => Some(explicit),
                None => {
                    ambient = crate::trace::current();
                    ambient.as_ref()
                }
            };
        }
        let bytes =
            encode_request(id, method, params, &meta).map_err(|e| Error::Encode(e.to_string()))?;
        let version = match mode {
            MetaMode::Modern(identity) => Some(identity.version),
            MetaMode::Negotiated => negotiated.map(|n| n.state.version),
            MetaMode::Bare => None,
        };
        Ok(Encoded {
            id,
            bytes,
            version,
            wants_progress,
        })
    }
}

/// The `_meta` object of one request.
#[derive(Serialize, Default, Clone, Copy)]
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
    /// SEP-414 trace context: `traceparent`, `tracestate`, `baggage`.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub(crate) trace: Option<&'a TraceContext>,
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
            && self.trace.is_none()
            && self.extra.is_none_or(|m| m.is_empty())
    }

    pub(crate) fn modern(identity: &ModernIdentity) -> MetaOut<'_> {
        MetaOut {
            protocol_version: Some(identity.version.as_str()),
            client_capabilities: Some(&identity.capabilities),
            client_info: Some(&identity.client_info),
            ..MetaOut::default()
        }
    }
}

/// Params with `_meta` merged in, by serde: the reference the hand-written
/// [`encode_request`] is tested against (and fuzzed against).
#[cfg(any(test, feature = "fuzzing"))]
#[derive(Serialize)]
pub(crate) struct WithMeta<'a, P: Serialize + ?Sized> {
    #[serde(flatten)]
    pub(crate) params: &'a P,
    #[serde(rename = "_meta", skip_serializing_if = "MetaOut::is_empty")]
    pub(crate) meta: MetaOut<'a>,
}

/// Encodes a request whose params carry `meta`, as one compact line.
///
/// The hot path of every call. The envelope and the `_meta` keys are
/// written as pre-escaped bytes and the precomputed identity is copied in
/// raw: only the method, the params and any caller-given `_meta` entries
/// go through serde. The params must serialize to a JSON object (`null`
/// is taken as `{}`, as JSON-RPC wants structured params); `_meta` is
/// appended to it.
pub(crate) fn encode_request<P: Serialize + ?Sized>(
    id: i64,
    method: &str,
    params: &P,
    meta: &MetaOut<'_>,
) -> Result<bytes::Bytes, serde_json::Error> {
    // Written into this thread's scratch buffer, then copied out at its
    // exact size: one allocation per request, where handing the growable
    // buffer itself over to `Bytes` costs two (`Bytes` keeps a spare
    // capacity in a separate header).
    thread_local! {
        static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    let with_scratch = SCRATCH.try_with(|scratch| {
        // Taken already (re-entered from inside a `Serialize` impl): the
        // caller below uses a buffer of its own.
        let mut buf = scratch.try_borrow_mut().ok()?;
        buf.clear();
        let written = write_request(&mut buf, id, method, params, meta)
            .map(|()| bytes::Bytes::copy_from_slice(&buf));
        if buf.capacity() > SCRATCH_KEEP {
            // One huge request must not pin its size on this thread.
            *buf = Vec::new();
        }
        Some(written)
    });
    match with_scratch {
        Ok(Some(written)) => written,
        // Re-entered, or this thread is being torn down.
        _ => {
            let mut buf = Vec::with_capacity(512);
            write_request(&mut buf, id, method, params, meta)?;
            Ok(bytes::Bytes::from(buf))
        }
    }
}

/// The largest scratch buffer a thread keeps between requests.
const SCRATCH_KEEP: usize = 64 * 1024;

fn write_request<P: Serialize + ?Sized>(
    buf: &mut Vec<u8>,
    id: i64,
    method: &str,
    params: &P,
    meta: &MetaOut<'_>,
) -> Result<(), serde_json::Error> {
    buf.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
    buf.extend_from_slice(itoa::Buffer::new().format(id).as_bytes());
    buf.extend_from_slice(b",\"method\":");
    serde_json::to_writer(&mut *buf, method)?;
    buf.extend_from_slice(b",\"params\":");
    let start = buf.len();
    serde_json::to_writer(&mut *buf, params)?;
    // JSON-RPC params are structured or absent: no params is `{}`.
    if &buf[start..] == b"null" {
        buf.truncate(start);
        buf.extend_from_slice(b"{}");
    }
    if !meta.is_empty() {
        if buf.len() - start < 2 || buf[start] != b'{' || buf.last() != Some(&b'}') {
            return Err(serde::ser::Error::custom(
                "request params must be a JSON object to carry _meta",
            ));
        }
        buf.pop();
        if buf.len() - start > 1 {
            buf.push(b',');
        }
        buf.extend_from_slice(b"\"_meta\":{");
        write_meta(buf, meta)?;
        buf.extend_from_slice(b"}}");
    }
    buf.push(b'}');
    Ok(())
}

/// The entries of `_meta`, comma-separated, without the braces.
fn write_meta(buf: &mut Vec<u8>, meta: &MetaOut<'_>) -> Result<(), serde_json::Error> {
    let mut first = true;
    let mut key = |buf: &mut Vec<u8>, k: &[u8]| {
        if !std::mem::take(&mut first) {
            buf.push(b',');
        }
        buf.extend_from_slice(k);
    };
    if let Some(token) = meta.progress_token {
        key(buf, b"\"progressToken\":");
        buf.extend_from_slice(itoa::Buffer::new().format(token).as_bytes());
    }
    if let Some(version) = meta.protocol_version {
        key(buf, b"\"io.modelcontextprotocol/protocolVersion\":");
        serde_json::to_writer(&mut *buf, version)?;
    }
    if let Some(caps) = meta.client_capabilities {
        key(buf, b"\"io.modelcontextprotocol/clientCapabilities\":");
        buf.extend_from_slice(caps.get().as_bytes());
    }
    if let Some(info) = meta.client_info {
        key(buf, b"\"io.modelcontextprotocol/clientInfo\":");
        buf.extend_from_slice(info.get().as_bytes());
    }
    if let Some(level) = meta.log_level {
        key(buf, b"\"io.modelcontextprotocol/logLevel\":");
        serde_json::to_writer(&mut *buf, level)?;
    }
    if let Some(trace) = meta.trace {
        let mut parent = [0u8; 55];
        trace.write_traceparent(&mut parent);
        key(buf, b"\"traceparent\":\"");
        buf.extend_from_slice(&parent);
        buf.push(b'"');
        if let Some(state) = trace.tracestate() {
            key(buf, b"\"tracestate\":");
            serde_json::to_writer(&mut *buf, state)?;
        }
        if let Some(baggage) = trace.baggage() {
            key(buf, b"\"baggage\":");
            serde_json::to_writer(&mut *buf, baggage)?;
        }
    }
    for (k, v) in meta.extra.into_iter().flatten() {
        key(buf, b"");
        serde_json::to_writer(&mut *buf, k)?;
        buf.push(b':');
        serde_json::to_writer(&mut *buf, v)?;
    }
    Ok(())
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
            version: crate::protocol::ProtocolVersion::V2026_07_28,
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

    #[test]
    fn the_hand_written_encoder_matches_serde() {
        let identity = ModernIdentity {
            version: crate::protocol::ProtocolVersion::V2026_07_28,
            capabilities: RawValue::from_string(r#"{"sampling":{}}"#.into()).unwrap(),
            client_info: RawValue::from_string(r#"{"name":"c","version":"1"}"#.into()).unwrap(),
        };
        let extra: Map<String, Value> =
            serde_json::from_value(json!({"trace\"id": "x\ny", "n": 1})).unwrap();
        let mut full = MetaOut::modern(&identity);
        full.progress_token = Some(-7);
        full.log_level = Some("warning");
        full.extra = Some(&extra);
        let trace = TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
            .unwrap()
            .with_tracestate(Some("a=\"b\""))
            .with_baggage(Some("k=v"));
        full.trace = Some(&trace);
        let traced = MetaOut {
            trace: Some(&trace),
            ..MetaOut::default()
        };
        let metas = [MetaOut::default(), MetaOut::modern(&identity), full, traced];
        let params = [
            json!({"name": "add", "arguments": {"a": "\u{1F600}\"", "b": [1, null]}}),
            json!({}),
            Value::Null,
        ];
        for meta in &metas {
            for p in &params {
                let ours = encode_request(41, "tools/\"call", p, meta).unwrap();
                let theirs = crate::protocol::jsonrpc::encode_request(
                    41,
                    "tools/\"call",
                    &WithMeta {
                        params: p,
                        meta: *meta,
                    },
                )
                .unwrap();
                let ours: Value = serde_json::from_slice(&ours).unwrap();
                let theirs: Value = serde_json::from_slice(&theirs).unwrap();
                assert_eq!(ours, theirs, "{p} with {}", meta.is_empty());
            }
        }
        // A non-object cannot carry _meta: a clear error, not bad JSON.
        let err = encode_request(1, "m", &json!([1]), &metas[1]).unwrap_err();
        assert!(err.to_string().contains("JSON object"), "{err}");
        // Exact bytes for the common case.
        let frame = encode_request(3, "tools/call", &json!({"name": "echo"}), &metas[1]).unwrap();
        assert_eq!(
            std::str::from_utf8(&frame).unwrap(),
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"sampling":{}},"io.modelcontextprotocol/clientInfo":{"name":"c","version":"1"}}}}"#
        );
    }
}
