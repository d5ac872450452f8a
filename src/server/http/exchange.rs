//! One 2026-07-28 request over HTTP: a connection of the core for this
//! request alone, answered as JSON when the reply is the first thing it
//! sends, else as events (progress, log messages, a listen's
//! notifications) ending with the reply. The connection lives as long as
//! the response: a client that closes the stream cancels the request.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use tokio::sync::mpsc;

use super::guard::refuse;
use super::headers::{check_modern, check_params, header};
use super::sse;
use super::Endpoint;
use crate::protocol::jsonrpc::Incoming;
use crate::protocol::Era;
use crate::server::conn::{self, Open, Opened};
use crate::server::outgoing::{Out, Route};
use crate::transport::http::header_value;

/// Serves `message`, a request with `method`, as one exchange.
pub(crate) async fn serve(
    ep: &Endpoint,
    headers: &HeaderMap,
    method: &str,
    message: Incoming,
) -> Response {
    if let Incoming::Request { id, params, .. } = &message {
        let params = params.as_deref();
        let checked = check_modern(headers, method, params).and_then(|()| {
            // `Mcp-Name` now names the body's tool.
            let tool = (method == "tools/call")
                .then(|| header(headers, "mcp-name").and_then(header_value::decode))
                .flatten()
                .and_then(|name| ep.server.shared.handler.tool(&name));
            match tool {
                Some(tool) => check_params(headers, &tool, params),
                None => Ok(()),
            }
        });
        if let Err(e) = checked {
            return refuse(StatusCode::BAD_REQUEST, Some(id), &e);
        }
    }
    let (tx, mut rx) = mpsc::unbounded_channel();
    let listens = method == "subscriptions/listen";
    let opened = conn::open(
        ep.server.shared.clone(),
        Box::new(tx),
        Open::Exchange { listens },
    );
    opened.0.on_message(message);
    loop {
        match rx.recv().await {
            Some(Out::Frame(frame, Route::Reply(_))) => {
                return super::post::json_reply(frame, Era::Modern)
            }
            Some(Out::Frame(frame, _)) => {
                let first = sse::event(None, None, &frame);
                return sse::response(events(first, rx, opened));
            }
            // No resumption in 2026-07-28: the stream stays until the reply.
            Some(Out::EndStream(_)) => continue,
            Some(Out::Close) | None => return broken(),
        }
    }
}

/// The events after `first`, until the reply. Holds the connection: when
/// the client goes away the body is dropped, and with it the handler.
fn events(
    first: bytes::Bytes,
    rx: mpsc::UnboundedReceiver<Out>,
    opened: Opened,
) -> impl futures_util::Stream<Item = bytes::Bytes> + Send + 'static {
    let rest = stream::unfold(Some((rx, opened)), |state| async move {
        let (mut rx, opened) = state?;
        loop {
            match rx.recv().await? {
                Out::Frame(frame, Route::Reply(_)) => {
                    return Some((sse::event(None, None, &frame), None));
                }
                Out::Frame(frame, _) => {
                    return Some((sse::event(None, None, &frame), Some((rx, opened))));
                }
                Out::EndStream(_) => continue,
                Out::Close => return None,
            }
        }
    });
    futures_util::StreamExt::chain(stream::once(async move { first }), rest)
}

/// The core closed the connection (a fault injected on purpose): the
/// client sees the response break.
fn broken() -> Response {
    let failing = stream::once(async {
        Err::<bytes::Bytes, _>(std::io::Error::other("the server closed the connection"))
    });
    (StatusCode::OK, Body::from_stream(failing)).into_response()
}
