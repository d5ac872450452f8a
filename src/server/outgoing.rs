//! Everything bound for the client goes through one unbounded queue drained
//! by a single writer: notifications can then be sent from synchronous code
//! (`Context::progress`, `Server::notify_*`), in order, and closing the
//! connection (a fault) is one message on that queue.
//!
//! The queue is unbounded, but what fills it is not: replies are bounded
//! by the requests in flight (`ServerBuilder::max_in_flight`), and
//! notifications come from the server's own handlers.

use bytes::Bytes;
use serde::Serialize;
use tokio::sync::mpsc;

use crate::protocol::RequestId;

/// Which request a frame belongs to. Streamable HTTP gives each request a
/// response stream of its own and sends the rest on the session's GET
/// stream; stdio and the in-memory transport send every frame down one
/// pipe and ignore it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Route {
    /// The answer to this request: its stream ends with it.
    Reply(RequestId),
    /// Sent while serving this request: progress, a log message, an ask.
    During(RequestId),
    /// Part of no request: list changes, resource updates, a reply to a
    /// frame that had no usable id.
    Unrelated,
}

/// One item for the writer.
// Only Streamable HTTP reads the routes.
#[cfg_attr(not(feature = "http-server"), allow(dead_code))]
pub(crate) enum Out {
    /// A frame to send, and the request it belongs to.
    Frame(Bytes, Route),
    /// Streamable HTTP, handshake era: end this request's response stream
    /// now, before its reply; the client resumes with `Last-Event-ID`.
    EndStream(RequestId),
    /// Stop: the client sees the connection close.
    Close,
}

/// Where a connection's outgoing items go. Called from synchronous code,
/// sometimes under the connection's own locks: an outlet must not block
/// and must not call back into the connection.
pub(crate) trait Outlet: Send + Sync + 'static {
    /// Takes one item; a gone client is not an error.
    fn send(&self, out: Out);
}

/// One pipe for everything (stdio, in-memory): a single writer drains it.
impl Outlet for mpsc::UnboundedSender<Out> {
    fn send(&self, out: Out) {
        // A closed queue means the connection is gone: nothing to tell.
        let _ = mpsc::UnboundedSender::send(self, out);
    }
}

/// Forwards queued frames to the transport until the queue or the
/// transport closes, or [`Out::Close`] arrives.
pub(crate) async fn write_loop(
    mut queue: mpsc::UnboundedReceiver<Out>,
    outgoing: mpsc::Sender<Bytes>,
) {
    while let Some(out) = queue.recv().await {
        match out {
            Out::Frame(frame, _) => {
                if outgoing.send(frame).await.is_err() {
                    break;
                }
            }
            Out::EndStream(_) => {}
            Out::Close => break,
        }
    }
}

/// Encodes a server-to-client request under a string id.
pub(crate) fn encode_request<P: Serialize + ?Sized>(
    id: &str,
    method: &str,
    params: &P,
) -> Result<Bytes, serde_json::Error> {
    #[derive(Serialize)]
    struct Out<'a, P: Serialize + ?Sized> {
        jsonrpc: &'static str,
        id: &'a str,
        method: &'a str,
        params: &'a P,
    }
    serde_json::to_vec(&Out {
        jsonrpc: "2.0",
        id,
        method,
        params,
    })
    .map(Bytes::from)
}
