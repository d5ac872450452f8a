//! The CPU side of the hot path, without I/O: decoding a `tools/call`
//! reply (envelope + result) and encoding a request.
//!
//! Run: `cargo bench --bench codec`.

use bytes::Bytes;
use divan::Bencher;
use switchboard::protocol::jsonrpc::{encode_request, parse_frame, Incoming};
use switchboard::protocol::CallToolResult;

fn main() {
    divan::main();
}

const REPLY: &[u8] = br#"{"jsonrpc":"2.0","id":42,"result":{"content":[{"type":"text","text":"hello there, this is a tool result"}],"structuredContent":{"sum":3},"isError":false}}"#;

#[divan::bench]
fn decode_call_tool_reply(bencher: Bencher) {
    let frame = Bytes::from_static(REPLY);
    bencher.bench(|| {
        let mut messages = parse_frame(divan::black_box(&frame)).expect("frame");
        match messages.pop() {
            Some(Incoming::Response {
                outcome: Ok(result),
                ..
            }) => serde_json::from_slice::<CallToolResult>(&result).expect("result"),
            _ => unreachable!("a response"),
        }
    });
}

#[divan::bench]
fn encode_call_tool_request(bencher: Bencher) {
    let params = serde_json::json!({"name": "echo", "arguments": {"text": "hi"}, "_meta": {"progressToken": 42}});
    bencher.bench(|| encode_request(42, "tools/call", divan::black_box(&params)).expect("encode"));
}
