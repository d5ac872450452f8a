//! Server-sent events: the framing, and the resumable log behind each
//! handshake-era stream.
//!
//! Every stream of a session has a number (0 is the GET stream, request
//! streams count up from 1) and every event on it a sequence number; the
//! event id is `<stream>.<seq>`, so a `Last-Event-ID` names both the
//! stream to resume and where. Sequence 0 is the priming event that opens
//! a stream (an id and empty data), so a client that saw nothing else can
//! still resume. A log keeps its recent events for replay, bounded in
//! count and bytes (the oldest go first).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::stream::{self, Stream, StreamExt};
use tokio::sync::mpsc;

/// Events a log keeps for replay.
const MAX_EVENTS: usize = 1024;

/// Bytes of frames a log keeps for replay: 8 MiB.
const MAX_BYTES: usize = 8 << 20;

/// One event: an optional id and `retry`, then the frame as `data` lines
/// (a frame with line breaks in it still arrives whole).
pub(crate) fn event(id: Option<(u64, u64)>, retry: Option<Duration>, frame: &[u8]) -> Bytes {
    let mut out = BytesMut::with_capacity(frame.len() + 48);
    if let Some((stream, seq)) = id {
        out.put_slice(b"id: ");
        out.put_slice(itoa::Buffer::new().format(stream).as_bytes());
        out.put_u8(b'.');
        out.put_slice(itoa::Buffer::new().format(seq).as_bytes());
        out.put_u8(b'\n');
    }
    if let Some(retry) = retry {
        out.put_slice(b"retry: ");
        out.put_slice(itoa::Buffer::new().format(retry.as_millis()).as_bytes());
        out.put_u8(b'\n');
    }
    if frame.is_empty() {
        out.put_slice(b"data: \n");
    } else {
        out.put_slice(b"event: message\n");
        for line in frame.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            out.put_slice(b"data: ");
            out.put_slice(line);
            out.put_u8(b'\n');
        }
    }
    out.put_u8(b'\n');
    out.freeze()
}

/// Parses a `Last-Event-ID` of ours: `<stream>.<seq>`.
pub(crate) fn parse_event_id(id: &str) -> Option<(u64, u64)> {
    let (stream, seq) = id.trim().split_once('.')?;
    Some((stream.parse().ok()?, seq.parse().ok()?))
}

/// A `200 text/event-stream` response whose body is `events`.
pub(crate) fn response(events: impl Stream<Item = Bytes> + Send + 'static) -> Response {
    let body = Body::from_stream(events.map(Ok::<_, Infallible>));
    (
        StatusCode::OK,
        [
            (CONTENT_TYPE, "text/event-stream"),
            (CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

/// A frame delivered to a live stream, with its sequence number.
pub(crate) type Delivery = (u64, Bytes);

/// The events of one handshake-era stream and the response reading it, if
/// one is.
#[derive(Default)]
pub(crate) struct EventLog {
    events: VecDeque<Delivery>,
    bytes: usize,
    /// The last sequence number handed out (0: the priming event).
    last: u64,
    live: Option<mpsc::UnboundedSender<Delivery>>,
    /// The request's reply has been sent: nothing more will come.
    pub(crate) done: bool,
}

impl EventLog {
    /// Records a frame and hands it to the live reader, if any.
    pub(crate) fn push(&mut self, frame: Bytes) {
        self.last += 1;
        let seq = self.last;
        self.bytes += frame.len();
        self.events.push_back((seq, frame.clone()));
        while self.events.len() > MAX_EVENTS || self.bytes > MAX_BYTES {
            match self.events.pop_front() {
                Some((_, old)) => self.bytes -= old.len(),
                None => break,
            }
        }
        if let Some(live) = &self.live {
            if live.send((seq, frame)).is_err() {
                self.live = None;
            }
        }
    }

    /// The reply went out: the live reader ends after it.
    pub(crate) fn finish(&mut self) {
        self.done = true;
        self.live = None;
    }

    /// Ends the live reader's response (the log stays, to resume from).
    pub(crate) fn detach(&mut self) {
        self.live = None;
    }

    /// True when a response is reading this log.
    pub(crate) fn is_live(&self) -> bool {
        self.live.as_ref().is_some_and(|l| !l.is_closed())
    }

    /// A new reader: the events after `after` (all kept ones for `None`),
    /// then, unless the stream is done, what comes next. A previous
    /// reader's response ends.
    pub(crate) fn attach(&mut self, after: Option<u64>) -> mpsc::UnboundedReceiver<Delivery> {
        let (tx, rx) = mpsc::unbounded_channel();
        let after = after.unwrap_or(0);
        for (seq, frame) in &self.events {
            if *seq > after {
                let _ = tx.send((*seq, frame.clone()));
            }
        }
        self.live = (!self.done).then_some(tx);
        rx
    }

    /// The id of the newest event (for a priming event that resumes here).
    pub(crate) fn last(&self) -> u64 {
        self.last
    }
}

/// The events of stream `no` read from `rx`, framed with their ids, after
/// `first` (already framed).
pub(crate) fn framed(
    no: u64,
    first: Vec<Bytes>,
    rx: mpsc::UnboundedReceiver<Delivery>,
) -> impl Stream<Item = Bytes> + Send + 'static {
    let rest = stream::unfold(rx, move |mut rx| async move {
        let (seq, frame) = rx.recv().await?;
        Some((event(Some((no, seq)), None, &frame), rx))
    });
    stream::iter(first).chain(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_carry_id_retry_and_every_line_of_the_frame() {
        let e = event(
            Some((3, 7)),
            Some(Duration::from_millis(500)),
            b"{\"a\":\n1}",
        );
        assert_eq!(
            &e[..],
            b"id: 3.7\nretry: 500\nevent: message\ndata: {\"a\":\ndata: 1}\n\n"
        );
        assert_eq!(&event(Some((1, 0)), None, b"")[..], b"id: 1.0\ndata: \n\n");
        assert_eq!(parse_event_id(" 3.7 "), Some((3, 7)));
        assert_eq!(parse_event_id("3"), None);
        assert_eq!(parse_event_id("x.1"), None);
    }

    #[test]
    fn a_log_replays_after_an_id_and_keeps_at_most_its_bounds() {
        let mut log = EventLog::default();
        for i in 0..3u8 {
            log.push(Bytes::from(vec![b'a' + i]));
        }
        let mut rx = log.attach(Some(1));
        assert_eq!(rx.try_recv().unwrap(), (2, Bytes::from_static(b"b")));
        assert_eq!(rx.try_recv().unwrap(), (3, Bytes::from_static(b"c")));
        log.push(Bytes::from_static(b"d"));
        assert_eq!(rx.try_recv().unwrap(), (4, Bytes::from_static(b"d")));
        log.finish();
        assert!(rx.try_recv().is_err() && !log.is_live());
        for _ in 0..MAX_EVENTS + 10 {
            log.push(Bytes::from_static(b"x"));
        }
        assert_eq!(log.events.len(), MAX_EVENTS);
        let big = Bytes::from(vec![b'y'; MAX_BYTES]);
        log.push(big);
        assert!(log.bytes <= MAX_BYTES && log.events.len() == 1);
    }
}
