//! Replaying a recorded session (`record.rs`): each request the session
//! sends is matched, by method and params (ids, progress tokens, trace
//! context and client identity ignored, secrets redacted as in the
//! recording), against the recorded requests not yet served, the first
//! one first; what the server sent for it (its reply, progress and other
//! messages that followed) is sent back with the ids of now. A request
//! the recording does not hold fails with
//! [`TransportError::ReplayMismatch`], naming the recorded request that
//! was due. Notifications and answers to server requests are not matched.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::redact::Secrets;
use super::{
    Closed, Inbound, InboundSink, Outbound, Transport, TransportControl, TransportError,
    TransportHandle,
};
use crate::{Error, Result};

/// Capacity of the channel from the session.
const CHANNEL_CAPACITY: usize = 64;
/// The most of a request quoted in a mismatch.
const QUOTED: usize = 300;
/// `_meta` keys that differ between two runs of the same request.
const VOLATILE_META: &[&str] = &[
    "progressToken",
    "traceparent",
    "tracestate",
    "baggage",
    "io.modelcontextprotocol/clientInfo",
];

/// One recorded request and what the server sent for it.
#[derive(Debug)]
struct Recorded {
    /// Its position among the recorded requests, from 1.
    index: usize,
    method: String,
    /// Params as matched (see [`normalize`]).
    params: Value,
    id: Value,
    token: Option<Value>,
    replies: Vec<Value>,
    served: bool,
}

impl Recorded {
    fn describe(&self) -> String {
        describe(&self.method, &self.params)
    }
}

/// `method params` as a mismatch quotes it (`_meta` left out: it is
/// compared, but is the same for every request of a client).
fn describe(method: &str, params: &Value) -> String {
    let mut shown = params.clone();
    if let Some(map) = shown.as_object_mut() {
        map.remove("_meta");
    }
    let text = format!("{method} {shown}");
    match text.char_indices().nth(QUOTED) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// Params as matched: `{}` for none, volatile `_meta` keys dropped (and
/// `_meta` when nothing is left), `initialize`'s clientInfo dropped,
/// secrets redacted.
fn normalize(method: &str, params: Option<&Value>) -> Value {
    let mut params = params
        .filter(|p| !p.is_null())
        .cloned()
        .unwrap_or_else(|| json!({}));
    if let Some(map) = params.as_object_mut() {
        if let Some(meta) = map.get_mut("_meta").and_then(Value::as_object_mut) {
            VOLATILE_META.iter().for_each(|k| {
                meta.remove(*k);
            });
            if meta.is_empty() {
                map.remove("_meta");
            }
        }
        if method == "initialize" {
            map.remove("clientInfo");
        }
    }
    Secrets::default().value(&mut params);
    params
}

fn token_of(message: &Value) -> Option<Value> {
    message.pointer("/params/_meta/progressToken").cloned()
}

fn is_response(message: &Value) -> bool {
    message.get("method").is_none() && message.get("id").is_some()
}

/// The recording's requests, each with what came back for it.
fn parse(text: &str, path: &std::path::Path) -> Result<(Vec<Value>, Vec<Recorded>)> {
    let bad =
        |n: usize, why: &str| Error::invalid_argument(format!("{}:{n}: {why}", path.display()));
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let header: Value = match lines.next() {
        Some((_, line)) => serde_json::from_str(line)
            .map_err(|_| bad(1, "not a switchboard recording (no header line)"))?,
        None => return Err(bad(1, "empty: not a switchboard recording")),
    };
    if header.get("switchboard").and_then(Value::as_str) != Some("recording") {
        return Err(bad(
            1,
            "not a switchboard recording (no {\"switchboard\": \"recording\"} header)",
        ));
    }
    let mut preamble = Vec::new();
    let mut requests: Vec<Recorded> = Vec::new();
    for (n, line) in lines {
        let event: Value =
            serde_json::from_str(line).map_err(|e| bad(n + 1, &format!("not JSON: {e}")))?;
        let Some(frame) = event.get("frame") else {
            continue;
        };
        match event.get("dir").and_then(Value::as_str) {
            Some("send") => {
                if let (Some(method), Some(id)) =
                    (frame.get("method").and_then(Value::as_str), frame.get("id"))
                {
                    requests.push(Recorded {
                        index: requests.len() + 1,
                        method: method.to_owned(),
                        params: normalize(method, frame.get("params")),
                        id: id.clone(),
                        token: token_of(frame),
                        replies: Vec::new(),
                        served: false,
                    });
                }
            }
            Some("recv") => {
                let owner = if is_response(frame) {
                    requests
                        .iter()
                        .rposition(|r| Some(&r.id) == frame.get("id"))
                } else {
                    let token = frame.pointer("/params/progressToken");
                    token
                        .and_then(|t| requests.iter().rposition(|r| r.token.as_ref() == Some(t)))
                        .or_else(|| requests.len().checked_sub(1))
                };
                match owner {
                    Some(i) => requests[i].replies.push(frame.clone()),
                    None => preamble.push(frame.clone()),
                }
            }
            _ => {}
        }
    }
    Ok((preamble, requests))
}

/// A transport that serves a recording back.
pub(crate) struct ReplayTransport {
    pub(crate) path: PathBuf,
}

struct Replay {
    preamble: Vec<Value>,
    requests: Vec<Recorded>,
}

impl Replay {
    /// What to send back for one frame from the session.
    fn answer(&mut self, frame: &[u8]) -> Vec<Inbound> {
        let Ok(message) = serde_json::from_slice::<Value>(frame) else {
            return Vec::new();
        };
        let (Some(method), Some(id)) = (
            message.get("method").and_then(Value::as_str),
            message.get("id"),
        ) else {
            return Vec::new(); // a notification, or our answer to the server
        };
        let live_id = id.clone();
        let params = normalize(method, message.get("params"));
        let due = self.requests.iter().position(|r| !r.served);
        let found = due.and_then(|first| {
            let same = |r: &Recorded| !r.served && r.method == method && r.params == params;
            if same(&self.requests[first]) {
                Some(first)
            } else {
                self.requests.iter().position(same)
            }
        });
        let failed = |error: TransportError| match live_id.as_i64() {
            Some(id) => vec![Inbound::Failed { id, error }],
            None => Vec::new(),
        };
        let Some(at) = found else {
            let (index, expected) = match due {
                Some(i) => (self.requests[i].index, self.requests[i].describe()),
                None => (
                    self.requests.len() + 1,
                    "nothing: the recording holds no more requests".to_owned(),
                ),
            };
            return failed(TransportError::ReplayMismatch {
                index,
                expected,
                got: describe(method, &params),
            });
        };
        let mut out: Vec<Inbound> = std::mem::take(&mut self.preamble)
            .into_iter()
            .map(frame_of)
            .collect();
        let recorded = &mut self.requests[at];
        recorded.served = true;
        let live_token = token_of(&message);
        let mut answered = false;
        for mut reply in recorded.replies.clone() {
            if is_response(&reply) && reply.get("id") == Some(&recorded.id) {
                reply["id"] = live_id.clone();
                answered = true;
            } else if let (Some(t), Some(live)) = (&recorded.token, &live_token) {
                if reply.pointer("/params/progressToken") == Some(t) {
                    reply["params"]["progressToken"] = live.clone();
                }
            }
            out.push(frame_of(reply));
        }
        if !answered {
            out.extend(failed(TransportError::Connection {
                message: format!(
                    "the recording holds no reply to request {} ({})",
                    recorded.index, recorded.method
                ),
            }));
        }
        out
    }
}

fn frame_of(message: Value) -> Inbound {
    Inbound::Frame(Bytes::from(message.to_string()))
}

struct ReplayControl {
    task: Mutex<Option<JoinHandle<()>>>,
    path: PathBuf,
}

impl TransportControl for ReplayControl {
    fn close(&self) -> BoxFuture<'static, ()> {
        self.kill();
        Box::pin(async {})
    }
    fn kill(&self) {
        if let Some(task) = self.task.lock().unwrap_or_else(|p| p.into_inner()).take() {
            task.abort();
        }
    }
    fn stderr_tail(&self) -> Vec<String> {
        Vec::new()
    }
    fn describe(&self) -> String {
        format!("replay: {}", self.path.display())
    }
}

impl Transport for ReplayTransport {
    fn start(
        self: Box<Self>,
        sink: Arc<dyn InboundSink>,
    ) -> BoxFuture<'static, Result<TransportHandle>> {
        Box::pin(async move {
            let text = tokio::fs::read_to_string(&self.path).await.map_err(|e| {
                Error::invalid_argument(format!(
                    "{}: cannot read the recording: {e}",
                    self.path.display()
                ))
            })?;
            let (preamble, requests) = parse(&text, &self.path)?;
            let mut replay = Replay { preamble, requests };
            let (tx, mut rx) = mpsc::channel::<Bytes>(CHANNEL_CAPACITY);
            let task = tokio::spawn(async move {
                while let Some(frame) = rx.recv().await {
                    for event in replay.answer(&frame) {
                        sink.deliver(event);
                    }
                }
                sink.deliver(Inbound::Closed(Closed {
                    reason: "the replay ended".into(),
                    stderr_tail: Vec::new(),
                }));
            });
            Ok(TransportHandle {
                outbound: Outbound::channel(tx),
                control: Arc::new(ReplayControl {
                    task: Mutex::new(Some(task)),
                    path: self.path,
                }),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn replay(lines: &[Value]) -> Replay {
        let mut text = json!({"switchboard": "recording", "version": 1}).to_string();
        for l in lines {
            text.push('\n');
            text.push_str(&l.to_string());
        }
        let (preamble, requests) = parse(&text, std::path::Path::new("t.jsonl")).unwrap();
        Replay { preamble, requests }
    }

    fn frames(events: Vec<Inbound>) -> Vec<Value> {
        events
            .into_iter()
            .map(|e| match e {
                Inbound::Frame(b) => serde_json::from_slice(&b).unwrap(),
                Inbound::Failed { error, .. } => json!({"failed": error.to_string()}),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn answers_come_back_under_the_ids_of_now() {
        let mut r = replay(&[
            json!({"dir": "send", "frame": {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "add", "_meta": {"progressToken": 1}}}}),
            json!({"dir": "recv", "frame": {"jsonrpc": "2.0", "method": "notifications/progress", "params": {"progressToken": 1, "progress": 1}}}),
            json!({"dir": "recv", "frame": {"jsonrpc": "2.0", "id": 1, "result": {"content": []}}}),
        ]);
        let live = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "add", "_meta": {"progressToken": 7}}});
        let out = frames(r.answer(live.to_string().as_bytes()));
        assert_eq!(out[0]["params"]["progressToken"], 7);
        assert_eq!(
            out[1],
            json!({"jsonrpc": "2.0", "id": 7, "result": {"content": []}})
        );
        let again = frames(r.answer(live.to_string().as_bytes()));
        assert!(
            again[0]["failed"]
                .as_str()
                .unwrap()
                .contains("no more requests"),
            "{again:?}"
        );
    }

    #[test]
    fn a_different_request_names_the_one_due() {
        let mut r = replay(&[
            json!({"dir": "send", "frame": {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "add", "arguments": {"a": 1}}}}),
        ]);
        let live = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "add", "arguments": {"a": 2}}});
        let out = frames(r.answer(live.to_string().as_bytes()));
        let said = out[0]["failed"].as_str().unwrap();
        assert!(
            said.contains("recorded request 1: expected tools/call {\"arguments\":{\"a\":1}"),
            "{said}"
        );
        assert!(
            said.contains("got tools/call {\"arguments\":{\"a\":2}"),
            "{said}"
        );
    }
}
