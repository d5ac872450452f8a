//! Serving over a byte stream of newline-delimited JSON, one message per
//! line: this process's stdin and stdout for a server run as a child
//! process, or any reader and writer. Nothing but protocol goes to the
//! writer; diagnostics belong on stderr.
//!
//! A line longer than the server's message limit is never held whole: it
//! is discarded as it arrives and answered with one -32600 error.

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use super::error::error;
use super::wire::{encode_error, NULL_ID};
use super::Server;
use crate::protocol::codes;
use crate::transport::ServerEnd;

/// Frames buffered in each direction between the stream and the server.
const CAPACITY: usize = 64;

impl Server {
    /// Serves one client over this process's stdin and stdout until stdin
    /// closes or the connection is closed from the server's side.
    pub fn serve_stdio(
        &self,
    ) -> impl std::future::Future<Output = std::io::Result<()>> + Send + 'static {
        self.serve_io(tokio::io::stdin(), tokio::io::stdout())
    }

    /// Serves one client reading lines from `reader` and writing lines to
    /// `writer`, until `reader` ends or the connection is closed from the
    /// server's side. Replies are flushed when no more are queued.
    pub fn serve_io<R, W>(
        &self,
        reader: R,
        writer: W,
    ) -> impl std::future::Future<Output = std::io::Result<()>> + Send + 'static
    where
        R: AsyncRead + Unpin + Send + 'static,
        W: AsyncWrite + Unpin + Send + 'static,
    {
        let server = self.clone();
        let limit = self.shared.options.max_message_size;
        async move {
            let (to_server, incoming) = mpsc::channel::<Bytes>(CAPACITY);
            let (outgoing, mut from_server) = mpsc::channel::<Bytes>(CAPACITY);
            let refusals = outgoing.clone();
            let serve = server.serve(ServerEnd { incoming, outgoing });
            let write = async move {
                let mut writer = writer;
                while let Some(frame) = from_server.recv().await {
                    writer.write_all(&frame).await?;
                    writer.write_all(b"\n").await?;
                    while let Ok(frame) = from_server.try_recv() {
                        writer.write_all(&frame).await?;
                        writer.write_all(b"\n").await?;
                    }
                    writer.flush().await?;
                }
                Ok::<_, std::io::Error>(())
            };
            // `to_server` lives in here: when the input ends it is dropped,
            // which tells the server the client hung up.
            let read = async move {
                let mut reader = BufReader::new(reader);
                let mut lines = Lines::new(limit);
                loop {
                    let chunk = reader.fill_buf().await?;
                    if chunk.is_empty() {
                        return Ok::<_, std::io::Error>(());
                    }
                    let (used, event) = lines.feed(chunk);
                    reader.consume(used);
                    let delivered = match event {
                        Some(Line::Frame(frame)) => to_server.send(frame).await.is_ok(),
                        Some(Line::TooLong(size)) => {
                            let why = format!(
                                "message of {size} bytes exceeds the limit of {limit} bytes"
                            );
                            let reply = encode_error(NULL_ID, &error(codes::INVALID_REQUEST, why));
                            refusals.send(reply).await.is_ok()
                        }
                        None => true,
                    };
                    if !delivered {
                        return Ok(());
                    }
                }
            };
            let server_side = async { tokio::join!(serve, write).1 };
            tokio::pin!(server_side);
            tokio::pin!(read);
            tokio::select! {
                done = &mut server_side => return done,
                read_result = &mut read => read_result?,
            }
            server_side.await
        }
    }
}

/// What a line of input became.
#[derive(Debug, PartialEq)]
enum Line {
    /// A whole message (trimmed, never empty).
    Frame(Bytes),
    /// A line of this many bytes, discarded.
    TooLong(usize),
}

/// Splits input into lines of at most `limit` bytes.
struct Lines {
    limit: usize,
    line: Vec<u8>,
    /// Bytes of the current line seen so far while discarding it.
    discarding: Option<usize>,
}

impl Lines {
    fn new(limit: usize) -> Self {
        Lines {
            limit,
            line: Vec::new(),
            discarding: None,
        }
    }

    /// Takes bytes from `chunk` up to the end of a line (or all of it):
    /// how many were used, and the line if one ended.
    fn feed(&mut self, chunk: &[u8]) -> (usize, Option<Line>) {
        let (body, used, ended) = match memchr::memchr(b'\n', chunk) {
            Some(i) => (&chunk[..i], i + 1, true),
            None => (chunk, chunk.len(), false),
        };
        // The `\r` of a `\r\n` is not part of the message, and a `\r` that
        // ends the chunk may be one.
        let cr = usize::from(match body.last() {
            Some(b) => *b == b'\r',
            None => ended && self.line.last() == Some(&b'\r'),
        });
        let size = self.line.len() + body.len();
        match &mut self.discarding {
            Some(seen) => *seen += body.len(),
            None if size - cr > self.limit => {
                self.discarding = Some(if ended { size - cr } else { size });
                self.line = Vec::new();
            }
            None => self.line.extend_from_slice(body),
        }
        if !ended {
            return (used, None);
        }
        if let Some(size) = self.discarding.take() {
            return (used, Some(Line::TooLong(size)));
        }
        let text = self.line.trim_ascii();
        let event = (!text.is_empty()).then(|| Line::Frame(Bytes::copy_from_slice(text)));
        self.line.clear();
        (used, event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(limit: usize, chunks: &[&[u8]]) -> Vec<Line> {
        let mut lines = Lines::new(limit);
        let mut out = Vec::new();
        for chunk in chunks {
            let mut rest = *chunk;
            while !rest.is_empty() {
                let (used, event) = lines.feed(rest);
                rest = &rest[used..];
                out.extend(event);
            }
        }
        out
    }

    #[test]
    fn lines_split_across_chunks_and_long_ones_are_dropped_whole() {
        let got = run(
            8,
            &[b"{\"a\":", b"1}\n\n  \r\n{}\n", b"0123456789", b"abc\n[]\n"],
        );
        assert_eq!(
            got,
            [
                Line::Frame(Bytes::from_static(b"{\"a\":1}")),
                Line::Frame(Bytes::from_static(b"{}")),
                Line::TooLong(13),
                Line::Frame(Bytes::from_static(b"[]")),
            ]
        );
        // Exactly at the limit is fine.
        assert_eq!(run(2, &[b"{}\n"]), [Line::Frame(Bytes::from_static(b"{}"))]);
    }

    /// Issue 12 (fuzzing): a CRLF line whose body is exactly the limit
    /// fits, and the next frame is intact, wherever the chunks split.
    #[test]
    fn a_crlf_line_exactly_at_the_limit_fits_in_any_chunking() {
        let input = b"{\"a\":1}\r\n[]\r\n";
        for cut in 0..=input.len() {
            let (a, b) = input.split_at(cut);
            assert_eq!(
                run(7, &[a, b]),
                [
                    Line::Frame(Bytes::from_static(b"{\"a\":1}")),
                    Line::Frame(Bytes::from_static(b"[]")),
                ],
                "cut at {cut}"
            );
        }
        assert_eq!(
            run(6, &[b"{\"a\":1}\r\n[]\n"]),
            [Line::TooLong(7), Line::Frame(Bytes::from_static(b"[]"))]
        );
    }
}
