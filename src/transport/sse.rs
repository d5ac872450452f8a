//! Legacy HTTP+SSE (2024-11-05): one long GET stream carries every server
//! message; its first `endpoint` event names the URL each client message is
//! POSTed to. Deprecated since 2025-03-26; used as a fallback and for URLs
//! ending in `/sse`.
//!
//! With an auth provider ([`HttpConfig::auth`]), the GET and every POST
//! carry its `Authorization` (and DPoP proof); a 401/403 on either goes to
//! the provider and the request is sent again when it renewed the
//! credentials, as on Streamable HTTP.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, CONTENT_TYPE};
use reqwest::Url;
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;

use super::auth::{self, AuthStep};
use super::http::HttpConfig;
use super::sse_parse::{SseItem, SseParser};
use super::{
    http, Closed, Frame, FrameKind, FrameMeta, Inbound, InboundSink, TransportControl,
    TransportError, TransportHandle,
};
use crate::auth::AuthProvider;
use crate::error::AuthErrorKind;
use crate::{Error, Result};

/// How much of an error body goes into a message.
const ERROR_BODY_SHOWN: usize = 200;

/// The bound on connecting as a whole: the session's connect deadline when
/// a session set one (it may be long, for a person authorizing, or short),
/// else the transport's own connect timeout. Each HTTP request inside is
/// bounded by the transport's connect timeout as well.
fn overall_deadline(config: &HttpConfig) -> Duration {
    if config.connect_deadline.is_zero() {
        config.connect_timeout
    } else {
        config.connect_deadline
    }
}

/// A live legacy SSE connection.
#[derive(Clone)]
pub(crate) struct Legacy {
    inner: Arc<Inner>,
}

struct Inner {
    client: reqwest::Client,
    url: Url,
    endpoint: Url,
    headers: HeaderMap,
    auth: Option<Arc<dyn AuthProvider>>,
    idle: Duration,
    sink: Arc<dyn InboundSink>,
    closed: Arc<AtomicBool>,
    tasks: Mutex<Vec<AbortHandle>>,
}

/// Starts a legacy SSE transport on its own (no Streamable HTTP attempt).
pub(crate) async fn start(
    config: HttpConfig,
    sink: Arc<dyn InboundSink>,
) -> Result<TransportHandle> {
    let legacy = Legacy::connect(config, sink).await?;
    let (tx, mut rx) = mpsc::channel::<Frame>(64);
    let l = legacy.clone();
    let writer = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            l.send(frame).await;
        }
        l.shutdown();
    });
    legacy.track(writer.abort_handle());
    Ok(TransportHandle {
        outbound: super::Outbound::frames(tx),
        control: Arc::new(legacy),
    })
}

impl Legacy {
    /// GETs the URL and waits for `endpoint`, within the connect
    /// deadline (each HTTP request) and the session's (all of it, OAuth
    /// included). An authorization that fails, or a refusal the provider
    /// cannot fix, is an [`Error::Auth`]; past the deadline an
    /// [`Error::Timeout`]; anything else an [`Error::Connect`].
    pub(crate) async fn connect(config: HttpConfig, sink: Arc<dyn InboundSink>) -> Result<Legacy> {
        let overall = overall_deadline(&config);
        match tokio::time::timeout(overall, Self::connect_inner(config, sink)).await {
            Ok(r) => r,
            Err(_) => Err(Error::Timeout {
                method: Error::CONNECT.into(),
                elapsed: overall,
                hint: Some(
                    "the legacy SSE endpoint was not reached (authorization included)".into(),
                ),
            }),
        }
    }

    async fn connect_inner(config: HttpConfig, sink: Arc<dyn InboundSink>) -> Result<Legacy> {
        let client = http::build_client(&config)?;
        let url = http::parse_url(&config.url)?;
        let headers = http::static_headers(&config)?;
        let auth = config.auth.clone();
        let deadline = config.connect_timeout;
        let mut rounds = 0;
        let resp = loop {
            let mut h = headers.clone();
            h.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
            let sent = match auth.as_deref() {
                Some(a) => auth::authorize(a, &url, "GET", &url, &mut h)
                    .await
                    .map_err(|e| auth::in_context("the SSE GET", e))?,
                None => None,
            };
            let resp =
                match tokio::time::timeout(deadline, client.get(url.clone()).headers(h).send())
                    .await
                {
                    Err(_) => {
                        return Err(connect_error(format!(
                            "no answer to the SSE GET within {deadline:?}"
                        )))
                    }
                    Ok(Err(e)) => {
                        return Err(connect_error(format!(
                            "SSE GET failed: {}",
                            http::error_chain(&e.without_url())
                        )))
                    }
                    Ok(Ok(r)) => r,
                };
            match auth::on_response(auth.as_deref(), &url, &resp, sent.as_deref(), &mut rounds)
                .await
            {
                AuthStep::Retry => continue,
                AuthStep::Proceed => break resp,
                AuthStep::Failed(e) => {
                    return Err(auth::in_context(
                        &format!("the SSE GET was refused with HTTP {}", resp.status()),
                        e,
                    ))
                }
            }
        };
        let status = resp.status();
        if auth.is_some() && matches!(status.as_u16(), 401 | 403) {
            return Err(Error::auth(
                AuthErrorKind::Refused,
                refused_message("the SSE GET", status, rounds),
            ));
        }
        if !status.is_success() {
            return Err(connect_error(format!("SSE GET answered HTTP {status}")));
        }
        let closed = Arc::new(AtomicBool::new(false));
        let (endpoint_tx, endpoint_rx) = oneshot::channel();
        // Aborted if connecting fails or is given up (also from outside,
        // by the overall deadline), kept once connected.
        let reader = ReaderGuard(Some(tokio::spawn(read_stream(
            resp,
            config.max_message_size,
            sink.clone(),
            closed.clone(),
            endpoint_tx,
        ))));
        let endpoint = match tokio::time::timeout(deadline, endpoint_rx).await {
            Ok(Ok(text)) => text,
            Ok(Err(_)) => {
                return Err(connect_error(
                    "the SSE stream ended before its endpoint event",
                ));
            }
            Err(_) => {
                return Err(connect_error(format!(
                    "no endpoint event within {deadline:?}"
                )));
            }
        };
        let endpoint = match url.join(endpoint.trim()) {
            Ok(e) => e,
            Err(e) => {
                return Err(connect_error(format!("bad endpoint {endpoint:?}: {e}")));
            }
        };
        if endpoint.origin() != url.origin() {
            return Err(connect_error(format!(
                "the endpoint event names another origin ({}); refusing to post there",
                endpoint.origin().ascii_serialization()
            )));
        }
        tracing::debug!(url = %url.path(), endpoint = %endpoint.path(), "legacy SSE connected");
        Ok(Legacy {
            inner: Arc::new(Inner {
                client,
                url,
                endpoint,
                headers,
                auth,
                idle: config.message_idle(),
                sink,
                closed,
                tasks: Mutex::new(reader.keep().into_iter().collect()),
            }),
        })
    }

    fn track(&self, task: AbortHandle) {
        self.inner
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(task);
    }

    /// POSTs one frame; requests on a task of their own (the reply comes
    /// on the stream), everything else in order.
    pub(crate) async fn send(&self, frame: Frame) {
        let Some((frame, out)) = http::routable(frame) else {
            return;
        };
        if out.kind == FrameKind::Request {
            let me = self.clone();
            let task = tokio::spawn(async move { me.post(frame, out).await });
            let mut tasks = self.inner.tasks.lock().unwrap_or_else(|p| p.into_inner());
            tasks.retain(|t| !t.is_finished());
            tasks.push(task.abort_handle());
        } else {
            self.post(frame, out).await;
        }
    }

    /// POSTs one frame to the endpoint, with the provider's credentials
    /// (sent again, bounded, after it renewed them on a 401/403); a
    /// failure becomes the request's error reply.
    async fn post(&self, frame: Bytes, out: Box<FrameMeta>) {
        let i = &self.inner;
        let mut rounds = 0;
        let failure = loop {
            let mut h = i.headers.clone();
            h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            let sent = match i.auth.as_deref() {
                Some(a) => match auth::authorize(a, &i.url, "POST", &i.endpoint, &mut h).await {
                    Ok(sent) => sent,
                    Err(e) => {
                        break TransportError::Auth {
                            status: None,
                            message: auth::detail(e),
                        }
                    }
                },
                None => None,
            };
            let send = i
                .client
                .post(i.endpoint.clone())
                .headers(h)
                .body(frame.clone())
                .send();
            let r = match tokio::time::timeout(i.idle, send).await {
                Err(_) => break TransportError::Timeout { after: i.idle },
                Ok(Err(e)) => {
                    break TransportError::Connection {
                        message: format!(
                            "HTTP POST failed: {}",
                            http::error_chain(&e.without_url())
                        ),
                    }
                }
                Ok(Ok(r)) => r,
            };
            let status = r.status();
            match auth::on_response(i.auth.as_deref(), &i.url, &r, sent.as_deref(), &mut rounds)
                .await
            {
                AuthStep::Retry => continue,
                AuthStep::Proceed => {}
                AuthStep::Failed(e) => {
                    break TransportError::Auth {
                        status: Some(status.as_u16()),
                        message: auth::detail(e),
                    };
                }
            }
            if status.is_success() {
                return;
            }
            if i.auth.is_some() && matches!(status.as_u16(), 401 | 403) {
                break TransportError::Auth {
                    status: Some(status.as_u16()),
                    message: refused_message("the POST", status, rounds),
                };
            }
            let body = tokio::time::timeout(i.idle, r.bytes())
                .await
                .ok()
                .and_then(|b| b.ok())
                .unwrap_or_default();
            let body_hint = String::from_utf8_lossy(&body[..body.len().min(ERROR_BODY_SHOWN)])
                .trim()
                .to_owned();
            break TransportError::Http {
                status: status.as_u16(),
                body_hint,
            };
        };
        http::fail(&*i.sink, &out, failure);
    }

    /// Drops the stream and every task.
    pub(crate) fn shutdown(&self) {
        if self.inner.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        for t in self
            .inner
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            t.abort();
        }
        self.inner.sink.deliver(Inbound::Closed(Closed {
            reason: "the client closed the connection".into(),
            stderr_tail: Vec::new(),
        }));
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // The reader task holds no handle to us: stop it with us.
        for t in self
            .tasks
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            t.abort();
        }
    }
}

/// The SSE reader task while connecting: aborted on drop unless kept.
struct ReaderGuard(Option<tokio::task::JoinHandle<()>>);

impl ReaderGuard {
    fn keep(mut self) -> Option<AbortHandle> {
        self.0.take().map(|t| t.abort_handle())
    }
}

impl Drop for ReaderGuard {
    fn drop(&mut self) {
        if let Some(t) = self.0.take() {
            t.abort();
        }
    }
}

fn connect_error(message: impl Into<String>) -> Error {
    Error::Connect {
        message: message.into(),
        stderr_tail: Vec::new(),
    }
}

/// A 401/403 the auth provider did not fix, after `rounds` renewals.
fn refused_message(what: &str, status: reqwest::StatusCode, rounds: u32) -> String {
    match rounds {
        0 => format!("{what} was refused with HTTP {status}, which the auth provider could not fix"),
        n => format!(
            "{what} was refused with HTTP {status} again after the auth provider renewed the credentials {n} times"
        ),
    }
}

async fn read_stream(
    resp: reqwest::Response,
    max: usize,
    sink: Arc<dyn InboundSink>,
    closed: Arc<AtomicBool>,
    endpoint_tx: oneshot::Sender<String>,
) {
    let mut parser = SseParser::new(max);
    let mut endpoint_tx = Some(endpoint_tx);
    let end = http::read_events(resp, &mut parser, None, |item, _| {
        match item {
            SseItem::Event { event, data } if event == "endpoint" => {
                if let Some(tx) = endpoint_tx.take() {
                    let _ = tx.send(String::from_utf8_lossy(&data).into_owned());
                }
            }
            SseItem::Event { event, data } if event.is_empty() || event == "message" => {
                sink.deliver(Inbound::Frame(data))
            }
            SseItem::Event { event, .. } => {
                tracing::debug!(%event, "ignoring an SSE event of another type")
            }
            SseItem::Oversized { size, head, tail } => {
                sink.deliver(Inbound::Oversized { size, head, tail })
            }
        }
        true
    })
    .await;
    if endpoint_tx.is_none() && !closed.swap(true, Ordering::AcqRel) {
        let why = match end {
            http::StreamEnd::Ended => "the server closed the SSE stream".to_owned(),
            http::StreamEnd::Failed(e) => format!("the SSE stream broke: {e}"),
        };
        sink.deliver(Inbound::Closed(Closed {
            reason: why,
            stderr_tail: Vec::new(),
        }));
    }
}

impl TransportControl for Legacy {
    fn close(&self) -> BoxFuture<'static, ()> {
        self.shutdown();
        Box::pin(async {})
    }

    fn kill(&self) {
        self.shutdown();
    }

    fn stderr_tail(&self) -> Vec<String> {
        Vec::new()
    }

    fn describe(&self) -> String {
        let mut u = self.inner.url.clone();
        u.set_query(None);
        format!("legacy http+sse: {u}")
    }
}
