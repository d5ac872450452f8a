//! Reading just enough of a frame to route it and build its headers: the
//! transport knows no MCP types, so it peeks at the envelope itself.

use std::borrow::Cow;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::value::RawValue;

/// What an outgoing frame is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A request: it expects a reply.
    Request,
    /// A notification.
    Notification,
    /// A reply to a server request (or anything else without a method).
    Response,
}

/// The parts of an outgoing frame the HTTP layer needs.
#[derive(Debug, Clone)]
pub(crate) struct Outgoing {
    pub(crate) kind: Kind,
    /// The method, when there is one.
    pub(crate) method: String,
    /// The id as written (`7`, `"x"`), for requests.
    pub(crate) id: Option<String>,
    /// `params.name` (tools/call, prompts/get) or `params.uri` (resources/read).
    pub(crate) name: Option<String>,
    /// `params._meta["io.modelcontextprotocol/protocolVersion"]`: set on
    /// every 2026-07-28 request.
    pub(crate) modern_version: Option<String>,
    /// For `notifications/cancelled`: `params.requestId` as written.
    pub(crate) cancels: Option<String>,
}

#[derive(Deserialize)]
struct Env<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    params: Option<Params<'a>>,
}

#[derive(Deserialize)]
struct Params<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    uri: Option<Cow<'a, str>>,
    #[serde(rename = "requestId", borrow, default)]
    request_id: Option<&'a RawValue>,
    #[serde(rename = "_meta", borrow, default)]
    meta: Option<Meta<'a>>,
}

#[derive(Deserialize)]
struct Meta<'a> {
    #[serde(rename = "io.modelcontextprotocol/protocolVersion", borrow, default)]
    version: Option<Cow<'a, str>>,
}

impl Outgoing {
    /// Peeks at a frame the session encoded. `None` for a batch or garbage
    /// (which the session never sends).
    pub(crate) fn peek(frame: &[u8]) -> Option<Outgoing> {
        let env: Env<'_> = serde_json::from_slice(frame).ok()?;
        let id = env.id.map(|r| r.get().to_owned()).filter(|s| s != "null");
        let kind = match (&env.method, &id) {
            (Some(_), Some(_)) => Kind::Request,
            (Some(_), None) => Kind::Notification,
            (None, _) => Kind::Response,
        };
        let method = env.method.map(Cow::into_owned).unwrap_or_default();
        let params = env.params;
        let name = params.as_ref().and_then(|p| match method.as_str() {
            "tools/call" | "prompts/get" => p.name.as_deref().map(str::to_owned),
            "resources/read" => p.uri.as_deref().map(str::to_owned),
            _ => None,
        });
        let modern_version = params
            .as_ref()
            .and_then(|p| p.meta.as_ref())
            .and_then(|m| m.version.as_deref().map(str::to_owned));
        let cancels = params
            .as_ref()
            .and_then(|p| p.request_id)
            .map(|r| r.get().to_owned());
        Some(Outgoing {
            kind,
            method,
            id,
            name,
            modern_version,
            cancels,
        })
    }
}

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

/// True if `frame` is the reply (result or error) to the request `id`.
pub(crate) fn answers(frame: &[u8], id: &str) -> bool {
    match serde_json::from_slice::<InEnv<'_>>(frame) {
        Ok(env) => {
            env.method.is_none()
                && (env.result.is_some() || env.error.is_some())
                && env.id.is_some_and(|r| same_id(r.get(), id))
        }
        Err(_) => false,
    }
}

/// The id of a reply (result or error), as written.
pub(crate) fn reply_id(frame: &[u8]) -> Option<String> {
    let env: InEnv<'_> = serde_json::from_slice(frame).ok()?;
    if env.method.is_some() || (env.result.is_none() && env.error.is_none()) {
        return None;
    }
    Some(env.id?.get().trim().to_owned())
}

/// Ids compare by value: `7` and `"7"` differ, whitespace does not matter.
fn same_id(a: &str, b: &str) -> bool {
    a.trim() == b.trim()
}

/// True if a discarded fragment names `"id": <id>`.
pub(crate) fn fragment_names_id(fragment: &[u8], id: &str) -> bool {
    let finder = memchr::memmem::Finder::new(b"\"id\"");
    finder.find_iter(fragment).any(|pos| {
        let rest = fragment[pos + 4..].trim_ascii_start();
        rest.strip_prefix(b":")
            .map(|r| r.trim_ascii_start())
            .is_some_and(|r| {
                r.starts_with(id.as_bytes())
                    && !r
                        .get(id.len())
                        .is_some_and(|b| b.is_ascii_digit() || *b == b'.')
            })
    })
}

/// `result.protocolVersion` of an `initialize` reply.
pub(crate) fn initialize_version(frame: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct R<'a> {
        #[serde(borrow)]
        result: Option<V<'a>>,
    }
    #[derive(Deserialize)]
    struct V<'a> {
        #[serde(rename = "protocolVersion", borrow)]
        version: Option<Cow<'a, str>>,
    }
    let r: R<'_> = serde_json::from_slice(frame).ok()?;
    Some(r.result?.version?.into_owned())
}

/// A JSON-RPC error body from an HTTP error response.
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
    /// that id, else the same error re-addressed to it.
    pub(crate) fn for_request(&self, body: &Bytes, id: &str) -> Bytes {
        if self.id.as_ref().is_some_and(|r| same_id(r.get(), id)) {
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

/// The error frame standing in for the reply to request `id` (as written
/// on the wire) that the transport could not get: code -32603, marked so
/// the session reports [`crate::Error::Transport`].
pub(crate) fn error_frame(id: &str, message: &str, status: Option<u16>) -> Bytes {
    let v = serde_json::json!({
        "code": crate::protocol::codes::INTERNAL_ERROR,
        "message": message,
        "data": {crate::protocol::jsonrpc::TRANSPORT_ERROR_KEY: {"status": status}},
    });
    Bytes::from(format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"error\":{v}}}"))
}

/// Encodes a header value per 2026-07-28: visible ASCII (inner spaces
/// allowed) goes as is; anything else, and a plain value that looks
/// encoded, becomes `=?base64?<base64 of the UTF-8>?=`.
pub(crate) fn encode_header_value(value: &str) -> String {
    let visible = value.bytes().all(|b| (0x20..=0x7e).contains(&b));
    let padded = value.starts_with(' ') || value.ends_with(' ');
    let looks_encoded = value.starts_with("=?base64?") && value.ends_with("?=");
    let plain = !value.is_empty() && visible && !padded && !looks_encoded;
    if plain {
        value.to_owned()
    } else {
        format!("=?base64?{}?=", base64(value.as_bytes()))
    }
}

fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for c in input.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= c.len() {
                out.push(T[((n >> shift) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peeks_requests_notifications_and_replies() {
        let o = Outgoing::peek(br#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"add","arguments":{"name":"no"},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}"#).unwrap();
        assert_eq!(o.kind, Kind::Request);
        assert_eq!(o.id.as_deref(), Some("3"));
        assert_eq!(o.name.as_deref(), Some("add"));
        assert_eq!(o.modern_version.as_deref(), Some("2026-07-28"));
        let o = Outgoing::peek(
            br#"{"jsonrpc":"2.0","id":4,"method":"resources/read","params":{"uri":"file:///x"}}"#,
        )
        .unwrap();
        assert_eq!(o.name.as_deref(), Some("file:///x"));
        assert_eq!(o.modern_version, None);
        let o = Outgoing::peek(br#"{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":9,"reason":"x"}}"#).unwrap();
        assert_eq!(o.kind, Kind::Notification);
        assert_eq!(o.cancels.as_deref(), Some("9"));
        let o = Outgoing::peek(br#"{"jsonrpc":"2.0","id":"s1","result":{}}"#).unwrap();
        assert_eq!(o.kind, Kind::Response);
    }

    #[test]
    fn recognises_replies_and_ids_in_fragments() {
        assert!(answers(br#"{"jsonrpc":"2.0","id":12,"result":{}}"#, "12"));
        assert!(!answers(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#, "12"));
        assert!(!answers(
            br#"{"jsonrpc":"2.0","id":12,"method":"ping"}"#,
            "12"
        ));
        assert!(fragment_names_id(br#"{"result":"xx","id": 12}"#, "12"));
        assert!(!fragment_names_id(br#"{"id":123}"#, "12"));
    }

    #[test]
    fn error_bodies_are_readdressed_to_the_request() {
        let body = Bytes::from_static(br#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"},"id":null}"#);
        let e = ErrorBody::parse(&body).unwrap();
        assert!(!e.is_modern());
        let f = e.for_request(&body, "1");
        let v: serde_json::Value = serde_json::from_slice(&f).unwrap();
        assert_eq!(v["id"], 1);
        assert_eq!(v["error"]["code"], -32000);
    }

    #[test]
    fn header_values_are_encoded_when_not_plain_ascii() {
        assert_eq!(encode_header_value("get-sum"), "get-sum");
        assert_eq!(encode_header_value("a b"), "a b");
        assert_eq!(encode_header_value("café"), "=?base64?Y2Fmw6k=?=");
        assert_eq!(encode_header_value(" x"), "=?base64?IHg=?=");
        assert_eq!(
            encode_header_value("=?base64?abc?="),
            "=?base64?PT9iYXNlNjQ/YWJjPz0=?="
        );
    }
}
