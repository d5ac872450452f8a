//! One client connection: reading frames, deciding each request's era,
//! running handlers concurrently (the connection keeps reading while a
//! handler waits for the client), cancellation, and the handshake state.

use std::collections::{HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use futures_util::FutureExt;
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;

use super::eras::{check_modern_meta, Declared, MODERN};
use super::error::error;
use super::intercept::{RequestHead, Rewrite, Verdict};
use super::methods;
use super::outgoing::{write_loop, Out, Outlet, Route};
use super::request::RequestInfo;
use super::subscriptions::Listen;
use super::wire::{encode_error, peek_meta, NULL_ID};
use super::Shared;
use crate::protocol::jsonrpc::{for_each_message, Incoming};
use crate::protocol::request::{Cancelled, Initialized, Notification};
use crate::protocol::{
    codes, CancelledNotificationParams, ClientCapabilities, Era, ErrorObject, Implementation,
    LoggingLevel, ProtocolVersion, RequestId, TraceContext,
};
use crate::transport::ServerEnd;

/// Methods a handshake-era server knows; anything else is -32601 even
/// before `initialize`, as a legacy server would answer `server/discover`.
const HANDSHAKE_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "resources/list",
    "resources/templates/list",
    "resources/read",
    "resources/subscribe",
    "resources/unsubscribe",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
    "skills/list",
    "skills/get",
];

/// What `initialize` established.
#[derive(Clone)]
pub(crate) struct Handshake {
    pub(crate) version: ProtocolVersion,
    pub(crate) capabilities: Arc<ClientCapabilities>,
    pub(crate) client_info: Option<Arc<Implementation>>,
}

pub(crate) enum Phase {
    New,
    /// `initialize` answered, `notifications/initialized` not yet received.
    Initializing(Handshake),
    Ready(Handshake),
}

pub(crate) struct State {
    pub(crate) phase: Phase,
    /// Handshake era: the level from `logging/setLevel`.
    pub(crate) log_level: Option<LoggingLevel>,
    /// Handshake era: `resources/subscribe`d URIs.
    pub(crate) subscribed: HashSet<String>,
    /// 2026-07-28: the `subscriptions/listen` requests in force.
    pub(crate) listens: HashMap<RequestId, Listen>,
}

/// A waiter for the client's answer to one of our requests.
pub(crate) type AskWaiter = oneshot::Sender<Result<Value, ErrorObject>>;

/// The server's side of one connection.
pub(crate) struct Conn {
    pub(crate) shared: Arc<Shared>,
    out: Box<dyn Outlet>,
    pub(crate) state: Mutex<State>,
    /// Handshake era: our requests to the client, by their id's JSON text.
    pub(crate) asks: Mutex<HashMap<Box<str>, AskWaiter>>,
    pub(crate) next_ask: AtomicU64,
    /// Requests whose handler is still running on a task of its own.
    inflight: Mutex<HashMap<RequestId, AbortHandle>>,
    /// One 2026-07-28 HTTP exchange: never the handshake, whatever the
    /// method (`initialize` and `ping` are then unknown methods).
    stateless: bool,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Conn {
    fn new(shared: Arc<Shared>, out: Box<dyn Outlet>, stateless: bool) -> Self {
        Conn {
            shared,
            out,
            state: Mutex::new(State {
                phase: Phase::New,
                log_level: None,
                subscribed: HashSet::new(),
                listens: HashMap::new(),
            }),
            asks: Mutex::new(HashMap::new()),
            next_ask: AtomicU64::new(0),
            inflight: Mutex::new(HashMap::new()),
            stateless,
        }
    }

    // ---- sending -------------------------------------------------------

    pub(crate) fn send_frame(&self, frame: Bytes, route: Route) {
        self.out.send(Out::Frame(frame, route));
    }

    /// Ends the response stream of request `id` early (Streamable HTTP).
    pub(crate) fn end_stream(&self, id: RequestId) {
        self.out.send(Out::EndStream(id));
    }

    /// Sends notification `N` (without params when `params` is `None`).
    pub(crate) fn notify<N: Notification>(&self, params: Option<&N::Params>, route: Route) {
        if let Ok(frame) = crate::protocol::jsonrpc::encode_notification(N::METHOD, params) {
            self.send_frame(frame, route);
        }
    }

    /// Sends any notification whose params are already typed elsewhere.
    pub(crate) fn notify_raw<P: Serialize>(&self, method: &str, params: &P, route: Route) {
        if let Ok(frame) = crate::protocol::jsonrpc::encode_notification(method, Some(params)) {
            self.send_frame(frame, route);
        }
    }

    /// Stops the writer: the client sees the connection close.
    fn close(&self) {
        self.out.send(Out::Close);
    }

    fn send_error(&self, id: &RawValue, err: &ErrorObject, route: Route) {
        self.send_frame(encode_error(id, err), route);
    }

    /// Sends a reply frame, bounded by the size limit and passed through
    /// the interceptor's rewrite, if any.
    fn send_reply(&self, req: &RequestInfo, frame: Bytes, rewrite: Option<Rewrite>) {
        let limit = self.shared.options.max_message_size;
        let frame = if frame.len() > limit {
            let why = format!(
                "the reply of {} bytes exceeds the server's limit of {limit} bytes",
                frame.len()
            );
            encode_error(&req.raw_id, &error(codes::INTERNAL_ERROR, why))
        } else {
            frame
        };
        let frame = match rewrite {
            Some(rewrite) => rewrite(frame),
            None => frame,
        };
        self.send_frame(frame, Route::Reply(req.id.clone()));
    }

    // ---- state ---------------------------------------------------------

    /// Handshake era: the level `logging/setLevel` asked for.
    pub(crate) fn log_level(&self) -> Option<LoggingLevel> {
        lock(&self.state).log_level
    }

    pub(crate) fn set_log_level(&self, level: LoggingLevel) {
        lock(&self.state).log_level = Some(level);
    }

    /// Records an answered `initialize`; refuses a second one.
    pub(crate) fn begin_handshake(&self, handshake: Handshake) -> Result<(), ErrorObject> {
        let mut st = lock(&self.state);
        match st.phase {
            Phase::New => {
                st.phase = Phase::Initializing(handshake);
                Ok(())
            }
            _ => Err(error(codes::INVALID_REQUEST, "already initialized")),
        }
    }

    /// Aborts every handler and forgets every ask and subscription.
    fn shutdown(&self) {
        for (_, task) in lock(&self.inflight).drain() {
            task.abort();
        }
        lock(&self.asks).clear();
        lock(&self.state).listens.clear();
    }

    // ---- reading -------------------------------------------------------

    pub(crate) fn on_frame(self: &Arc<Self>, frame: Bytes) {
        let limit = self.shared.options.max_message_size;
        if frame.len() > limit {
            let why = format!(
                "message of {} bytes exceeds the limit of {limit} bytes",
                frame.len()
            );
            let e = error(codes::INVALID_REQUEST, why);
            return self.send_error(NULL_ID, &e, Route::Unrelated);
        }
        if let Err(e) = for_each_message(&frame, |m| self.on_message(m)) {
            let code = if serde_json::from_slice::<serde::de::IgnoredAny>(&frame).is_ok() {
                codes::INVALID_REQUEST
            } else {
                codes::PARSE_ERROR
            };
            self.send_error(NULL_ID, &error(code, e.0), Route::Unrelated);
        }
    }

    pub(crate) fn on_message(self: &Arc<Self>, message: Incoming) {
        match message {
            Incoming::Request { id, method, params } => self.on_request(id, method, params),
            Incoming::Notification { method, params } => {
                self.on_notification(&method, params.as_deref())
            }
            Incoming::Response {
                raw_id, outcome, ..
            } => {
                let waiter = std::str::from_utf8(&raw_id)
                    .ok()
                    .and_then(|key| lock(&self.asks).remove(key));
                if let Some(tx) = waiter {
                    let outcome = outcome.and_then(|bytes| {
                        serde_json::from_slice(&bytes).map_err(|e| {
                            error(codes::PARSE_ERROR, format!("the answer is not JSON: {e}"))
                        })
                    });
                    let _ = tx.send(outcome);
                }
            }
        }
    }

    fn on_notification(&self, method: &str, params: Option<&[u8]>) {
        match method {
            Initialized::METHOD => {
                let mut st = lock(&self.state);
                if let Phase::Initializing(h) = &st.phase {
                    st.phase = Phase::Ready(h.clone());
                }
            }
            Cancelled::METHOD => {
                let Some(id) = params
                    .and_then(|p| serde_json::from_slice::<CancelledNotificationParams>(p).ok())
                    .and_then(|p| p.request_id)
                else {
                    return;
                };
                if let Some(task) = lock(&self.inflight).remove(&id) {
                    task.abort();
                }
                lock(&self.state).listens.remove(&id);
            }
            _ => {}
        }
    }

    fn on_request(self: &Arc<Self>, raw_id: Box<RawValue>, method: String, params: Option<Bytes>) {
        let Ok(id) = serde_json::from_str::<RequestId>(raw_id.get()) else {
            let e = error(
                codes::INVALID_REQUEST,
                "the request id must be a string or an integer",
            );
            return self.send_error(&raw_id, &e, Route::Unrelated);
        };
        let verdict = match &self.shared.interceptor {
            Some(i) => i.on_request(&RequestHead::new(&method, &id, params.as_deref())),
            None => Verdict::Serve,
        };
        let (delay, rewrite) = match verdict {
            Verdict::Serve => (None, None),
            Verdict::Drop => return,
            Verdict::Close => return self.close(),
            Verdict::Send(frame) => return self.send_frame(frame, Route::Reply(id)),
            Verdict::Delay(d) => (Some(d), None),
            Verdict::Rewrite(f) => (None, Some(f)),
        };
        let req = match self.classify(raw_id, id, method, params.as_deref()) {
            Ok(req) => Arc::new(req),
            Err(Refused { raw_id, id, error }) => {
                return self.send_error(&raw_id, &error, Route::Reply(id))
            }
        };
        let max = self.shared.options.max_in_flight;
        if lock(&self.inflight).len() >= max {
            let why = format!("the server is busy: {max} requests in flight");
            let e = error(codes::INTERNAL_ERROR, why);
            return self.send_error(&req.raw_id, &e, Route::Reply(req.id.clone()));
        }
        let conn = self.clone();
        let id = req.id.clone();
        // The handler runs in the trace the request carried (SEP-414), so
        // whatever it sends on joins it.
        let trace = TraceContext::from_meta(&req.meta.extra);
        let serving = crate::trace::Serving::new(trace, &req.method);
        let mut work = Box::pin(serving.run(async move {
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            // A panicking handler is a failed request, not a dead connection.
            let reply = AssertUnwindSafe(methods::handle(&conn, &req, params))
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    let why = format!("the handler of {} panicked", req.method);
                    Some(encode_error(
                        &req.raw_id,
                        &error(codes::INTERNAL_ERROR, why),
                    ))
                });
            if let Some(frame) = reply {
                conn.send_reply(&req, frame, rewrite);
            }
        }));
        // Most requests finish at once; only the ones that wait get a task.
        if (&mut work).now_or_never().is_none() {
            let conn = self.clone();
            let key = id.clone();
            // Held across the spawn, so the task's removal comes after.
            let mut inflight = lock(&self.inflight);
            let task = tokio::spawn(async move {
                work.await;
                lock(&conn.inflight).remove(&key);
            });
            inflight.insert(id, task.abort_handle());
        }
    }

    /// Decides the request's era and checks what that era demands first.
    fn classify(
        &self,
        raw_id: Box<RawValue>,
        id: RequestId,
        method: String,
        params: Option<&[u8]>,
    ) -> Result<RequestInfo, Refused> {
        let refuse = |raw_id, id, error| Err(Refused { raw_id, id, error });
        let mut meta = match peek_meta(params) {
            Ok(m) => m,
            Err(e) => return refuse(raw_id, id, e),
        };
        let has_modern_meta = meta.as_ref().is_some_and(|m| m.protocol_version.is_some());
        let st = lock(&self.state);
        let handshake = match st.phase {
            Phase::New if self.stateless => false,
            Phase::New => {
                !self.shared.options.eras.modern()
                    || method == "initialize"
                    || (method == "ping" && !has_modern_meta)
            }
            // A connection that has begun the handshake stays in it.
            _ => true,
        };
        if handshake {
            if !HANDSHAKE_METHODS.contains(&method.as_str()) {
                let e = error(
                    codes::METHOD_NOT_FOUND,
                    format!("method not found: {method}"),
                );
                return refuse(raw_id, id, e);
            }
            let (found, ready) = match &st.phase {
                Phase::New => (None, false),
                Phase::Initializing(h) => (Some(h.clone()), false),
                Phase::Ready(h) => (Some(h.clone()), true),
            };
            drop(st);
            if !ready && method != "initialize" && method != "ping" {
                let e = error(
                    codes::INVALID_REQUEST,
                    "server not initialized: send initialize, then notifications/initialized",
                );
                return refuse(raw_id, id, e);
            }
            let h = found.unwrap_or_else(|| Handshake {
                version: ProtocolVersion::LATEST_HANDSHAKE,
                capabilities: self.shared.no_capabilities.clone(),
                client_info: None,
            });
            Ok(RequestInfo {
                era: Era::Handshake,
                version: h.version,
                id,
                raw_id,
                method,
                capabilities: h.capabilities,
                client_info: h.client_info,
                meta: meta.unwrap_or_default(),
            })
        } else {
            drop(st);
            let Declared {
                capabilities,
                client_info,
            } = match check_modern_meta(meta.as_mut()) {
                Ok(d) => d,
                Err(e) => return refuse(raw_id, id, e),
            };
            Ok(RequestInfo {
                era: Era::Modern,
                version: MODERN,
                id,
                raw_id,
                method,
                capabilities,
                client_info,
                meta: meta.unwrap_or_default(),
            })
        }
    }
}

/// A request refused before its handler ran.
struct Refused {
    raw_id: Box<RawValue>,
    id: RequestId,
    error: ErrorObject,
}

/// A connection that ends (its handlers aborted, its asks and listens
/// forgotten) when this is dropped, however its transport ends.
pub(crate) struct Opened(pub(crate) Arc<Conn>);

impl Drop for Opened {
    fn drop(&mut self) {
        self.0.shutdown();
    }
}

/// What a connection is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Open {
    /// A client's connection, in either era: stdio, in-memory, an HTTP
    /// handshake-era session.
    Connection,
    /// One 2026-07-28 request over HTTP; hears list changes and resource
    /// updates only when `listens` (a `subscriptions/listen`).
    #[cfg_attr(not(feature = "http-server"), allow(dead_code))]
    Exchange { listens: bool },
}

/// Opens a connection whose items go to `outlet`; the caller feeds it
/// with [`Conn::on_frame`] or [`Conn::on_message`].
pub(crate) fn open(shared: Arc<Shared>, outlet: Box<dyn Outlet>, open: Open) -> Opened {
    let stateless = matches!(open, Open::Exchange { .. });
    let conn = Arc::new(Conn::new(shared.clone(), outlet, stateless));
    if matches!(open, Open::Connection | Open::Exchange { listens: true }) {
        shared.hub.add(&conn);
    }
    Opened(conn)
}

/// Serves one client until it closes `end.incoming` or the connection is
/// closed from the server's side.
pub(crate) async fn serve(shared: Arc<Shared>, end: ServerEnd) {
    let (tx, rx) = mpsc::unbounded_channel();
    let guard = open(shared, Box::new(tx), Open::Connection);
    let conn = guard.0.clone();
    let ServerEnd {
        mut incoming,
        outgoing,
    } = end;
    let writer = write_loop(rx, outgoing);
    tokio::pin!(writer);
    let reader = async {
        while let Some(frame) = incoming.recv().await {
            conn.on_frame(frame);
        }
    };
    tokio::pin!(reader);
    tokio::select! {
        _ = &mut reader => {
            // The client hung up: stop handlers, flush what is queued.
            conn.shutdown();
            conn.close();
            writer.await;
        }
        _ = &mut writer => {}
    }
    drop(guard);
}
