//! Target `frame`: the JSON-RPC frame decoder, and the compact-reply fast
//! path held to the general parser.

use bytes::Bytes;

use crate::protocol::jsonrpc::{self, Incoming};

/// Decodes `data` as a frame. Panics when the fast path reads a reply the
/// general parser reads otherwise (the one leeway: a `result` that is not
/// JSON, which the fast path passes on for the caller's typed decode to
/// refuse, and the general parser refuses), or when the streaming and the
/// collecting decoders disagree.
pub fn frame(data: &[u8]) {
    let frame = Bytes::copy_from_slice(data);
    let collected =
        jsonrpc::parse_frame(&frame).map(|all| all.iter().map(show).collect::<Vec<_>>());
    let mut streamed = Vec::new();
    let each = jsonrpc::for_each_message(&frame, |m| streamed.push(show(&m)));
    assert_eq!(
        collected,
        each.map(|()| streamed),
        "parse_frame and for_each_message disagree"
    );
    let Some(fast) = jsonrpc::compact_response(&frame) else {
        return;
    };
    let Incoming::Response {
        id,
        raw_id,
        outcome: Ok(result),
    } = &fast
    else {
        panic!("the fast path read something other than a result: {fast:?}");
    };
    match jsonrpc::parse_general(&frame) {
        Ok(Incoming::Response {
            id: general_id,
            raw_id: general_raw,
            outcome: Ok(general_result),
        }) => {
            assert_eq!(*id, general_id, "ids differ");
            assert_eq!(raw_id, &general_raw, "raw ids differ");
            assert_eq!(result, &general_result, "results differ");
        }
        Err(_) if serde_json::from_slice::<serde::de::IgnoredAny>(result).is_err() => {}
        other => panic!("the fast path read {fast:?}, the general parser {other:?}"),
    }
}

fn show(m: &Incoming) -> String {
    format!("{m:?}")
}

/// Whether the compact-reply fast path reads `data` (property tests make
/// such replies and check that it does).
pub fn fast_path_reads(data: &[u8]) -> bool {
    jsonrpc::compact_response(&Bytes::copy_from_slice(data)).is_some()
}
