//! Splitting a server's stdout into frames, one per line, with a hard
//! size limit: a longer line is discarded instead of growing a buffer
//! without bound. It is reported as soon as it passes the limit, with its
//! head (so the call waiting for it fails at once, even if the line never
//! ends), and once more when its newline arrives, with its tail (an id may
//! come last).

use bytes::{Bytes, BytesMut};

use crate::transport::Inbound;

/// Splits stdout into frames: one per line, without the newline.
pub(crate) struct LineSplitter {
    pub(crate) buf: BytesMut,
    scanned: usize,
    limit: usize,
    /// While discarding an oversized line: its size so far, last bytes.
    pub(super) discarding: Option<(usize, Vec<u8>)>,
}

const HEAD_KEEP: usize = 4096;
const TAIL_KEEP: usize = 256;

impl LineSplitter {
    pub(crate) fn new(limit: usize) -> Self {
        LineSplitter {
            buf: BytesMut::with_capacity(64 * 1024),
            scanned: 0,
            limit,
            discarding: None,
        }
    }

    /// Takes every complete event out of the buffer. A line over the limit
    /// whose newline has not come yet is reported at once (`tail` empty),
    /// then discarded as it arrives; its newline reports its end (`head`
    /// empty, the whole size and the tail).
    pub(crate) fn drain(&mut self, out: &mut Vec<Inbound>) {
        loop {
            if let Some((size, tail)) = &mut self.discarding {
                match memchr::memchr(b'\n', &self.buf) {
                    Some(i) => {
                        keep_tail(tail, &self.buf[..i]);
                        *size += i;
                        out.push(Inbound::Oversized {
                            size: *size,
                            head: Bytes::new(),
                            tail: Bytes::from(std::mem::take(tail)),
                        });
                        let _ = self.buf.split_to(i + 1);
                        self.discarding = None;
                        self.scanned = 0;
                        continue;
                    }
                    None => {
                        keep_tail(tail, &self.buf);
                        *size += self.buf.len();
                        self.buf.clear();
                        return;
                    }
                }
            }
            match memchr::memchr(b'\n', &self.buf[self.scanned..]) {
                Some(i) => {
                    let end = self.scanned + i;
                    let mut line = self.buf.split_to(end + 1).freeze();
                    self.scanned = 0;
                    line.truncate(end);
                    if line.last() == Some(&b'\r') {
                        line.truncate(end - 1);
                    }
                    if line.len() > self.limit {
                        out.push(Inbound::Oversized {
                            size: line.len(),
                            head: line.slice(..HEAD_KEEP.min(line.len())),
                            tail: line.slice(line.len().saturating_sub(TAIL_KEEP)..),
                        });
                    } else if !line.iter().all(u8::is_ascii_whitespace) {
                        out.push(Inbound::Frame(line));
                    }
                }
                None => {
                    self.scanned = self.buf.len();
                    // A `\r` at the end may be the start of the `\r\n`,
                    // which is not part of the line.
                    let cr = usize::from(self.buf.last() == Some(&b'\r'));
                    if self.buf.len() - cr > self.limit {
                        out.push(Inbound::Oversized {
                            size: self.buf.len(),
                            head: Bytes::copy_from_slice(
                                &self.buf[..HEAD_KEEP.min(self.buf.len())],
                            ),
                            tail: Bytes::new(),
                        });
                        let mut tail = Vec::new();
                        keep_tail(&mut tail, &self.buf);
                        self.discarding = Some((self.buf.len(), tail));
                        self.buf.clear();
                        self.scanned = 0;
                    }
                    return;
                }
            }
        }
    }
}

fn keep_tail(tail: &mut Vec<u8>, more: &[u8]) {
    tail.extend_from_slice(&more[more.len().saturating_sub(TAIL_KEEP)..]);
    if tail.len() > TAIL_KEEP {
        tail.drain(..tail.len() - TAIL_KEEP);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(limit: usize, chunks: &[&[u8]]) -> Vec<String> {
        let mut s = LineSplitter::new(limit);
        let mut out = Vec::new();
        for c in chunks {
            s.buf.extend_from_slice(c);
            s.drain(&mut out);
        }
        out.into_iter()
            .map(|e| match e {
                Inbound::Frame(f) => String::from_utf8(f.to_vec()).unwrap(),
                Inbound::Oversized { size, head, tail } => {
                    format!(
                        "oversized {size} {}..{}",
                        head.len(),
                        String::from_utf8_lossy(&tail)
                    )
                }
                Inbound::Closed(_) => "closed".into(),
                Inbound::Failed { id, .. } => format!("failed {id}"),
            })
            .collect()
    }

    #[test]
    fn splits_lines_across_chunks() {
        assert_eq!(
            split(100, &[b"{\"a\":1}\n{\"b\"", b":2}\r\n\n  \n{}\n"]),
            vec!["{\"a\":1}", "{\"b\":2}", "{}"]
        );
    }

    #[test]
    fn a_line_that_never_ends_is_reported_once_it_passes_the_limit() {
        let mut s = LineSplitter::new(10);
        let mut out = Vec::new();
        s.buf.extend_from_slice(b"{\"id\":1,\"result\":\"xx");
        s.drain(&mut out);
        assert!(
            matches!(&out[..], [Inbound::Oversized { size: 20, head, tail }]
                if head.starts_with(b"{\"id\":1") && tail.is_empty()),
            "{out:?}"
        );
        // More of it costs nothing and reports nothing.
        for _ in 0..100 {
            s.buf.extend_from_slice(&[b'x'; 1000]);
            s.drain(&mut out);
        }
        assert_eq!(out.len(), 1);
        assert!(s.buf.is_empty());
    }

    #[test]
    fn discards_oversized_lines_and_recovers() {
        let big = [b'x'; 50];
        let out = split(10, &[b"ok\n", &big[..20], &big[20..], b"END\nnext\n"]);
        assert_eq!(
            out,
            vec![
                "ok".to_string(),
                // Reported as soon as it passed the limit, with its head...
                "oversized 20 20..".into(),
                // ...and at its end, with its whole size and tail.
                format!("oversized 53 0..{}END", "x".repeat(50)),
                "next".into()
            ]
        );
        // A long line that arrives whole is caught too.
        let out = split(10, &[b"0123456789ABCDEF\nz\n"]);
        assert_eq!(out[0], "oversized 16 16..0123456789ABCDEF");
        assert_eq!(out[1], "z");
    }

    /// Issue 12 (fuzzing): a CRLF line whose body is exactly the limit fits
    /// (the `\r\n` is not part of the message), wherever the chunks split.
    #[test]
    fn a_crlf_line_exactly_at_the_limit_fits_in_any_chunking() {
        let input = b"0123456789\r\n{\"n\":2}\r\n";
        for cut in 0..=input.len() {
            let (a, b) = input.split_at(cut);
            assert_eq!(
                split(10, &[a, b]),
                vec!["0123456789", "{\"n\":2}"],
                "cut at {cut}"
            );
        }
        // One byte more is over (at once, then at its end), and the next
        // line is intact.
        let out = split(10, &[b"0123456789A\r", b"\nz\n"]);
        assert_eq!(out[0], "oversized 12 12..");
        assert_eq!(out[2], "z");
    }
}
