//! Replaying a recorded session (`record.rs`): each request the session
//! sends is matched, by method and params (ids, progress tokens, trace
//! context and client identity ignored, secrets redacted as in the
//! recording), against the recorded requests not yet served, the first
//! one first; what the server sent for it (its reply, progress and other
//! messages that followed) is sent back with the ids of now. A request
//! the recording does not hold fails with
//! [`TransportError::ReplayMismatch`], naming the recorded request that
//! was due. The server's own requests (handshake-era sampling, roots,
//! elicitation) are sent as recorded, and its replies after one wait for
//! the client's answer, which must be the recorded one. Notifications of
//! the client are not matched. `script.rs` reads a recording, `serve.rs`
//! serves it.

mod script;
mod serve;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{Closed, Inbound, InboundSink, Outbound, Transport, TransportControl, TransportHandle};
use crate::{Error, Result};

/// Capacity of the channel from the session.
const CHANNEL_CAPACITY: usize = 64;

/// A transport that serves a recording back.
pub(crate) struct ReplayTransport {
    pub(crate) path: PathBuf,
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
            let mut replay = serve::Replay::new(script::parse(&text, &self.path)?);
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
    use serde_json::{json, Value};

    use super::*;

    fn replay(lines: &[Value]) -> serve::Replay {
        let mut text = json!({"switchboard": "recording", "version": 1}).to_string();
        for l in lines {
            text.push('\n');
            text.push_str(&l.to_string());
        }
        serve::Replay::new(script::parse(&text, std::path::Path::new("t.jsonl")).unwrap())
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

    #[test]
    fn the_servers_request_waits_for_the_recorded_answer() {
        let ask = json!({"jsonrpc": "2.0", "id": "srv-1", "method": "sampling/createMessage", "params": {}});
        let lines = [
            json!({"dir": "send", "frame": {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "ask"}}}),
            json!({"dir": "recv", "frame": ask}),
            json!({"dir": "send", "frame": {"jsonrpc": "2.0", "id": "srv-1", "result": {"text": "yes"}}}),
            json!({"dir": "recv", "frame": {"jsonrpc": "2.0", "id": 1, "result": {"content": []}}}),
        ];
        let call =
            json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "ask"}});
        let mut r = replay(&lines);
        assert_eq!(frames(r.answer(call.to_string().as_bytes())), [ask]);
        let yes = json!({"jsonrpc": "2.0", "id": "srv-1", "result": {"text": "yes"}});
        let done = frames(r.answer(yes.to_string().as_bytes()));
        assert_eq!(
            done,
            [json!({"jsonrpc": "2.0", "id": 4, "result": {"content": []}})]
        );

        let mut r = replay(&lines);
        r.answer(call.to_string().as_bytes());
        let no = json!({"jsonrpc": "2.0", "id": "srv-1", "result": {"text": "no"}});
        let said = frames(r.answer(no.to_string().as_bytes()));
        let said = said[0]["failed"].as_str().unwrap();
        assert!(
            said.contains("recorded request 1: expected the answer to sampling/createMessage"),
            "{said}"
        );
        assert!(said.contains(r#"got {"result":{"text":"no"}}"#), "{said}");
    }
}
