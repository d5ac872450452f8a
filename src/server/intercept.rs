//! The seam for misbehaviour on purpose: an [`Interceptor`] sees each
//! request before the server handles it and decides what happens to it
//! (serve it, drop it, close the connection, send other bytes, delay it,
//! or rewrite the reply frame). Fault injection (`crate::testing::Fault`)
//! is built on it; a server without one pays a single `None` check per
//! request.

use std::fmt;
use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;

use crate::protocol::RequestId;

/// Rewrites an encoded reply frame before it is sent.
pub type Rewrite = Box<dyn FnOnce(Bytes) -> Bytes + Send>;

/// What becomes of one request.
pub enum Verdict {
    /// Handle it normally.
    Serve,
    /// Never reply (the connection stays healthy otherwise).
    Drop,
    /// Close the connection: the client sees the server vanish.
    Close,
    /// Send this frame instead of handling the request.
    Send(Bytes),
    /// Wait this long, then handle it normally.
    Delay(Duration),
    /// Handle it, then pass the encoded reply through this function.
    Rewrite(Rewrite),
}

impl fmt::Debug for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Serve => f.write_str("Serve"),
            Verdict::Drop => f.write_str("Drop"),
            Verdict::Close => f.write_str("Close"),
            Verdict::Send(b) => f.debug_tuple("Send").field(&b.len()).finish(),
            Verdict::Delay(d) => f.debug_tuple("Delay").field(d).finish(),
            Verdict::Rewrite(_) => f.write_str("Rewrite(..)"),
        }
    }
}

/// What an interceptor sees of a request: before its era is decided, so
/// it also sees requests the server would refuse.
#[derive(Debug)]
pub struct RequestHead<'a> {
    method: &'a str,
    id: &'a RequestId,
    params: Option<&'a [u8]>,
}

impl<'a> RequestHead<'a> {
    pub(crate) fn new(method: &'a str, id: &'a RequestId, params: Option<&'a [u8]>) -> Self {
        RequestHead { method, id, params }
    }

    /// The method.
    pub fn method(&self) -> &str {
        self.method
    }

    /// The request id.
    pub fn id(&self) -> &RequestId {
        self.id
    }

    /// The raw params, if any.
    pub fn params(&self) -> Option<&[u8]> {
        self.params
    }

    /// `params.name` (the tool of a `tools/call`, the prompt of a
    /// `prompts/get`), read on demand.
    pub fn name(&self) -> Option<String> {
        #[derive(Deserialize)]
        struct Named {
            name: Option<String>,
        }
        serde_json::from_slice::<Named>(self.params?).ok()?.name
    }
}

/// Decides, request by request, whether the server misbehaves.
pub trait Interceptor: Send + Sync + 'static {
    /// Called for every request as it arrives, on the connection's reader:
    /// must not block.
    fn on_request(&self, request: &RequestHead<'_>) -> Verdict;
}
