//! W3C Trace Context in a request's `_meta` (SEP-414).
//!
//! SEP-414 reserves three `_meta` keys, without the usual DNS prefix, for
//! OpenTelemetry's propagation: `traceparent` and `tracestate` (W3C Trace
//! Context) and `baggage` (W3C Baggage). A request that carries them joins
//! the caller's trace. This module only reads and writes the values; which
//! context is current is `crate::trace`'s business.

use std::fmt;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

/// The `_meta` key of the W3C `traceparent` value.
pub const TRACEPARENT: &str = "traceparent";
/// The `_meta` key of the W3C `tracestate` value.
pub const TRACESTATE: &str = "tracestate";
/// The `_meta` key of the W3C `baggage` value.
pub const BAGGAGE: &str = "baggage";

/// The longest `tracestate` or `baggage` value carried on (W3C: 512
/// tracestate bytes are enough for 32 members; baggage allows 8192). A
/// longer one is dropped rather than cut, since a cut one would not parse.
pub const MAX_CARRIED_VALUE: usize = 8192;

/// One span's place in a trace: what a `traceparent` names, with the
/// `tracestate` and `baggage` that travel beside it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct TraceContext {
    trace_id: [u8; 16],
    parent_id: [u8; 8],
    flags: u8,
    tracestate: Option<Box<str>>,
    baggage: Option<Box<str>>,
}

impl fmt::Debug for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Baggage may hold user data: only its presence is shown.
        f.debug_struct("TraceContext")
            .field("traceparent", &self.traceparent())
            .field("tracestate", &self.tracestate)
            .field("baggage", &self.baggage.as_ref().map(|_| ".."))
            .finish()
    }
}

impl TraceContext {
    /// A context for span `parent_id` of trace `trace_id`, with the
    /// `sampled` flag as given; `None` when either id is all zeros, which
    /// W3C reserves for "no trace".
    pub fn new(trace_id: [u8; 16], parent_id: [u8; 8], sampled: bool) -> Option<Self> {
        if trace_id == [0; 16] || parent_id == [0; 8] {
            return None;
        }
        Some(TraceContext {
            trace_id,
            parent_id,
            flags: u8::from(sampled),
            tracestate: None,
            baggage: None,
        })
    }

    /// Parses a `traceparent` as W3C Trace Context level 1 reads it:
    /// version `00` is exactly `00-<32 hex>-<16 hex>-<2 hex>`; a later
    /// version may carry more after the fourth field; version `ff`, upper
    /// case hex and all-zero ids are invalid. `None` for anything else: a
    /// malformed context is ignored, never an error.
    pub fn parse(traceparent: &str) -> Option<Self> {
        let b = traceparent.as_bytes();
        if b.len() < 55 || b[2] != b'-' || b[35] != b'-' || b[52] != b'-' {
            return None;
        }
        let version = hex_byte(&b[0..2])?;
        if version == 0xff || (version == 0 && b.len() != 55) || (b.len() > 55 && b[55] != b'-') {
            return None;
        }
        let mut trace_id = [0; 16];
        for (i, out) in trace_id.iter_mut().enumerate() {
            *out = hex_byte(&b[3 + 2 * i..5 + 2 * i])?;
        }
        let mut parent_id = [0; 8];
        for (i, out) in parent_id.iter_mut().enumerate() {
            *out = hex_byte(&b[36 + 2 * i..38 + 2 * i])?;
        }
        let flags = hex_byte(&b[53..55])?;
        let mut ctx = TraceContext::new(trace_id, parent_id, false)?;
        // Version 00 defines only the sampled bit; the rest are kept as
        // sent for a later version's sake.
        ctx.flags = flags;
        Some(ctx)
    }

    /// The context a request's `_meta` carries, if its `traceparent` is
    /// valid; `tracestate` and `baggage` come along when they are strings
    /// of at most [`MAX_CARRIED_VALUE`] bytes.
    pub fn from_meta(meta: &Map<String, Value>) -> Option<Self> {
        let parent = meta.get(TRACEPARENT)?.as_str()?;
        let carried = |key| {
            meta.get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty() && s.len() <= MAX_CARRIED_VALUE)
                .map(Box::from)
        };
        let mut ctx = TraceContext::parse(parent)?;
        ctx.tracestate = carried(TRACESTATE);
        ctx.baggage = carried(BAGGAGE);
        Some(ctx)
    }

    /// This context with `tracestate` set (or cleared).
    pub fn with_tracestate(mut self, tracestate: Option<&str>) -> Self {
        self.tracestate = tracestate
            .filter(|s| !s.is_empty() && s.len() <= MAX_CARRIED_VALUE)
            .map(Box::from);
        self
    }

    /// This context with `baggage` set (or cleared).
    pub fn with_baggage(mut self, baggage: Option<&str>) -> Self {
        self.baggage = baggage
            .filter(|s| !s.is_empty() && s.len() <= MAX_CARRIED_VALUE)
            .map(Box::from);
        self
    }

    /// The same trace, state and baggage, under another parent span (the
    /// span of whoever passes the context on).
    pub fn child(&self, parent_id: [u8; 8]) -> Option<Self> {
        if parent_id == [0; 8] {
            return None;
        }
        Some(TraceContext {
            parent_id,
            ..self.clone()
        })
    }

    /// The trace's id.
    pub fn trace_id(&self) -> [u8; 16] {
        self.trace_id
    }

    /// The id of the span the receiver's work is a child of.
    pub fn parent_id(&self) -> [u8; 8] {
        self.parent_id
    }

    /// The trace flags byte (bit 0: sampled).
    pub fn flags(&self) -> u8 {
        self.flags
    }

    /// Whether the caller records this trace (flag bit 0).
    pub fn sampled(&self) -> bool {
        self.flags & 1 == 1
    }

    /// The `tracestate` value, if any.
    pub fn tracestate(&self) -> Option<&str> {
        self.tracestate.as_deref()
    }

    /// The `baggage` value, if any.
    pub fn baggage(&self) -> Option<&str> {
        self.baggage.as_deref()
    }

    /// The `traceparent` value, always version `00`.
    pub fn traceparent(&self) -> String {
        let mut out = [0u8; 55];
        self.write_traceparent(&mut out);
        // Hex digits and dashes only.
        String::from_utf8_lossy(&out).into_owned()
    }

    /// Writes the 55 bytes of the `traceparent` value into `out`.
    pub(crate) fn write_traceparent(&self, out: &mut [u8; 55]) {
        out[0] = b'0';
        out[1] = b'0';
        out[2] = b'-';
        put_hex(&mut out[3..35], &self.trace_id);
        out[35] = b'-';
        put_hex(&mut out[36..52], &self.parent_id);
        out[52] = b'-';
        put_hex(&mut out[53..55], &[self.flags]);
    }

    /// The trace id as 32 lowercase hex digits (how tracing UIs show it).
    pub fn trace_id_hex(&self) -> String {
        let mut out = [0u8; 32];
        put_hex(&mut out, &self.trace_id);
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Serializes as the `_meta` entries it stands for: `traceparent`, then
/// `tracestate` and `baggage` when present.
impl Serialize for TraceContext {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry(TRACEPARENT, &self.traceparent())?;
        if let Some(state) = &self.tracestate {
            map.serialize_entry(TRACESTATE, state)?;
        }
        if let Some(baggage) = &self.baggage {
            map.serialize_entry(BAGGAGE, baggage)?;
        }
        map.end()
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    Some(hex_digit(pair[0])? << 4 | hex_digit(pair[1])?)
}

fn put_hex(out: &mut [u8], bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xf)];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const W3C_EXAMPLE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn the_w3c_example_round_trips() {
        let ctx = TraceContext::parse(W3C_EXAMPLE).expect("valid");
        assert_eq!(ctx.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(
            ctx.parent_id(),
            [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]
        );
        assert!(ctx.sampled());
        assert_eq!(ctx.traceparent(), W3C_EXAMPLE);
    }

    #[test]
    fn what_w3c_calls_invalid_is_ignored() {
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            // all-zero trace id, all-zero parent id
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            // upper case, version ff, trailing data on version 00
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            // multi-byte text where the dashes would be
            "00-4bf92f3577b34da6a3ce929d0e0e4736\u{e9}0f067aa0ba902b7-01",
        ] {
            assert!(TraceContext::parse(bad).is_none(), "{bad:?} parsed");
        }
    }

    #[test]
    fn a_later_version_may_carry_more() {
        let later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more";
        let ctx = TraceContext::parse(later).expect("valid");
        // Passed on as the version this side speaks.
        assert_eq!(ctx.traceparent(), W3C_EXAMPLE);
        assert!(TraceContext::parse(&later.replace("-more", "more")).is_none());
    }

    #[test]
    fn meta_carries_state_and_baggage_within_bounds() {
        let mut meta = Map::new();
        meta.insert(TRACEPARENT.into(), W3C_EXAMPLE.into());
        meta.insert(TRACESTATE.into(), "congo=t61rcWkgMzE".into());
        meta.insert(BAGGAGE.into(), "x".repeat(MAX_CARRIED_VALUE + 1).into());
        let ctx = TraceContext::from_meta(&meta).expect("valid");
        assert_eq!(ctx.tracestate(), Some("congo=t61rcWkgMzE"));
        assert_eq!(ctx.baggage(), None);
        meta.insert(TRACEPARENT.into(), 7.into());
        assert!(TraceContext::from_meta(&meta).is_none());
    }

    #[test]
    fn a_child_keeps_the_trace() {
        let ctx = TraceContext::parse(W3C_EXAMPLE).expect("valid");
        let child = ctx.child([1; 8]).expect("non-zero");
        assert_eq!(child.trace_id(), ctx.trace_id());
        assert_eq!(
            child.traceparent(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0101010101010101-01"
        );
        assert!(ctx.child([0; 8]).is_none());
    }
}
