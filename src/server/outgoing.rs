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

/// One item for the writer.
pub(crate) enum Out {
    /// A frame to send.
    Frame(Bytes),
    /// Stop: the client sees the connection close.
    Close,
}

/// Forwards queued frames to the transport until the queue or the
/// transport closes, or [`Out::Close`] arrives.
pub(crate) async fn write_loop(
    mut queue: mpsc::UnboundedReceiver<Out>,
    outgoing: mpsc::Sender<Bytes>,
) {
    while let Some(out) = queue.recv().await {
        match out {
            Out::Frame(frame) => {
                if outgoing.send(frame).await.is_err() {
                    break;
                }
            }
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
