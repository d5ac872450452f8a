//! Target `sse`: the server-sent events parser, fed in chunks and whole,
//! against a model of the format (WHATWG `text/event-stream`).

use std::time::Duration;

use bytes::Bytes;

use crate::transport::sse_parse::{SseItem, SseParser};

use super::chunks::chunks;

/// What a parse leaves: the items, the `Last-Event-ID` cursor, the retry.
type Parsed = (Vec<SseItem>, Option<String>, Option<Duration>);

/// Byte 0 picks the data limit (1 to 64 bytes, or 1 MiB), byte 1 the
/// chunking, the rest is the stream. Panics when a chunked parse differs
/// from the whole one, or, for a stream within the limit (no event can be
/// oversized), when the parse differs from the model's.
pub fn sse(data: &[u8]) {
    let [max, seed, stream @ ..] = data else {
        return;
    };
    let max = match max {
        0..=63 => usize::from(*max) + 1,
        _ => 1 << 20,
    };
    let whole = parse(max, &[stream]);
    assert_eq!(parse(max, &chunks(*seed, stream)), whole, "chunked stream");
    if stream.len() <= max {
        assert_eq!(whole, model(stream), "the format's reading");
    }
}

fn parse(max: usize, parts: &[&[u8]]) -> Parsed {
    let mut parser = SseParser::new(max);
    let mut out = Vec::new();
    for part in parts {
        parser.feed(part, &mut out);
    }
    let cursor = parser.last_event_id().map(str::to_owned);
    (out, cursor, parser.retry())
}

/// The format's own reading (HTML, "Interpreting an event stream"), less
/// one deliberate difference: an event whose data is empty is not
/// dispatched (it carries no JSON-RPC message).
fn model(stream: &[u8]) -> Parsed {
    let stream = stream.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(stream);
    let mut out = Vec::new();
    let (mut event, mut data, mut id_buffer) = (String::new(), Vec::<u8>::new(), None::<String>);
    let (mut cursor, mut retry) = (None, None);
    let mut rest = stream;
    // Each round takes one line (its terminator is `\r\n`, `\r` or `\n`);
    // an unterminated last line is discarded, as at the end of a stream.
    while let Some(end) = rest.iter().position(|b| *b == b'\r' || *b == b'\n') {
        let line = &rest[..end];
        let crlf = rest[end] == b'\r' && rest.get(end + 1) == Some(&b'\n');
        rest = &rest[end + 1 + usize::from(crlf)..];
        if line.is_empty() {
            // Dispatch: the cursor moves to the event's id, with or
            // without data.
            cursor.clone_from(&id_buffer);
            if let Some(body) = data.strip_suffix(b"\n").filter(|b| !b.is_empty()) {
                out.push(SseItem::Event {
                    event: std::mem::take(&mut event),
                    data: Bytes::copy_from_slice(body),
                });
            }
            event.clear();
            data.clear();
            continue;
        }
        if line[0] == b':' {
            continue;
        }
        let (field, value) = match line.iter().position(|b| *b == b':') {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"event" => event = String::from_utf8_lossy(value).into_owned(),
            b"data" => {
                data.extend_from_slice(value);
                data.push(b'\n');
            }
            b"id" if !value.contains(&0) => {
                id_buffer = Some(String::from_utf8_lossy(value).into_owned());
            }
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                if let Some(ms) = std::str::from_utf8(value)
                    .ok()
                    .and_then(|s| s.parse::<u64>().ok())
                {
                    retry = Some(Duration::from_millis(ms));
                }
            }
            _ => {}
        }
    }
    (out, cursor, retry)
}
