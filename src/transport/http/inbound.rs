//! Reading just enough of an inbound message to know whether it answers a
//! request in flight (to stop reading that request's stream), and reading a
//! JSON-RPC error body of an HTTP error response. Outgoing messages are
//! never parsed: their metadata comes with them ([`crate::transport::FrameMeta`]).

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

/// The parts of an inbound message that say whether it answers a request.
#[derive(Deserialize)]
struct InEnv<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    method: Option<&'a RawValue>,
    #[serde(borrow, default)]
    result: Option<&'a RawValue>,
    #[serde(borrow, default)]
    error: Option<&'a RawValue>,
}

/// Our ids as written on the wire: integers (`7`, never `"7"`).
fn is_id(raw: &RawValue, id: i64) -> bool {
    raw.get().trim() == itoa::Buffer::new().format(id)
}

/// True if `frame` is the reply (result or error) to our request `id`.
pub(crate) fn answers(frame: &[u8], id: i64) -> bool {
    match serde_json::from_slice::<InEnv<'_>>(frame) {
        Ok(env) => {
            env.method.is_none()
                && (env.result.is_some() || env.error.is_some())
                && env.id.is_some_and(|r| is_id(r, id))
        }
        Err(_) => false,
    }
}

/// The id of a reply (result or error) when it is one of ours (an integer).
pub(crate) fn reply_id(frame: &[u8]) -> Option<i64> {
    let env: InEnv<'_> = serde_json::from_slice(frame).ok()?;
    if env.method.is_some() || (env.result.is_none() && env.error.is_none()) {
        return None;
    }
    env.id?.get().trim().parse().ok()
}

/// True if a discarded fragment names `"id": <id>`.
pub(crate) fn fragment_names_id(fragment: &[u8], id: i64) -> bool {
    let mut buf = itoa::Buffer::new();
    let id = buf.format(id).as_bytes();
    let finder = memchr::memmem::Finder::new(b"\"id\"");
    finder.find_iter(fragment).any(|pos| {
        let rest = fragment[pos + 4..].trim_ascii_start();
        rest.strip_prefix(b":")
            .map(|r| r.trim_ascii_start())
            .is_some_and(|r| {
                r.starts_with(id)
                    && !r
                        .get(id.len())
                        .is_some_and(|b| b.is_ascii_digit() || *b == b'.')
            })
    })
}

/// A JSON-RPC error body from an HTTP error response: the server's own
/// error, delivered to the request as such.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    #[serde(default)]
    pub(crate) id: Option<Box<RawValue>>,
    pub(crate) error: ErrorFields,
}

/// The error object of an [`ErrorBody`].
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorFields {
    pub(crate) code: i64,
    #[serde(default)]
    pub(crate) message: String,
    #[serde(default)]
    pub(crate) data: Option<Box<RawValue>>,
}

impl ErrorBody {
    /// Parses a body that is a JSON-RPC error response.
    pub(crate) fn parse(body: &[u8]) -> Option<ErrorBody> {
        serde_json::from_slice(body).ok()
    }

    /// An error the 2026-07-28 spec defines (A3): proof the server is modern.
    pub(crate) fn is_modern(&self) -> bool {
        matches!(self.error.code, -32022..=-32020)
    }

    /// The frame to deliver for request `id`: the body as is when it names
    /// that id, else the same error re-addressed to it (servers answer a
    /// refused POST with `"id": null`).
    pub(crate) fn for_request(&self, body: &Bytes, id: i64) -> Bytes {
        if self.id.as_ref().is_some_and(|r| is_id(r, id)) {
            return body.clone();
        }
        let mut out = format!(
            "{{\"jsonrpc\":\"2.0\",\"id\":{id},\"error\":{{\"code\":{},\"message\":{}",
            self.error.code,
            serde_json::Value::String(self.error.message.clone())
        );
        if let Some(d) = &self.error.data {
            out.push_str(",\"data\":");
            out.push_str(d.get());
        }
        out.push_str("}}");
        Bytes::from(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_replies_and_ids_in_fragments() {
        assert!(answers(br#"{"jsonrpc":"2.0","id":12,"result":{}}"#, 12));
        assert!(!answers(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#, 12));
        assert!(!answers(br#"{"jsonrpc":"2.0","id":"12","result":{}}"#, 12));
        assert!(!answers(
            br#"{"jsonrpc":"2.0","id":12,"method":"ping"}"#,
            12
        ));
        assert_eq!(
            reply_id(br#"{"jsonrpc":"2.0","id": 5 ,"error":{}}"#),
            Some(5)
        );
        assert_eq!(reply_id(br#"{"jsonrpc":"2.0","id":5,"method":"x"}"#), None);
        assert!(fragment_names_id(br#"{"result":"xx","id": 12}"#, 12));
        assert!(!fragment_names_id(br#"{"id":123}"#, 12));
    }

    #[test]
    fn error_bodies_are_readdressed_to_the_request() {
        let body = Bytes::from_static(br#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"},"id":null}"#);
        let e = ErrorBody::parse(&body).unwrap();
        assert!(!e.is_modern());
        let f = e.for_request(&body, 1);
        let v: serde_json::Value = serde_json::from_slice(&f).unwrap();
        assert_eq!(v["id"], 1);
        assert_eq!(v["error"]["code"], -32000);
    }
}
