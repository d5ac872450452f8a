//! Serving a script: each request of the session matched against the
//! recorded ones not yet served (the first one first), what the server
//! sent for it handed back with the ids of now, pausing after each
//! request of the server until the client's answer matches the recorded
//! one.

use std::collections::HashMap;

use bytes::Bytes;
use serde_json::Value;

use super::script::{
    answer_of, cut, describe, is_request, is_response, normalize, token_of, Recorded, Script,
};
use crate::transport::{Inbound, TransportError};

/// A request the server's replies wait on: the client must answer a
/// server request first.
struct Paused {
    at: usize,
    next: usize,
    live_id: Value,
    live_token: Option<Value>,
}

/// A script being served.
pub(super) struct Replay {
    preamble: Vec<Value>,
    requests: Vec<Recorded>,
    answers: HashMap<String, Value>,
    paused: HashMap<String, Paused>,
}

fn frame_of(message: Value) -> Inbound {
    Inbound::Frame(Bytes::from(message.to_string()))
}

fn failed(live_id: &Value, error: TransportError) -> Vec<Inbound> {
    match live_id.as_i64() {
        Some(id) => vec![Inbound::Failed { id, error }],
        None => Vec::new(),
    }
}

impl Replay {
    pub(super) fn new(script: Script) -> Self {
        Replay {
            preamble: script.preamble,
            requests: script.requests,
            answers: script.answers,
            paused: HashMap::new(),
        }
    }

    /// What to send back for one frame from the session.
    pub(super) fn answer(&mut self, frame: &[u8]) -> Vec<Inbound> {
        let Ok(message) = serde_json::from_slice::<Value>(frame) else {
            return Vec::new();
        };
        if is_response(&message) {
            return self.answered(&message);
        }
        let (Some(method), Some(id)) = (
            message.get("method").and_then(Value::as_str),
            message.get("id"),
        ) else {
            return Vec::new(); // a notification
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
        let Some(at) = found else {
            let (index, expected) = match due {
                Some(i) => (self.requests[i].index, self.requests[i].describe()),
                None => (
                    self.requests.len() + 1,
                    "nothing: the recording holds no more requests".to_owned(),
                ),
            };
            let got = describe(method, &params);
            return failed(
                &live_id,
                TransportError::ReplayMismatch {
                    index,
                    expected,
                    got,
                },
            );
        };
        self.requests[at].served = true;
        let mut out: Vec<Inbound> = std::mem::take(&mut self.preamble)
            .into_iter()
            .map(frame_of)
            .collect();
        let paused = Paused {
            at,
            next: 0,
            live_id,
            live_token: token_of(&message),
        };
        out.extend(self.resume(paused));
        out
    }

    /// The client answered a server request: if a request waits on it,
    /// its replies go on when the answer is the recorded one.
    fn answered(&mut self, message: &Value) -> Vec<Inbound> {
        let Some(key) = message.get("id").map(Value::to_string) else {
            return Vec::new();
        };
        let Some(paused) = self.paused.remove(&key) else {
            return Vec::new();
        };
        let live = answer_of(message);
        match self.answers.get(&key) {
            Some(recorded) if *recorded != live => {
                let request = &self.requests[paused.at];
                let asked = request
                    .replies
                    .get(paused.next.saturating_sub(1))
                    .and_then(|r| r.get("method"))
                    .and_then(Value::as_str)
                    .unwrap_or("a request");
                let expected = cut(format!("the answer to {asked} {key}: {recorded}"));
                let got = cut(format!("{live}"));
                failed(
                    &paused.live_id,
                    TransportError::ReplayMismatch {
                        index: request.index,
                        expected,
                        got,
                    },
                )
            }
            _ => self.resume(paused),
        }
    }

    /// The replies of a request from `paused.next`, up to and including
    /// the next request of the server (then it waits for the answer).
    fn resume(&mut self, mut paused: Paused) -> Vec<Inbound> {
        let mut out = Vec::new();
        let request = &self.requests[paused.at];
        while let Some(reply) = request.replies.get(paused.next) {
            paused.next += 1;
            let mut reply = reply.clone();
            if is_response(&reply) && reply.get("id") == Some(&request.id) {
                reply["id"] = paused.live_id.clone();
                out.push(frame_of(reply));
                return out;
            }
            if let (Some(t), Some(live)) = (&request.token, &paused.live_token) {
                if reply.pointer("/params/progressToken") == Some(t) {
                    reply["params"]["progressToken"] = live.clone();
                }
            }
            let key = is_request(&reply)
                .then(|| reply.get("id").map(Value::to_string))
                .flatten()
                .filter(|k| self.answers.contains_key(k));
            out.push(frame_of(reply));
            if let Some(key) = key {
                self.paused.insert(key, paused);
                return out;
            }
        }
        let message = format!(
            "the recording holds no reply to request {} ({})",
            request.index, request.method
        );
        out.extend(failed(
            &paused.live_id,
            TransportError::Connection { message },
        ));
        out
    }
}
