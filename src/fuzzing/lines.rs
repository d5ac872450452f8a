//! Target `lines`: the stdio line splitter (a server's stdout into frames,
//! with a size limit), chunked as a pipe might deliver it, against a model
//! of the framing.

use crate::transport::stdio::lines::LineSplitter;
use crate::transport::Inbound;

use super::chunks::chunks;

/// What the splitter reports of one line.
#[derive(Debug, PartialEq)]
enum Line {
    /// A frame, without its line end.
    Frame(Vec<u8>),
    /// An oversized line, reported whole or from its start.
    Oversized,
}

/// Byte 0 picks the limit (1 to 48, or 4096), byte 1 the chunking, the
/// rest is the stream. Panics when the frames and oversized lines reported
/// differ from the model's or between chunkings, or when an oversized
/// report's head and tail are not the line's.
pub fn lines(data: &[u8]) {
    let [limit, seed, stream @ ..] = data else {
        return;
    };
    let limit = match limit {
        0..=47 => usize::from(*limit) + 1,
        _ => 4096,
    };
    let want = model(stream, limit);
    assert_eq!(split(stream, limit, &[stream]), want, "whole stream");
    assert_eq!(
        split(stream, limit, &chunks(*seed, stream)),
        want,
        "chunked stream"
    );
}

/// The framing, read directly: a line ends at `\n` (a `\r` before it is
/// not part of it); a line longer than `limit` is oversized, a blank one
/// is skipped, and an unterminated last line is reported only when it is
/// already too long.
fn model(stream: &[u8], limit: usize) -> Vec<Line> {
    let mut out = Vec::new();
    let mut pieces: Vec<&[u8]> = stream.split(|b| *b == b'\n').collect();
    let last = pieces.pop().unwrap_or_default();
    for line in pieces {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > limit {
            out.push(Line::Oversized);
        } else if !line.iter().all(u8::is_ascii_whitespace) {
            out.push(Line::Frame(line.to_vec()));
        }
    }
    if last.strip_suffix(b"\r").unwrap_or(last).len() > limit {
        out.push(Line::Oversized);
    }
    out
}

/// What the splitter reports for `parts` fed in order: an oversized line
/// reported early and then at its end counts once.
fn split(stream: &[u8], limit: usize, parts: &[&[u8]]) -> Vec<Line> {
    let mut splitter = LineSplitter::new(limit);
    let mut events = Vec::new();
    for part in parts {
        splitter.buf.extend_from_slice(part);
        splitter.drain(&mut events);
    }
    let mut out = Vec::new();
    // An early report (no tail) waiting for its end (no head).
    let mut open = false;
    for event in events {
        match event {
            Inbound::Frame(f) => {
                assert!(!open, "a frame inside an oversized line");
                out.push(Line::Frame(f.to_vec()));
            }
            Inbound::Oversized { size, head, tail } => {
                assert!(size > limit, "oversized at {size} under the limit {limit}");
                assert!(head.len() <= 4096 && tail.len() <= 256, "kept too much");
                assert!(
                    head.is_empty() || contains(stream, &head),
                    "a head that is not in the stream"
                );
                assert!(
                    tail.is_empty() || contains(stream, &tail),
                    "a tail that is not in the stream"
                );
                match (head.is_empty(), tail.is_empty()) {
                    (false, false) => out.push(Line::Oversized),
                    (false, true) => {
                        assert!(!open, "two starts of one oversized line");
                        open = true;
                        out.push(Line::Oversized);
                    }
                    (true, _) => {
                        assert!(open, "the end of an oversized line never started");
                        open = false;
                    }
                }
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(haystack, needle).is_some()
}
