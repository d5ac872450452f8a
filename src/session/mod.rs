//! The session: request ids, correlation, deadlines, cancellation, progress
//! routing, era negotiation and input-required rounds, over any transport.
//!
//! A request's path: encode (params + `_meta`, one buffer) → register the
//! waiter in the pending map → hand the frame to the transport → the
//! transport's reader task parses the reply envelope and completes the
//! waiter with a zero-copy slice of the `result` → the caller decodes it
//! into its own type. No actor hop and no intermediate JSON tree.

mod answer;
mod ask_limit;
mod call_options;
mod deadlines;
mod dispatch;
mod era_cache;
mod era_ops;
mod frames;
mod level_cell;

pub mod handlers;
mod listen;
mod log_budget;
pub mod messages;
mod negotiate;
pub mod options;
pub(crate) mod outgoing;
mod oversized;
mod pending;
mod renew;
mod retry;
mod rounds;
mod tasks;
mod typed;

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;
use tokio::task::AbortHandle;

use crate::protocol::{
    ClientCapabilities, Era, Implementation, LoggingLevel, ProtocolVersion, ServerCapabilities,
};
use crate::transport::{Closed, Outbound, Transport, TransportControl, TransportError};
use crate::{Error, Result};

pub use call_options::{CallOptions, TaskCallback};
pub use handlers::{
    ElicitationHandler, HandlerError, Handlers, ListedRoots, ProgressCallback, RequestContext,
    RootsHandler, SamplingHandler, ServerNotification,
};
pub use listen::{ListenFilter, Subscription};
pub use messages::{ListKind, MessageHandler, ServerMessage};
pub use options::SessionOptions;

pub(crate) use frames::Target;
use outgoing::{Encoded, ModernIdentity};
use pending::{Deadline, Pending, PendingMap};
use retry::Retry;
pub(crate) use rounds::Answered;

/// What negotiation settled.
#[derive(Debug, Clone)]
pub struct ServerState {
    /// The revision in use.
    pub version: ProtocolVersion,
    /// Who the server says it is.
    pub server_info: Implementation,
    /// What it can do.
    pub capabilities: ServerCapabilities,
    /// Its instructions for the model, if any.
    pub instructions: Option<String>,
}

struct Diagnostics {
    garbage: AtomicU64,
    /// The first garbage line, for the "not an MCP server" error.
    first_garbage: OnceLock<String>,
    last_garbage: Mutex<Option<String>>,
    /// Whether any JSON-RPC message has arrived yet.
    valid_seen: AtomicBool,
    /// Notified once [`GARBAGE_BEFORE_ANY`] garbage lines came before any
    /// JSON-RPC message: negotiation gives up at once.
    not_mcp: tokio::sync::Notify,
    /// How many garbage lines reach the log (see `dispatch.rs`).
    garbage_log: log_budget::LogBudget,
    unknown_ids: AtomicU64,
}

impl Default for Diagnostics {
    fn default() -> Self {
        Diagnostics {
            garbage: AtomicU64::new(0),
            first_garbage: OnceLock::new(),
            last_garbage: Mutex::new(None),
            valid_seen: AtomicBool::new(false),
            not_mcp: tokio::sync::Notify::new(),
            garbage_log: log_budget::LogBudget::new(GARBAGE_LOGGED, GARBAGE_LOG_WINDOW),
            unknown_ids: AtomicU64::new(0),
        }
    }
}

/// Garbage lines logged one by one per window; the rest are counted and
/// summarized in one line (with the next one logged, or at the end).
const GARBAGE_LOGGED: u32 = 5;
/// Lines that are not JSON-RPC, before any message that is, after which a
/// connect fails at once: this is not an MCP server (or it logs to stdout).
const GARBAGE_BEFORE_ANY: u64 = 20;
/// See [`GARBAGE_LOGGED`].
const GARBAGE_LOG_WINDOW: Duration = Duration::from_secs(10);

/// State shared by callers and the transport's reader task.
pub(crate) struct Shared {
    name: Arc<str>,
    options: SessionOptions,
    handlers: Handlers,
    outbound: OnceLock<Outbound>,
    next_id: AtomicI64,
    pending: PendingMap,
    closed: Mutex<Option<Closed>>,
    closed_tx: tokio::sync::watch::Sender<bool>,
    diag: Diagnostics,
    negotiated: OnceLock<Negotiated>,
    log_level: level_cell::LevelCell,
    server_requests: Mutex<HashMap<String, AbortHandle>>,
    /// Bounds the server requests being answered or waiting to be written.
    asks: ask_limit::AskLimit,
    /// Set once a supervisor has adopted the session: calls cut off by a
    /// lost transport then fail with `ServerRestarted`.
    supervised: std::sync::atomic::AtomicBool,
    /// The current `subscriptions/listen`, if any: its id, what it asked
    /// for, and what the server acknowledged.
    listen: Mutex<Option<Subscription>>,
    /// Renewals of the server's HTTP session (see `renew.rs`).
    renewal: renew::Renewal,
}

struct Negotiated {
    state: ServerState,
    modern: Option<ModernIdentity>,
}

/// One connection to one server. Cheap to clone; the transport stops when
/// the last clone is dropped.
#[derive(Clone)]
pub struct Session {
    inner: Arc<SessionInner>,
}

struct SessionInner {
    /// Never reused within the process.
    id: usize,
    shared: Arc<Shared>,
    control: Arc<dyn TransportControl>,
}

/// How a request's `_meta` is filled.
#[derive(Clone, Copy)]
enum MetaMode<'a> {
    /// By the negotiated era (modern: identity fields; handshake: none).
    Negotiated,
    /// With this identity (the discovery probe, before negotiation).
    Modern(&'a ModernIdentity),
    /// No identity (initialize).
    Bare,
}

/// Whether a request is sent for the first time (a transport failure may
/// then be retried, see [`Session::resend`]) or again.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Attempt {
    First,
    Again,
}

#[derive(Deserialize)]
struct Peek<'a> {
    #[serde(rename = "resultType", borrow, default)]
    result_type: Option<Cow<'a, str>>,
}

/// What a result says it is.
pub(crate) enum ResultKind {
    Complete,
    InputRequired,
    /// A task in its place (the tasks extension, 2026-07-28).
    Task,
}

pub(crate) fn result_kind(bytes: &[u8]) -> Result<ResultKind> {
    // Handshake-era results never carry the field; skip the parse then.
    static RESULT_TYPE: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
        std::sync::LazyLock::new(|| memchr::memmem::Finder::new(b"\"resultType\""));
    if RESULT_TYPE.find(bytes).is_none() {
        return Ok(ResultKind::Complete);
    }
    let peek: Peek<'_> = serde_json::from_slice(bytes)
        .map_err(|e| Error::InvalidMessage(format!("result is not a JSON object: {e}")))?;
    match peek.result_type.as_deref() {
        None | Some("complete") => Ok(ResultKind::Complete),
        Some("input_required") => Ok(ResultKind::InputRequired),
        Some(crate::protocol::TASK_RESULT_TYPE) => Ok(ResultKind::Task),
        Some(other) => Err(Error::InvalidMessage(format!(
            "unknown resultType {other:?}"
        ))),
    }
}

/// The error for a result of a kind `method` may not return.
pub(crate) fn unexpected_kind(method: &str, kind: ResultKind) -> Error {
    Error::InvalidMessage(match kind {
        ResultKind::InputRequired => format!(
            "{method} returned input_required, which only tools/call, resources/read and prompts/get may"
        ),
        ResultKind::Task => {
            format!("{method} returned a task (resultType \"task\"), which only tools/call may")
        }
        ResultKind::Complete => format!("{method} returned an unexpected result"),
    })
}

pub(crate) fn decode<R: DeserializeOwned>(method: &str, bytes: &[u8]) -> Result<R> {
    // Checked as UTF-8 once, whole: then serde_json reads it as a `str`
    // and does not check each string again (from a slice it does, at
    // about three times the cost for a small reply). Bytes that are not
    // UTF-8 take the slice path, for its error.
    let decoded = match std::str::from_utf8(bytes) {
        Ok(text) => serde_json::from_str(text),
        Err(_) => serde_json::from_slice(bytes),
    };
    decoded.map_err(|e| Error::InvalidMessage(format!("{method} result: {e}")))
}

impl Session {
    /// Starts the transport and wires it to a new session (not negotiated).
    pub async fn start(
        transport: Box<dyn Transport>,
        options: SessionOptions,
        handlers: Handlers,
    ) -> Result<Session> {
        let (closed_tx, _) = tokio::sync::watch::channel(false);
        let shared = Arc::new(Shared {
            name: options.server_name.as_str().into(),
            options,
            handlers,
            outbound: OnceLock::new(),
            next_id: AtomicI64::new(1),
            pending: PendingMap::default(),
            closed: Mutex::new(None),
            closed_tx,
            diag: Diagnostics::default(),
            negotiated: OnceLock::new(),
            log_level: level_cell::LevelCell::default(),
            server_requests: Mutex::new(HashMap::new()),
            asks: ask_limit::AskLimit::new(),
            supervised: std::sync::atomic::AtomicBool::new(false),
            listen: Mutex::new(None),
            renewal: renew::Renewal::default(),
        });
        deadlines::spawn(&shared);
        let sink = Arc::new(dispatch::Dispatcher::new(shared.clone()));
        let handle = transport.start(sink).await?;
        let _ = shared.outbound.set(handle.outbound);
        static NEXT_SESSION: std::sync::atomic::AtomicUsize =
            std::sync::atomic::AtomicUsize::new(1);
        Ok(Session {
            inner: Arc::new(SessionInner {
                id: NEXT_SESSION.fetch_add(1, Ordering::Relaxed),
                shared,
                control: handle.control,
            }),
        })
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// Negotiates the protocol (discover or initialize) per the options;
    /// past the connect deadline, an [`Error::Timeout`] for [`Error::CONNECT`].
    pub async fn negotiate(&self) -> Result<&ServerState> {
        let timeout = self.shared().options.connect_timeout;
        let negotiation = tokio::time::timeout(timeout, negotiate::negotiate(self));
        let negotiated = match tokio::select! {
            r = negotiation => r,
            () = self.shared().diag.not_mcp.notified() => return Err(self.not_mcp()),
        } {
            Ok(r) => r?,
            Err(_) => {
                // A timeout like any other (the CLI's exit code 4), with
                // the server's last word as the hint.
                let last = self.stderr_tail().pop();
                return Err(Error::Timeout {
                    method: Error::CONNECT.into(),
                    elapsed: timeout,
                    hint: Some(match last {
                        Some(line) => format!(
                            "no answer to server/discover or initialize; the server's stderr ends: {line}"
                        ),
                        None => "no answer to server/discover or initialize".into(),
                    }),
                });
            }
        };
        let _ = self.shared().negotiated.set(negotiated);
        self.server_state()
            .ok_or_else(|| Error::NotConnected("negotiation did not complete".into()))
    }

    /// The connect error for a server whose first lines were all garbage.
    fn not_mcp(&self) -> Error {
        let diag = &self.shared().diag;
        let first = diag.first_garbage.get().map(String::as_str).unwrap_or("");
        Error::Connect {
            message: format!(
                "this is not an MCP server: its first {} lines on stdout are not JSON-RPC \
                 (a server must write only JSON-RPC there; logs go to stderr); the first: {first:?}",
                diag.garbage.load(Ordering::Relaxed)
            ),
            stderr_tail: self.stderr_tail(),
        }
    }

    /// The negotiated state, once negotiation is done.
    pub fn server_state(&self) -> Option<&ServerState> {
        self.shared().negotiated.get().map(|n| &n.state)
    }

    /// The negotiated era, once negotiation is done.
    pub fn era(&self) -> Option<Era> {
        self.server_state().map(|s| s.version.era())
    }

    /// The server's name from our configuration.
    pub fn name(&self) -> &str {
        &self.shared().name
    }

    /// The last lines the server wrote to stderr.
    pub fn stderr_tail(&self) -> Vec<String> {
        self.inner.control.stderr_tail()
    }

    /// Where this server's era is remembered (see `era_cache`).
    fn era_key(&self) -> Option<String> {
        self.inner.control.era_key()
    }

    /// A description of the transport.
    pub fn describe(&self) -> String {
        self.inner.control.describe()
    }

    /// True once the transport has closed.
    pub fn is_closed(&self) -> bool {
        lock(&self.shared().closed).is_some()
    }

    /// Resolves when the transport closes.
    pub async fn closed(&self) {
        let mut rx = self.shared().closed_tx.subscribe();
        let _ = rx.wait_for(|c| *c).await;
    }

    /// Identifies this connection (distinct from every other live one).
    pub fn id(&self) -> usize {
        self.inner.id
    }

    /// The hard cap of a request made with `call`: its own `max_time`
    /// (a per-call cap below the idle deadline wins), else the session's
    /// `max_request_time`, which never cuts a per-call idle deadline short.
    pub(crate) fn hard_cap(&self, call: Option<&CallOptions>) -> Duration {
        let options = &self.shared().options;
        let idle = call
            .and_then(|c| c.timeout)
            .unwrap_or(options.request_timeout);
        match call.and_then(|c| c.max_time) {
            Some(max) => max,
            None => options.max_request_time.max(idle),
        }
    }

    /// Cap on pages per list call.
    pub fn max_pages(&self) -> usize {
        self.shared().options.max_pages
    }

    /// The largest message accepted, in bytes.
    pub(crate) fn max_message_size(&self) -> usize {
        self.shared().options.max_message_size
    }

    /// True if the transport reads frame metadata (it routes or sends
    /// headers by it: HTTP), so what callers add to it matters.
    pub(crate) fn transport_wants_meta(&self) -> bool {
        self.shared()
            .outbound
            .get()
            .is_some_and(Outbound::wants_meta)
    }

    /// The number of requests awaiting a reply.
    pub fn in_flight(&self) -> usize {
        self.shared().pending.len()
    }

    /// The roots list the client may change, if it has one.
    pub(crate) fn listed_roots(&self) -> Option<&Arc<ListedRoots>> {
        self.shared().handlers.listed_roots.as_ref()
    }

    /// From now on, calls cut off by a lost transport fail with
    /// `ServerRestarted`: a supervisor will bring up a new session.
    pub(crate) fn mark_supervised(&self) {
        self.shared().supervised.store(true, Ordering::Relaxed);
    }

    /// Kills the transport at once (the last handle is gone).
    pub(crate) fn kill(&self) {
        self.inner.control.kill();
        self.shared().mark_closed(Closed {
            reason: "the server was killed (it stopped answering, or its last handle was dropped)"
                .into(),
            stderr_tail: self.stderr_tail(),
        });
    }

    /// Sets the log level (2026-07-28: sent in each request's `_meta`).
    pub(crate) fn set_modern_log_level(&self, level: LoggingLevel) {
        self.shared().log_level.set(level);
    }

    /// The capabilities we declare, from the handlers we have.
    pub(crate) fn client_capabilities(&self, era: Era) -> ClientCapabilities {
        answer::client_capabilities(&self.shared().handlers, era)
    }

    /// Sends a request and decodes its (complete) result.
    pub fn request<'a, P, R>(
        &'a self,
        method: &'a str,
        params: &'a P,
        call: Option<&'a CallOptions>,
    ) -> impl Future<Output = Result<R>> + 'a
    where
        P: Serialize + ?Sized + Sync,
        R: DeserializeOwned + 'a,
    {
        self.request_to(method, Target::default(), params, call)
    }

    /// [`Session::request`] with what the frame's metadata mirrors (the
    /// `Mcp-Name` of a `tasks/*` request: its task id).
    pub(crate) async fn request_to<P, R>(
        &self,
        method: &str,
        target: Target<'_>,
        params: &P,
        call: Option<&CallOptions>,
    ) -> Result<R>
    where
        P: Serialize + ?Sized + Sync,
        R: DeserializeOwned,
    {
        self.request_sized_to(method, target, params, call)
            .await
            .map(|(result, _)| result)
    }

    /// [`Session::request`], with the size of the result in bytes.
    pub(crate) fn request_sized<'a, P, R>(
        &'a self,
        method: &'a str,
        params: &'a P,
        call: Option<&'a CallOptions>,
    ) -> impl Future<Output = Result<(R, usize)>> + 'a
    where
        P: Serialize + ?Sized + Sync,
        R: DeserializeOwned + 'a,
    {
        self.request_sized_to(method, Target::default(), params, call)
    }

    async fn request_sized_to<P, R>(
        &self,
        method: &str,
        target: Target<'_>,
        params: &P,
        call: Option<&CallOptions>,
    ) -> Result<(R, usize)>
    where
        P: Serialize + ?Sized + Sync,
        R: DeserializeOwned,
    {
        let bytes = self
            .request_bytes(method, target, params, call, MetaMode::Negotiated)
            .await?;
        match result_kind(&bytes)? {
            ResultKind::Complete => decode(method, &bytes).map(|r| (r, bytes.len())),
            kind => Err(unexpected_kind(method, kind)),
        }
    }

    /// Sends a notification.
    pub async fn notify<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: Option<&P>,
    ) -> Result<()> {
        let version = self.server_state().map(|s| s.version);
        self.notify_as(method, params, version).await
    }

    /// Sends a notification that speaks `version` (the handshake's
    /// `initialized`, sent before negotiation is recorded).
    pub(crate) async fn notify_as<P: Serialize + ?Sized>(
        &self,
        method: &str,
        params: Option<&P>,
        version: Option<ProtocolVersion>,
    ) -> Result<()> {
        let bytes = crate::protocol::jsonrpc::encode_notification(method, params)
            .map_err(|e| Error::Encode(e.to_string()))?;
        let out = self.outbound()?;
        let frame = frames::notification(out, bytes, method, version, None);
        self.send_frame(frame).await
    }

    fn outbound(&self) -> Result<&Outbound> {
        self.shared()
            .outbound
            .get()
            .ok_or_else(|| Error::NotConnected("transport not started".into()))
    }

    async fn send_frame(&self, frame: crate::transport::Frame) -> Result<()> {
        let shared = self.shared();
        if let Some(closed) = lock(&shared.closed).clone() {
            return Err(closed_error(&closed));
        }
        let tx = self.outbound()?;
        tx.send(frame).await.map_err(|_| shared.connection_error())
    }

    /// Sends a request and waits for its reply. A failure the transport
    /// reports is handled as `retry.rs` says: in 2026-07-28 a request whose
    /// response stream broke before the reply is lost (there is no
    /// resumption), and one that is safe to repeat is re-sent once under a
    /// new id (a late reply to the old id is ignored as unknown); an
    /// expired HTTP session is renewed and the request re-sent.
    ///
    /// A plain function over the first attempt: the retries are a boxed
    /// future of their own ([`Session::resend`]), so the common request
    /// is one future, not one inside another.
    fn request_bytes<'a, P>(
        &'a self,
        method: &'a str,
        target: Target<'a>,
        params: &'a P,
        call: Option<&'a CallOptions>,
        mode: MetaMode<'a>,
    ) -> impl Future<Output = Result<Bytes>> + Send + 'a
    where
        P: Serialize + ?Sized + Sync,
    {
        self.request_once(method, target, params, call, mode, Attempt::First)
    }

    /// What `retry.rs` says to do with the failure the transport reported
    /// for the first attempt of a request, `generation` the HTTP session
    /// it was sent in.
    #[allow(clippy::too_many_arguments)]
    fn resend<'a, P>(
        &'a self,
        failure: TransportError,
        generation: u64,
        method: &'a str,
        target: Target<'a>,
        params: &'a P,
        call: Option<&'a CallOptions>,
        mode: MetaMode<'a>,
    ) -> futures_util::future::BoxFuture<'a, Result<Bytes>>
    where
        P: Serialize + ?Sized + Sync,
    {
        Box::pin(async move {
            let not_resent = |cause: TransportError| {
                Err(Error::Transport(TransportError::NotResent {
                    method: method.to_owned(),
                    cause: Box::new(cause),
                }))
            };
            match retry::decide(method, &failure, self.is_modern_request(mode)) {
                Retry::Fail => Err(Error::Transport(failure)),
                Retry::NotResent => not_resent(failure),
                Retry::Resend => {
                    tracing::debug!(server = %self.name(), %method, error = %failure, "re-sending under a new id");
                    self.request_once(method, target, params, call, mode, Attempt::Again)
                        .await
                }
                Retry::Renew => {
                    self.renew(generation, &failure).await?;
                    if !retry::resend_after_renewal(method) {
                        return not_resent(failure);
                    }
                    self.request_once(method, target, params, call, mode, Attempt::Again)
                        .await
                }
            }
        })
    }

    fn is_modern_request(&self, mode: MetaMode<'_>) -> bool {
        match mode {
            MetaMode::Modern(_) => true,
            MetaMode::Negotiated => self
                .shared()
                .negotiated
                .get()
                .is_some_and(|n| n.modern.is_some()),
            MetaMode::Bare => false,
        }
    }

    async fn request_once<P>(
        &self,
        method: &str,
        target: Target<'_>,
        params: &P,
        call: Option<&CallOptions>,
        mode: MetaMode<'_>,
        attempt: Attempt,
    ) -> Result<Bytes>
    where
        P: Serialize + ?Sized + Sync,
    {
        let shared = self.shared();
        let generation = shared.renewal.generation();
        // Encoded before the first await: nothing the encoding uses is
        // part of this future.
        let Encoded {
            id,
            bytes,
            version,
            wants_progress,
        } = self.encode(method, params, call, mode)?;
        let idle = call
            .and_then(|c| c.timeout)
            .unwrap_or(shared.options.request_timeout);
        let cap = self.hard_cap(call);
        // Sending can block on backpressure; it counts against the deadline.
        let started = tokio::time::Instant::now();
        let hard = pending::after(started, cap);
        let (tx, rx) = oneshot::channel();
        let in_flight = shared.pending.insert(
            id,
            Pending::new(
                tx,
                wants_progress,
                call.and_then(|c| c.on_progress.clone()),
                Some(Deadline {
                    started,
                    idle,
                    hard,
                }),
            ),
        );
        let mut guard = InFlight {
            session: self,
            id,
            done: false,
            cancellable: method != "initialize" && !matches!(mode, MetaMode::Modern(_)),
        };
        if let Some(closed) = lock(&shared.closed).clone() {
            shared.pending.remove(id);
            guard.done = true;
            return Err(closed_error_for(shared, &closed));
        }
        // No `Result` stays alive across an await below (an `Error` is
        // 120 bytes): each is taken apart, or passed on whole, before the
        // next await, so none of them takes room in this future; the send
        // is scoped so that what waits for the reply may reuse its room.
        let sent = {
            let send = async {
                let out = self.outbound()?;
                let frame = frames::request(out, bytes, id, method, version, target);
                // Alone on the connection: latency matters most, write now.
                // Otherwise let the transport batch.
                out.send_maybe_now(frame, in_flight == 1)
                    .await
                    .map_err(|_| shared.connection_error())
            };
            // Almost always sent on the first poll: a timer only when not.
            let mut send = std::pin::pin!(send);
            match std::future::poll_fn(|cx| Poll::Ready(send.as_mut().poll(cx))).await {
                Poll::Ready(sent) => sent,
                // Boxed: the timer is no part of the request's future
                // unless it is needed.
                Poll::Pending => match Box::pin(tokio::time::timeout_at(hard, send)).await {
                    Ok(sent) => sent,
                    Err(_) => return Err(shared.timeout_error(method, started.elapsed())),
                },
            }
        };
        if let Some(e) = sent.err() {
            shared.pending.remove(id);
            guard.done = true;
            return Err(e);
        }
        // The session's sweeper enforces the deadline (`deadlines.rs`).
        let outcome = match rx.await {
            Ok(Err(e)) if pending::is_deadline_marker(&e) => {
                // Still registered: the guard removes it and tells the
                // server to stop.
                return Err(shared.timeout_error(method, started.elapsed()));
            }
            Ok(outcome) => outcome,
            Err(_) => Err(Error::NotConnected("the session ended".into())),
        };
        guard.done = true;
        let failure = match retryable(outcome, attempt) {
            Ok(failure) => failure,
            Err(outcome) => return outcome,
        };
        self.resend(failure, generation, method, target, params, call, mode)
            .await
    }

    /// Closes the connection gracefully (bounded in time). In-flight
    /// requests fail with [`Error::NotConnected`].
    pub async fn close(&self) {
        let shared = self.shared();
        shared.end(Closed {
            reason: "the client closed the connection".into(),
            stderr_tail: Vec::new(),
        });
        shared
            .pending
            .fail_all(|| Error::NotConnected("the client closed the connection".into()));
        // Watchers hear of the end once the transport is down.
        self.inner.control.close().await;
        let _ = shared.closed_tx.send(true);
    }
}

/// The failure the transport reported for the first attempt of a
/// request, which [`Session::resend`] may retry; else the outcome as it
/// is. Takes the outcome whole, so that none of it outlives the call.
fn retryable(
    outcome: Result<Bytes>,
    attempt: Attempt,
) -> std::result::Result<TransportError, Result<Bytes>> {
    match outcome {
        Err(Error::Transport(failure)) if attempt == Attempt::First => Ok(failure),
        outcome => Err(outcome),
    }
}

/// Removes a request that ended without its reply (timeout, caller gave up)
/// and tells the server to stop working on it.
struct InFlight<'a> {
    session: &'a Session,
    id: i64,
    done: bool,
    cancellable: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        let shared = self.session.shared();
        if !shared.pending.remove(self.id) || !self.cancellable || lock(&shared.closed).is_some() {
            return;
        }
        if let Some((frame, out)) = shared.cancellation(
            self.id,
            "the client stopped waiting (timeout or cancellation)",
        ) {
            if out.send_nowait(frame.clone()).is_err() {
                let out = out.clone();
                if let Ok(rt) = tokio::runtime::Handle::try_current() {
                    rt.spawn(async move {
                        let _ = tokio::time::timeout(Duration::from_secs(5), out.send(frame)).await;
                    });
                }
            }
        }
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn closed_error_for(shared: &Shared, closed: &Closed) -> Error {
    if shared.supervised.load(Ordering::Relaxed) {
        Error::ServerRestarted
    } else {
        closed_error(closed)
    }
}

fn closed_error(closed: &Closed) -> Error {
    Error::ConnectionClosed {
        reason: closed.reason.clone(),
        stderr_tail: closed.stderr_tail.clone(),
    }
}

impl Shared {
    /// The `notifications/cancelled` frame for request `id`, and where to
    /// send it (`None` before the transport started).
    pub(crate) fn cancellation(
        &self,
        id: i64,
        reason: &str,
    ) -> Option<(crate::transport::Frame, &Outbound)> {
        #[derive(Serialize)]
        struct Cancelled<'a> {
            #[serde(rename = "requestId")]
            request_id: i64,
            reason: &'a str,
        }
        let params = Cancelled {
            request_id: id,
            reason,
        };
        let out = self.outbound.get()?;
        let bytes =
            crate::protocol::jsonrpc::encode_notification("notifications/cancelled", Some(&params))
                .ok()?;
        let version = self.negotiated.get().map(|n| n.state.version);
        let frame = frames::notification(out, bytes, "notifications/cancelled", version, Some(id));
        Some((frame, out))
    }

    /// The connection is over: fail every waiter, stop answering the
    /// server, wake whoever watches for the end.
    pub(crate) fn mark_closed(&self, closed: Closed) {
        let closed = self.end(closed);
        self.pending.fail_all(|| closed_error_for(self, &closed));
        let _ = self.closed_tx.send(true);
    }

    /// Records why the connection ended (the first reason wins) and stops
    /// answering the server's requests; returns the reason on record.
    /// Waiters are failed and watchers told by the caller, each in its
    /// own way.
    fn end(&self, closed: Closed) -> Closed {
        let closed = lock(&self.closed).get_or_insert(closed).clone();
        dispatch::report_unlogged_garbage(self, self.diag.garbage_log.take_suppressed());
        for (_, task) in lock(&self.server_requests).drain() {
            task.abort();
        }
        closed
    }

    /// The transport refused a frame: the connection is over. Marking it
    /// closed here (not only when the reader notices) makes callers wait for
    /// a restart instead of failing again at once in a loop.
    fn connection_error(&self) -> Error {
        let known = lock(&self.closed).clone();
        let closed = match known {
            Some(c) => c,
            None => {
                let c = Closed {
                    reason: "the transport stopped accepting messages".into(),
                    stderr_tail: Vec::new(),
                };
                self.mark_closed(c.clone());
                c
            }
        };
        closed_error_for(self, &closed)
    }

    fn timeout_error(&self, method: &str, elapsed: Duration) -> Error {
        let mut hints = Vec::new();
        let garbage = self.diag.garbage.load(Ordering::Relaxed);
        if garbage > 0 {
            let last = lock(&self.diag.last_garbage).clone().unwrap_or_default();
            hints.push(format!(
                "the server wrote {garbage} non-JSON-RPC message(s), last: {last:?}"
            ));
        }
        let unknown = self.diag.unknown_ids.load(Ordering::Relaxed);
        if unknown > 0 {
            hints.push(format!(
                "the server sent {unknown} response(s) with ids nobody asked for"
            ));
        }
        Error::Timeout {
            method: method.to_owned(),
            elapsed,
            hint: (!hints.is_empty()).then(|| hints.join("; ")),
        }
    }
}
