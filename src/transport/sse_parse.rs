//! A server-sent events parser (the WHATWG `text/event-stream` format) fed
//! with byte chunks as they arrive, with a hard limit on one event's data.
//!
//! Hand-written rather than borrowed because the limit must hold *while*
//! reading: an event larger than the limit is never buffered; its first and
//! last bytes are kept so the session can still find its id.

use std::time::Duration;

use bytes::{Bytes, BytesMut};

/// Bytes of an oversized event kept from its start.
const HEAD_KEEP: usize = 4096;
/// Bytes of an oversized event kept from its end.
const TAIL_KEEP: usize = 256;

/// One parsed item.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SseItem {
    /// A complete event with data.
    Event {
        /// The `event:` field, empty when absent (which means `message`).
        event: String,
        /// The `data:` lines joined with `\n`.
        data: Bytes,
    },
    /// An event whose data passed the limit; discarded.
    Oversized {
        /// Bytes seen.
        size: usize,
        /// The first bytes of its data.
        head: Bytes,
        /// The last bytes of its data.
        tail: Bytes,
    },
}

/// Incremental parser state for one stream.
pub(crate) struct SseParser {
    max: usize,
    line: BytesMut,
    /// The previous chunk ended in `\r`: a following `\n` belongs to it.
    after_cr: bool,
    event: String,
    data: BytesMut,
    has_data: bool,
    /// Set when the current event passed the limit.
    overflow: Option<Overflow>,
    /// The current line is being discarded into `overflow`.
    line_overflow: bool,
    /// The `id:` of the event being read: it becomes the cursor only when
    /// the event ends (a stream cut inside it has not delivered it).
    id_buffer: Option<String>,
    last_id: Option<String>,
    /// Bytes of a leading byte-order mark matched so far, until the stream
    /// has shown whether it starts with one (`None` once it has).
    bom: Option<usize>,
    retry: Option<Duration>,
    /// Fields seen since the last check (an `id:` counts as progress).
    activity: bool,
}

struct Overflow {
    size: usize,
    head: BytesMut,
    tail: Vec<u8>,
}

impl Overflow {
    fn push(&mut self, bytes: &[u8]) {
        self.size += bytes.len();
        let room = HEAD_KEEP.saturating_sub(self.head.len());
        self.head.extend_from_slice(&bytes[..bytes.len().min(room)]);
        self.tail.extend_from_slice(bytes);
        if self.tail.len() > TAIL_KEEP * 4 {
            let cut = self.tail.len() - TAIL_KEEP;
            self.tail.drain(..cut);
        }
    }
}

impl SseParser {
    /// A parser dropping events whose data passes `max` bytes.
    pub(crate) fn new(max: usize) -> Self {
        SseParser {
            max,
            line: BytesMut::new(),
            after_cr: false,
            event: String::new(),
            data: BytesMut::new(),
            has_data: false,
            overflow: None,
            line_overflow: false,
            id_buffer: None,
            last_id: None,
            bom: Some(0),
            retry: None,
            activity: false,
        }
    }

    /// The last `id:` the stream set (the cursor for `Last-Event-ID`).
    pub(crate) fn last_event_id(&self) -> Option<&str> {
        self.last_id.as_deref()
    }

    /// Starts from a cursor carried over from an earlier connection.
    pub(crate) fn set_last_event_id(&mut self, id: Option<String>) {
        self.id_buffer.clone_from(&id);
        self.last_id = id;
    }

    /// The last `retry:` the stream set.
    pub(crate) fn retry(&self) -> Option<Duration> {
        self.retry
    }

    /// True if any field arrived since the last call (then resets).
    pub(crate) fn take_activity(&mut self) -> bool {
        std::mem::take(&mut self.activity)
    }

    /// Feeds bytes; completed events are pushed onto `out`.
    pub(crate) fn feed(&mut self, mut chunk: &[u8], out: &mut Vec<SseItem>) {
        if self.bom.is_some() {
            chunk = self.skip_bom(chunk);
        }
        // An empty chunk says nothing, not even that a `\r` was a line end
        // on its own: the `\n` of its `\r\n` may still come.
        if self.after_cr && !chunk.is_empty() {
            self.after_cr = false;
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
        }
        while !chunk.is_empty() {
            match memchr::memchr2(b'\n', b'\r', chunk) {
                Some(pos) => {
                    self.push_line_bytes(&chunk[..pos]);
                    let cr = chunk[pos] == b'\r';
                    chunk = &chunk[pos + 1..];
                    if cr {
                        match chunk.first() {
                            Some(b'\n') => chunk = &chunk[1..],
                            None => self.after_cr = true,
                            Some(_) => {}
                        }
                    }
                    self.end_line(out);
                }
                None => {
                    self.push_line_bytes(chunk);
                    chunk = &[];
                }
            }
        }
    }

    /// The stream ended: an unterminated event is dropped, as the format says.
    pub(crate) fn finish(&mut self) {
        self.line.clear();
        self.reset_event();
    }

    /// One leading U+FEFF is not part of the stream (the format says so):
    /// matched across chunks, and what turns out not to be one is the
    /// start of the first line.
    fn skip_bom<'a>(&mut self, mut chunk: &'a [u8]) -> &'a [u8] {
        const BOM: &[u8] = b"\xEF\xBB\xBF";
        while let Some(matched) = self.bom {
            match chunk.first() {
                None => break,
                Some(&b) if b == BOM[matched] => {
                    chunk = &chunk[1..];
                    self.bom = (matched + 1 < BOM.len()).then_some(matched + 1);
                }
                Some(_) => {
                    self.bom = None;
                    self.push_line_bytes(&BOM[..matched]);
                }
            }
        }
        chunk
    }

    fn push_line_bytes(&mut self, bytes: &[u8]) {
        if self.line_overflow {
            if let Some(o) = self.overflow.as_mut() {
                o.push(bytes);
            }
            return;
        }
        self.line.extend_from_slice(bytes);
        if self.line.len() + self.data.len() > self.max.saturating_add(16) {
            // Only a data line can be this long; keep what we can of it.
            let line = std::mem::take(&mut self.line);
            let payload = line.strip_prefix(b"data:").unwrap_or(&line);
            let payload = payload.strip_prefix(b" ").unwrap_or(payload);
            let mut o = self.overflow.take().unwrap_or_else(|| Overflow {
                size: 0,
                head: BytesMut::new(),
                tail: Vec::new(),
            });
            let before = std::mem::take(&mut self.data);
            o.push(&before);
            o.push(payload);
            self.overflow = Some(o);
            self.line_overflow = true;
            self.has_data = true;
        }
    }

    fn end_line(&mut self, out: &mut Vec<SseItem>) {
        if self.line_overflow {
            self.line_overflow = false;
            return;
        }
        let line = std::mem::take(&mut self.line);
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line[0] == b':' {
            return; // a comment (keep-alive)
        }
        let (field, value) = match memchr::memchr(b':', &line) {
            Some(i) => {
                let v = &line[i + 1..];
                (&line[..i], v.strip_prefix(b" ").unwrap_or(v))
            }
            None => (&line[..], &b""[..]),
        };
        match field {
            b"data" => {
                self.activity = true;
                if let Some(o) = self.overflow.as_mut() {
                    o.push(b"\n");
                    o.push(value);
                    return;
                }
                if self.has_data {
                    self.data.extend_from_slice(b"\n");
                }
                self.data.extend_from_slice(value);
                self.has_data = true;
                if self.data.len() > self.max {
                    let mut o = Overflow {
                        size: 0,
                        head: BytesMut::new(),
                        tail: Vec::new(),
                    };
                    o.push(&std::mem::take(&mut self.data));
                    self.overflow = Some(o);
                }
            }
            b"event" => self.event = String::from_utf8_lossy(value).into_owned(),
            b"id" => {
                self.activity = true;
                // An id containing NUL is ignored, per the format.
                if !value.contains(&0) {
                    self.id_buffer = Some(String::from_utf8_lossy(value).into_owned());
                }
            }
            // Only ASCII digits, per the format (`u64::from_str` also
            // takes a leading `+`).
            b"retry" if value.iter().all(u8::is_ascii_digit) => {
                if let Some(ms) = std::str::from_utf8(value)
                    .ok()
                    .and_then(|s| s.parse::<u64>().ok())
                {
                    self.activity = true;
                    self.retry = Some(Duration::from_millis(ms));
                }
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseItem>) {
        // The event is whole: its id (or the last one set) is the cursor,
        // with or without data.
        self.last_id.clone_from(&self.id_buffer);
        if let Some(o) = self.overflow.take() {
            let tail_start = o.tail.len().saturating_sub(TAIL_KEEP);
            out.push(SseItem::Oversized {
                size: o.size,
                head: o.head.freeze(),
                tail: Bytes::copy_from_slice(&o.tail[tail_start..]),
            });
        } else if self.has_data && !self.data.is_empty() {
            out.push(SseItem::Event {
                event: std::mem::take(&mut self.event),
                data: std::mem::take(&mut self.data).freeze(),
            });
        }
        self.reset_event();
    }

    fn reset_event(&mut self) {
        self.event.clear();
        self.data.clear();
        self.has_data = false;
        self.overflow = None;
        self.line_overflow = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_pieces(input: &[u8], piece: usize, max: usize) -> (Vec<SseItem>, SseParser) {
        let mut p = SseParser::new(max);
        let mut out = Vec::new();
        for c in input.chunks(piece) {
            p.feed(c, &mut out);
        }
        (out, p)
    }

    fn ev(event: &str, data: &str) -> SseItem {
        SseItem::Event {
            event: event.into(),
            data: Bytes::copy_from_slice(data.as_bytes()),
        }
    }

    #[test]
    fn events_ids_retry_and_comments_in_any_chunking() {
        let input = b": keep-alive\r\nid: 7\r\ndata:\r\n\r\nretry: 500\nevent: message\ndata: {\"a\":1}\n\ndata: x\ndata: y\rid: 9\r\r";
        for piece in [1, 2, 3, 5, 7, 64] {
            let (out, p) = parse_in_pieces(input, piece, 1024);
            assert_eq!(
                out,
                vec![ev("message", "{\"a\":1}"), ev("", "x\ny")],
                "piece {piece}"
            );
            assert_eq!(p.last_event_id(), Some("9"));
            assert_eq!(p.retry(), Some(Duration::from_millis(500)));
        }
    }

    #[test]
    fn an_oversized_event_is_not_buffered_and_the_next_one_survives() {
        let big = "x".repeat(10_000);
        let input = format!("data: {{\"id\":5,{big}\n\ndata: ok\n\n");
        for piece in [1, 100, 4096, 100_000] {
            let (out, _) = parse_in_pieces(input.as_bytes(), piece, 1000);
            assert_eq!(out.len(), 2, "piece {piece}");
            match &out[0] {
                SseItem::Oversized { size, head, tail } => {
                    assert!(*size > 1000);
                    assert!(head.starts_with(b"{\"id\":5"));
                    assert!(tail.ends_with(b"xxx"));
                }
                other => panic!("expected oversized, got {other:?}"),
            }
            assert_eq!(out[1], ev("", "ok"));
        }
    }

    /// Issue 12 (fuzzing): `\r` ending one chunk, then an empty chunk, then
    /// `\n`: still one line end (the spec's CRLF), not a blank line that
    /// dispatches the event early. Any chunking, empty chunks anywhere.
    #[test]
    fn a_crlf_split_by_an_empty_chunk_is_one_line_end() {
        let input: &[u8] = b"data: a\r\ndata: b\r\n\r\nid: 3\r\ndata: c\r\n\r\n";
        let want = vec![ev("", "a\nb"), ev("", "c")];
        for cut in 0..=input.len() {
            let (x, y) = input.split_at(cut);
            for chunks in [[x, b"", y], [x, y, b""], [b"", x, y]] {
                let mut p = SseParser::new(1024);
                let mut out = Vec::new();
                for c in chunks {
                    p.feed(c, &mut out);
                }
                assert_eq!(out, want, "cut at {cut}, chunks {chunks:?}");
            }
        }
    }

    /// Issue 12 (fuzzing, target `sse`): one leading byte-order mark is not
    /// part of the stream (the format says so), however it is chunked; the
    /// first event was lost behind it (its field was `\u{feff}data`).
    #[test]
    fn a_leading_byte_order_mark_is_skipped_in_any_chunking() {
        let input: &[u8] = b"\xEF\xBB\xBFdata: a\n\n\xEF\xBB\xBFdata: b\n\n";
        for piece in 1..=input.len() {
            let (out, _) = parse_in_pieces(input, piece, 1024);
            // Only the first is a byte-order mark; the second starts a field name.
            assert_eq!(out, vec![ev("", "a")], "piece {piece}");
        }
        // Bytes that only start like one are the first line's.
        let (out, _) = parse_in_pieces(b"\xEF\xBBdata: a\n\ndata: b\n\n", 1, 1024);
        assert_eq!(out, vec![ev("", "b")]);
        let (out, _) = parse_in_pieces(b"\xEFdata: a\n\n", 1, 1024);
        assert_eq!(out, vec![]);
        let (out, _) = parse_in_pieces(b"\xEF\n\ndata: a\n\n", 2, 1024);
        assert_eq!(out, vec![ev("", "a")]);
    }

    /// Issue 12 (fuzzing, target `sse`): an `id:` becomes the resumption
    /// cursor when its event ends, not when the line is read: a stream cut
    /// inside event 5 has not delivered it, and resuming "after 5" would
    /// lose it. An id with no data moves the cursor too, at its blank line.
    #[test]
    fn the_cursor_moves_when_an_event_ends() {
        let mut p = SseParser::new(1024);
        let mut out = Vec::new();
        p.feed(b"id: 4\ndata: a\n\nid: 5\ndata: {\"half", &mut out);
        assert_eq!(out, vec![ev("", "a")]);
        assert_eq!(p.last_event_id(), Some("4"));
        p.feed(b"\"}\n", &mut out);
        assert_eq!(p.last_event_id(), Some("4"), "event 5 has not ended");
        p.feed(b"\n", &mut out);
        assert_eq!(p.last_event_id(), Some("5"));
        p.feed(b"id: 6\n\n", &mut out);
        assert_eq!(p.last_event_id(), Some("6"), "an id alone");
        // A cursor carried over from an earlier connection stays until
        // the stream sets another.
        let mut p = SseParser::new(1024);
        p.set_last_event_id(Some("9".into()));
        p.feed(b"data: x\n\n", &mut out);
        assert_eq!(p.last_event_id(), Some("9"));
    }

    /// Issue 12 (fuzzing, target `sse`): `retry:` takes ASCII digits only,
    /// as the format says; `+0` set a zero delay.
    #[test]
    fn retry_takes_digits_only() {
        for (line, want) in [
            (&b"retry: +00\n"[..], None),
            (b"retry: -5\n", None),
            (b"retry: 1 \n", None),
            (b"retry: \n", None),
            (b"retry: 0250\n", Some(Duration::from_millis(250))),
        ] {
            let (_, p) = parse_in_pieces(line, 64, 1024);
            assert_eq!(p.retry(), want, "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn unterminated_event_is_dropped_at_the_end() {
        let mut p = SseParser::new(100);
        let mut out = Vec::new();
        p.feed(b"data: half", &mut out);
        p.finish();
        assert!(out.is_empty());
    }
}
