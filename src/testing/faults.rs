//! Misbehaviour on demand, for testing how a client copes with broken
//! servers. A fault is attached to a tool or a method with the builder
//! ([`super::TestServerBuilder::tool_fault`], `method_fault`); the rules
//! reach the server core as its [`Interceptor`], which turns each fault
//! into a [`Verdict`] on the request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;

use crate::server::{Interceptor, RequestHead, Verdict};

/// How a request is mishandled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Never reply (the connection stays healthy otherwise).
    Hang,
    /// Drop the outgoing channel mid-call: the client sees the server vanish.
    CloseConnection,
    /// Send one frame that is not JSON, then never reply.
    Garbage,
    /// Reply with a valid result under an id nobody asked for.
    WrongId,
    /// Reply with a valid result padded to at least this many bytes.
    Oversized(usize),
    /// Wait this long, then handle the request normally.
    Delay(Duration),
}

/// The frame sent by [`Fault::Garbage`].
pub(crate) const GARBAGE: &[u8] = b"this is not JSON {{{";

/// A fault and how many more times it fires (`None`: forever).
pub(crate) struct FaultRule {
    fault: Fault,
    remaining: Option<AtomicUsize>,
}

impl FaultRule {
    pub(crate) fn always(fault: Fault) -> Self {
        FaultRule {
            fault,
            remaining: None,
        }
    }

    pub(crate) fn times(fault: Fault, n: usize) -> Self {
        FaultRule {
            fault,
            remaining: Some(AtomicUsize::new(n)),
        }
    }

    /// The fault, if it still fires; counts one use.
    pub(crate) fn take(&self) -> Option<Fault> {
        match &self.remaining {
            None => Some(self.fault.clone()),
            Some(left) => left
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
                .ok()
                .map(|_| self.fault.clone()),
        }
    }
}

/// The fault rules of a server, by tool and by method.
#[derive(Default)]
pub(crate) struct Faults {
    pub(crate) tools: HashMap<String, FaultRule>,
    pub(crate) methods: HashMap<String, FaultRule>,
}

impl Faults {
    pub(crate) fn is_empty(&self) -> bool {
        self.tools.is_empty() && self.methods.is_empty()
    }

    fn fault_for(&self, request: &RequestHead<'_>) -> Option<Fault> {
        if let Some(f) = self.methods.get(request.method()).and_then(FaultRule::take) {
            return Some(f);
        }
        if request.method() == "tools/call" && !self.tools.is_empty() {
            return self.tools.get(&request.name()?)?.take();
        }
        None
    }
}

impl Interceptor for Faults {
    fn on_request(&self, request: &RequestHead<'_>) -> Verdict {
        match self.fault_for(request) {
            None => Verdict::Serve,
            Some(Fault::Hang) => Verdict::Drop,
            Some(Fault::CloseConnection) => Verdict::Close,
            Some(Fault::Garbage) => Verdict::Send(Bytes::from_static(GARBAGE)),
            Some(Fault::Delay(d)) => Verdict::Delay(d),
            Some(Fault::WrongId) => Verdict::Rewrite(Box::new(|frame| {
                rewrite(frame, |reply| {
                    if let Some(id) = reply.get_mut("id") {
                        *id = wrong_id(id);
                    }
                })
            })),
            Some(Fault::Oversized(size)) => Verdict::Rewrite(Box::new(move |frame| {
                rewrite(frame, |reply| pad(reply, size))
            })),
        }
    }
}

/// The frame changed by `f`, or as it was when it is not JSON.
fn rewrite(frame: Bytes, f: impl FnOnce(&mut Value)) -> Bytes {
    let Ok(mut reply) = serde_json::from_slice::<Value>(&frame) else {
        return frame;
    };
    f(&mut reply);
    serde_json::to_vec(&reply).map(Bytes::from).unwrap_or(frame)
}

/// An id that no client request carries: integers are shifted far away,
/// strings get a prefix.
pub(crate) fn wrong_id(id: &Value) -> Value {
    match id {
        Value::Number(n) => n
            .as_i64()
            .map(|n| Value::from(n.wrapping_add(1_000_000_007)))
            .unwrap_or_else(|| "not-your-id".into()),
        other => format!("not-{other}").into(),
    }
}

/// Pads a reply's result with a text content block until the encoded
/// reply reaches `size` bytes.
pub(crate) fn pad(reply: &mut Value, size: usize) {
    let Some(blocks) = reply
        .get_mut("result")
        .and_then(Value::as_object_mut)
        .map(|r| {
            r.entry("content")
                .or_insert_with(|| Value::Array(Vec::new()))
        })
        .and_then(Value::as_array_mut)
    else {
        return;
    };
    blocks.push(serde_json::json!({"type": "text", "text": ""}));
    let now = serde_json::to_vec(reply).map(|v| v.len()).unwrap_or(0);
    if now < size {
        if let Some(last) = reply
            .pointer_mut("/result/content")
            .and_then(Value::as_array_mut)
            .and_then(|a| a.last_mut())
        {
            last["text"] = Value::String("x".repeat(size - now));
        }
    }
}
