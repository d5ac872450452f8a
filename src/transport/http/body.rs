//! Reading HTTP bodies under the transport's limits: a size limit that holds
//! while reading (never buffer past it) and an idle deadline between chunks.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;

use super::super::sse_parse::{SseItem, SseParser};

/// A whole body, or what was kept of one that passed the limit.
pub(crate) enum Body {
    /// The complete body.
    Full(Bytes),
    /// The body passed the limit and was discarded.
    Oversized {
        size: usize,
        head: Bytes,
        tail: Bytes,
    },
}

/// How reading a body ended badly.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// No bytes for this long.
    Idle(Duration),
    /// The connection failed mid-body.
    Broken(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Idle(d) => write!(f, "no data from the server for {d:?}"),
            ReadError::Broken(e) => write!(f, "the connection broke: {e}"),
        }
    }
}

/// Next chunk, with an optional idle deadline.
async fn next_chunk<S>(stream: &mut S, idle: Option<Duration>) -> Result<Option<Bytes>, ReadError>
where
    S: futures_util::Stream<Item = reqwest::Result<Bytes>> + Unpin,
{
    let next = match idle {
        Some(d) => tokio::time::timeout(d, stream.next())
            .await
            .map_err(|_| ReadError::Idle(d))?,
        None => stream.next().await,
    };
    match next {
        None => Ok(None),
        Some(Ok(b)) => Ok(Some(b)),
        Some(Err(e)) => Err(ReadError::Broken(error_chain(&e.without_url()))),
    }
}

/// Reads a whole body, keeping at most `max` bytes.
pub(crate) async fn read_limited(
    resp: reqwest::Response,
    max: usize,
    idle: Duration,
) -> Result<Body, ReadError> {
    let mut stream = resp.bytes_stream();
    let mut buf = BytesMut::new();
    let mut size = 0usize;
    let mut head: Option<Bytes> = None;
    let mut tail: Vec<u8> = Vec::new();
    while let Some(chunk) = next_chunk(&mut stream, Some(idle)).await? {
        size += chunk.len();
        if head.is_none() && size <= max {
            buf.extend_from_slice(&chunk);
            continue;
        }
        if head.is_none() {
            buf.extend_from_slice(&chunk[..chunk.len().min(4096)]);
            buf.truncate(4096);
            head = Some(std::mem::take(&mut buf).freeze());
        }
        tail.extend_from_slice(&chunk);
        if tail.len() > 1024 {
            tail.drain(..tail.len() - 256);
        }
    }
    Ok(match head {
        None => Body::Full(buf.freeze()),
        Some(head) => {
            let start = tail.len().saturating_sub(256);
            Body::Oversized {
                size,
                head,
                tail: Bytes::copy_from_slice(&tail[start..]),
            }
        }
    })
}

/// Reads at most `max` bytes of a body (for error messages); never fails.
pub(crate) async fn read_prefix(resp: reqwest::Response, max: usize, idle: Duration) -> Bytes {
    let mut stream = resp.bytes_stream();
    let mut buf = BytesMut::new();
    while let Ok(Some(chunk)) = next_chunk(&mut stream, Some(idle)).await {
        let room = max - buf.len();
        buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if buf.len() >= max {
            break;
        }
    }
    buf.freeze()
}

/// How an event stream ended.
pub(crate) enum StreamEnd {
    /// The server ended it (or the caller's callback said stop).
    Ended,
    /// Reading failed.
    Failed(ReadError),
}

/// Reads an SSE body, handing each item to `on_item`; `on_item` returns
/// false to stop early. `idle` of `None` waits as long as the server does.
pub(crate) async fn read_events(
    resp: reqwest::Response,
    parser: &mut SseParser,
    idle: Option<Duration>,
    mut on_item: impl FnMut(SseItem, &SseParser) -> bool,
) -> StreamEnd {
    let mut stream = resp.bytes_stream();
    let mut items = Vec::new();
    loop {
        match next_chunk(&mut stream, idle).await {
            Ok(Some(chunk)) => {
                parser.feed(&chunk, &mut items);
                for item in items.drain(..) {
                    if !on_item(item, parser) {
                        return StreamEnd::Ended;
                    }
                }
            }
            Ok(None) => {
                parser.finish();
                return StreamEnd::Ended;
            }
            Err(e) => {
                parser.finish();
                return StreamEnd::Failed(e);
            }
        }
    }
}

/// The error with its causes, which reqwest keeps apart
/// (`error sending request` alone says nothing).
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !out.contains(&s_text) {
            out.push_str(": ");
            out.push_str(&s_text);
        }
        source = s.source();
    }
    out
}
