//! A recording read back: each request the client sent, what the server
//! sent for it (its reply, progress, messages that followed, its own
//! requests) and how the client answered the server's requests.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Value};

use crate::transport::redact::Secrets;
use crate::{Error, Result};

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
pub(super) struct Recorded {
    /// Its position among the recorded requests, from 1.
    pub(super) index: usize,
    pub(super) method: String,
    /// Params as matched (see [`normalize`]).
    pub(super) params: Value,
    pub(super) id: Value,
    pub(super) token: Option<Value>,
    pub(super) replies: Vec<Value>,
    pub(super) served: bool,
}

impl Recorded {
    pub(super) fn describe(&self) -> String {
        describe(&self.method, &self.params)
    }
}

/// What a recording holds.
#[derive(Debug, Default)]
pub(super) struct Script {
    /// Messages the server sent before any request.
    pub(super) preamble: Vec<Value>,
    pub(super) requests: Vec<Recorded>,
    /// The client's answer to each server request, by the request's id
    /// (its JSON text), as matched (see [`answer_of`]).
    pub(super) answers: HashMap<String, Value>,
}

/// `method params` as a mismatch quotes it (`_meta` left out: it is
/// compared, but is the same for every request of a client).
pub(super) fn describe(method: &str, params: &Value) -> String {
    let mut shown = params.clone();
    if let Some(map) = shown.as_object_mut() {
        map.remove("_meta");
    }
    cut(format!("{method} {shown}"))
}

pub(super) fn cut(text: String) -> String {
    match text.char_indices().nth(QUOTED) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// Params as matched: `{}` for none, volatile `_meta` keys dropped (and
/// `_meta` when nothing is left), `initialize`'s clientInfo dropped,
/// secrets redacted.
pub(super) fn normalize(method: &str, params: Option<&Value>) -> Value {
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

/// A client's answer to a server request, as matched: its result or
/// error, secrets redacted.
pub(super) fn answer_of(message: &Value) -> Value {
    let mut answer = match (message.get("result"), message.get("error")) {
        (Some(r), _) => json!({ "result": r }),
        (None, Some(e)) => json!({ "error": e }),
        _ => Value::Null,
    };
    Secrets::default().value(&mut answer);
    answer
}

pub(super) fn token_of(message: &Value) -> Option<Value> {
    message.pointer("/params/_meta/progressToken").cloned()
}

pub(super) fn is_response(message: &Value) -> bool {
    message.get("method").is_none() && message.get("id").is_some()
}

/// A request of the server (it has a method and an id).
pub(super) fn is_request(message: &Value) -> bool {
    message.get("method").is_some() && message.get("id").is_some()
}

/// Reads a recording (`record.rs` wrote it).
pub(super) fn parse(text: &str, path: &Path) -> Result<Script> {
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
    let mut script = Script::default();
    for (n, line) in lines {
        let event: Value =
            serde_json::from_str(line).map_err(|e| bad(n + 1, &format!("not JSON: {e}")))?;
        let Some(frame) = event.get("frame") else {
            continue;
        };
        match event.get("dir").and_then(Value::as_str) {
            Some("send") => sent(&mut script, frame),
            Some("recv") => received(&mut script, frame),
            _ => {}
        }
    }
    Ok(script)
}

fn sent(script: &mut Script, frame: &Value) {
    if let (Some(method), Some(id)) = (frame.get("method").and_then(Value::as_str), frame.get("id"))
    {
        let index = script.requests.len() + 1;
        script.requests.push(Recorded {
            index,
            method: method.to_owned(),
            params: normalize(method, frame.get("params")),
            id: id.clone(),
            token: token_of(frame),
            replies: Vec::new(),
            served: false,
        });
    } else if let Some(id) = frame.get("id").filter(|_| is_response(frame)) {
        script.answers.insert(id.to_string(), answer_of(frame));
    }
}

/// A message from the server goes to the request it answers, or whose
/// progress it reports, else to the last request sent before it.
fn received(script: &mut Script, frame: &Value) {
    let requests = &script.requests;
    let owner = if is_response(frame) {
        requests
            .iter()
            .rposition(|r| Some(&r.id) == frame.get("id"))
    } else {
        frame
            .pointer("/params/progressToken")
            .and_then(|t| requests.iter().rposition(|r| r.token.as_ref() == Some(t)))
            .or_else(|| requests.len().checked_sub(1))
    };
    match owner {
        Some(i) => script.requests[i].replies.push(frame.clone()),
        None => script.preamble.push(frame.clone()),
    }
}
