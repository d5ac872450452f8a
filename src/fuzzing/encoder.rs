//! Target `encoder`: the hand-written request encoder (the hot path of
//! every call) held to serde's encoding of the same request.

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::protocol::{jsonrpc, TraceContext};
use crate::session::outgoing::{self, MetaOut, WithMeta};

/// Byte 0 says which `_meta` entries are present (bit 6: trace context,
/// bit 7 its sampled flag), bytes 1-16 are the id and the progress token
/// (and the trace and parent ids); the rest, split at NUL bytes, are the method,
/// the params (JSON, else a string), the log level, the extra `_meta`
/// entries (a JSON object), the capabilities and the client info (raw
/// JSON). Panics when the two encodings differ by one byte, when the hand
/// encoder's output is not JSON, or when it accepts params that cannot
/// carry `_meta`.
pub fn encoder(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let Some((numbers, rest)) = rest.split_at_checked(16) else {
        return;
    };
    let id = i64::from_le_bytes(numbers[..8].try_into().unwrap_or_default());
    let token = i64::from_le_bytes(numbers[8..].try_into().unwrap_or_default());
    let mut parts = rest.split(|b| *b == 0);
    let mut next = || parts.next().unwrap_or_default();
    let method = String::from_utf8_lossy(next()).into_owned();
    let params_bytes = next();
    let params: Value = serde_json::from_slice(params_bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(params_bytes).into_owned()));
    let level = String::from_utf8_lossy(next()).into_owned();
    let extra: Option<Map<String, Value>> = serde_json::from_slice(next()).ok();
    let raw = |bytes: &[u8]| -> Option<Box<RawValue>> {
        let text = std::str::from_utf8(bytes).ok()?;
        RawValue::from_string(text.to_owned()).ok()
    };
    let capabilities = raw(next());
    let info = raw(next());
    let on = |bit: u8| flags & (1 << bit) != 0;
    // Trace context from the id bytes (all-zero ids are no context), its
    // tracestate the log level's text.
    let trace = <[u8; 16]>::try_from(numbers)
        .ok()
        .and_then(|t| TraceContext::new(t, t[8..].try_into().ok()?, on(7)))
        .map(|t| t.with_tracestate(Some(&level)));
    let meta = MetaOut {
        progress_token: on(0).then_some(token),
        protocol_version: on(1).then_some("2026-07-28"),
        client_capabilities: capabilities.as_deref().filter(|_| on(2)),
        client_info: info.as_deref().filter(|_| on(3)),
        log_level: on(4).then_some(level.as_str()),
        trace: trace.as_ref().filter(|_| on(6)),
        extra: extra.as_ref().filter(|_| on(5)),
    };
    let ours = outgoing::encode_request(id, &method, &params, &meta);
    if !matches!(params, Value::Object(_) | Value::Null) {
        // Only an object (or nothing) can carry `_meta`; without any, the
        // params go out as given.
        match ours {
            Ok(frame) => {
                assert!(meta.is_empty(), "non-object params carried _meta");
                let plain = jsonrpc::encode_request(id, &method, &params).expect("serde encodes");
                assert_eq!(frame, plain, "the encoders differ");
            }
            Err(e) => assert!(!meta.is_empty(), "refused params without _meta: {e}"),
        }
        return;
    }
    let theirs = jsonrpc::encode_request(
        id,
        &method,
        &WithMeta {
            params: &params,
            meta,
        },
    );
    match (ours, theirs) {
        (Ok(ours), Ok(theirs)) => {
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&theirs),
                "the encoders differ"
            );
            // JSON's grammar (a raw number may be past what an f64 holds).
            assert!(
                serde_json::from_slice::<serde::de::IgnoredAny>(&ours).is_ok(),
                "the encoder wrote something that is not JSON"
            );
        }
        (ours, theirs) => panic!("one encoder failed: ours {ours:?}, serde's {theirs:?}"),
    }
}
