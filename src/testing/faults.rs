//! Misbehaviour on demand, for testing how a client copes with broken
//! servers. A fault is attached to a tool or a method with the builder
//! ([`super::TestServerBuilder::tool_fault`], `method_fault`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

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

/// An id that no client request carries: integers are shifted far away,
/// strings get a prefix.
pub(crate) fn wrong_id(id: &serde_json::Value) -> serde_json::Value {
    match id {
        serde_json::Value::Number(n) => n
            .as_i64()
            .map(|n| serde_json::Value::from(n.wrapping_add(1_000_000_007)))
            .unwrap_or_else(|| "not-your-id".into()),
        other => format!("not-{other}").into(),
    }
}

/// Pads a result object with a text content block until the encoded reply
/// reaches `size` bytes (`overhead` is what the envelope adds).
pub(crate) fn pad(result: &mut serde_json::Value, size: usize, overhead: usize) {
    let Some(obj) = result.as_object_mut() else {
        return;
    };
    let content = obj
        .entry("content")
        .or_insert_with(|| serde_json::Value::Array(Vec::new()));
    let Some(blocks) = content.as_array_mut() else {
        return;
    };
    blocks.push(serde_json::json!({"type": "text", "text": ""}));
    let now = serde_json::to_vec(result).map(|v| v.len()).unwrap_or(0) + overhead;
    if now < size {
        let fill = "x".repeat(size - now);
        if let Some(last) = result
            .get_mut("content")
            .and_then(|c| c.as_array_mut())
            .and_then(|a| a.last_mut())
        {
            last["text"] = serde_json::Value::String(fill);
        }
    }
}
