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
mod deadlines;
mod dispatch;
mod era_cache;
mod era_ops;
mod frames;

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
use serde_json::{Map, Value};
use tokio::sync::oneshot;
use tokio::task::AbortHandle;

use crate::protocol::{
    ClientCapabilities, Era, Implementation, LoggingLevel, ProgressNotificationParams,
    ProtocolVersion, ServerCapabilities, TraceContext,
};
use crate::transport::{Closed, Outbound, Transport, TransportControl, TransportError};
use crate::{Error, Result};

pub use handlers::{
    ElicitationHandler, HandlerError, Handlers, ListedRoots, ProgressCallback, RequestContext,
    RootsHandler, SamplingHandler, ServerNotification,
};
pub use listen::{ListenFilter, Subscription};
pub use messages::{ListKind, MessageHandler, ServerMessage};
pub use options::SessionOptions;

pub(crate) use frames::Target;
use outgoing::{MetaOut, ModernIdentity};
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

/// Per-call settings: deadlines, progress, extra `_meta`, and how a
/// 2026-07-28 call's input-required rounds are met.
#[derive(Clone, Default)]
pub struct CallOptions {
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_time: Option<Duration>,
    pub(crate) on_progress: Option<ProgressCallback>,
    pub(crate) meta: Option<Map<String, Value>>,
    pub(crate) log_level: Option<LoggingLevel>,
    pub(crate) handlers: Option<Arc<Handlers>>,
    pub(crate) relay_input: bool,
    pub(crate) resume: Option<Resume>,
    pub(crate) asks: Option<Arc<AsksDeclared>>,
    pub(crate) trace: Option<TraceContext>,
    pub(crate) on_task: Option<TaskCallback>,
    pub(crate) tasks: Option<bool>,
}

/// Called with a task each time a poll sees it change (its status or
/// status message): the progress of a call the server runs as a task.
pub type TaskCallback = Arc<dyn Fn(&crate::protocol::Task) + Send + Sync>;

/// The ask capabilities one request declares instead of the client's.
#[derive(Debug)]
pub(crate) struct AsksDeclared {
    sampling: Option<Value>,
    elicitation: Option<Value>,
    roots: Option<Value>,
}

impl AsksDeclared {
    /// Puts these asks into capabilities.
    fn apply(&self, caps: &mut Map<String, Value>) {
        for (key, value) in [
            ("sampling", &self.sampling),
            ("elicitation", &self.elicitation),
            ("roots", &self.roots),
        ] {
            match value {
                Some(v) => caps.insert(key.to_owned(), v.clone()),
                None => caps.remove(key),
            };
        }
    }
}

/// The client's capabilities (`base`, as serialized) as one request
/// declares them: its own asks, and without the tasks extension.
fn declared_for(
    base: &serde_json::value::RawValue,
    asks: Option<&AsksDeclared>,
    tasks: Option<bool>,
) -> Option<Box<serde_json::value::RawValue>> {
    if asks.is_none() && tasks != Some(false) {
        return None;
    }
    let mut caps: Map<String, Value> = serde_json::from_str(base.get()).ok()?;
    if let Some(asks) = asks {
        asks.apply(&mut caps);
    }
    if tasks == Some(false) {
        if let Some(Value::Object(extensions)) = caps.get_mut("extensions") {
            extensions.remove(crate::protocol::TASKS_EXTENSION);
        }
    }
    serde_json::value::to_raw_value(&caps).ok()
}

/// The answers and state a relayed round's retry starts with.
#[derive(Clone)]
pub(crate) struct Resume {
    pub(crate) input_responses: Map<String, Value>,
    pub(crate) request_state: Option<String>,
}

impl CallOptions {
    /// Defaults: the client's deadlines, no callback.
    pub fn new() -> Self {
        Self::default()
    }
    /// Idle deadline for this call (reset by progress).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }
    /// Hard cap for this call, progress or not.
    pub fn max_time(mut self, max: Duration) -> Self {
        self.max_time = Some(max);
        self
    }
    /// Progress callback for this call only.
    pub fn on_progress(
        mut self,
        f: impl Fn(&ProgressNotificationParams) + Send + Sync + 'static,
    ) -> Self {
        self.on_progress = Some(Arc::new(f));
        self
    }
    /// Called each time a poll of the task this call became (the tasks
    /// extension) sees it change: its status and status message are its
    /// progress. Default: none.
    pub fn on_task(mut self, f: impl Fn(&crate::protocol::Task) + Send + Sync + 'static) -> Self {
        self.on_task = Some(Arc::new(f));
        self
    }
    /// (2026-07-28) Whether this request declares the tasks extension
    /// (`extensions["io.modelcontextprotocol/tasks"]` in its
    /// capabilities): a caller that passes calls on for a client that does
    /// not accept tasks (a gateway) declares as that client did, so a tool
    /// that needs one is refused as it would be. Default: declared (a task
    /// is followed to its end by the call).
    pub fn declare_tasks(mut self, declared: bool) -> Self {
        self.tasks = Some(declared);
        self
    }
    /// Extra `_meta` entries to send. A `traceparent` among them replaces
    /// the trace context the call would carry.
    pub fn meta(mut self, meta: Map<String, Value>) -> Self {
        self.meta = Some(meta);
        self
    }
    /// Sends this call (and its rounds' retries) in trace `ctx`
    /// (SEP-414: `traceparent`, `tracestate`, `baggage` in `_meta`).
    /// Default: the current context of [`crate::trace::current`], for a
    /// call made on a task of its own that the caller's scope does not
    /// reach.
    pub fn trace_context(mut self, ctx: TraceContext) -> Self {
        self.trace = Some(ctx);
        self
    }
    /// (2026-07-28) Asks the server for log messages of this call at
    /// `level` and above, over the client's
    /// [`set_log_level`](crate::Client::set_log_level). Default: the
    /// client's level. (Handshake-era servers log per connection.)
    pub fn log_level(mut self, level: LoggingLevel) -> Self {
        self.log_level = Some(level);
        self
    }
    /// (2026-07-28) Answers this call's input-required rounds with these
    /// handlers; a kind they lack goes to the client's own. The client's
    /// handlers still decide which capabilities are declared, and
    /// handshake-era server requests, which no call owns, always go to the
    /// client's. Default: the client's handlers.
    pub fn handlers(mut self, handlers: Handlers) -> Self {
        self.handlers = Some(Arc::new(handlers));
        self
    }
    /// (2026-07-28) Declares, for this request, the `sampling`,
    /// `elicitation` and `roots` capabilities of `asks` (present or not)
    /// instead of the client's; the rest of the client's capabilities
    /// stand. For a caller that relays rounds for someone else, who may
    /// declare less (a gateway declares its downstream client's). Default:
    /// the client's.
    pub fn declare_asks(mut self, asks: &ClientCapabilities) -> Self {
        let value = |v: Option<Value>| v.filter(|v| !v.is_null());
        self.asks = Some(Arc::new(AsksDeclared {
            sampling: value(serde_json::to_value(&asks.sampling).ok()),
            elicitation: value(serde_json::to_value(&asks.elicitation).ok()),
            roots: value(serde_json::to_value(&asks.roots).ok()),
        }));
        self
    }
    /// (2026-07-28) Ends the call at an `input_required` result with
    /// [`Error::InputRequired`] (the asks and
    /// `requestState` as the server sent them) instead of answering it:
    /// for a caller that passes the round on to someone else, as a
    /// gateway does. Default: rounds are answered through the handlers.
    pub fn relay_input_required(mut self) -> Self {
        self.relay_input = true;
        self
    }
    /// (2026-07-28) Sends the call with these `inputResponses` and
    /// `requestState`: the retry of a round relayed with
    /// [`CallOptions::relay_input_required`]. Default: a first request.
    pub fn resume(
        mut self,
        input_responses: Map<String, Value>,
        request_state: Option<String>,
    ) -> Self {
        self.resume = Some(Resume {
            input_responses,
            request_state,
        });
        self
    }
}

impl std::fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallOptions")
            .field("timeout", &self.timeout)
            .field("max_time", &self.max_time)
            .field("on_progress", &self.on_progress.is_some())
            .field("meta", &self.meta)
            .field("log_level", &self.log_level)
            .field("handlers", &self.handlers.is_some())
            .field("relay_input", &self.relay_input)
            .field("resume", &self.resume.is_some())
            .field("asks", &self.asks)
            .field("trace", &self.trace)
            .field("on_task", &self.on_task.is_some())
            .field("tasks", &self.tasks)
            .finish()
    }
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
    log_level: Mutex<Option<LoggingLevel>>,
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
    serde_json::from_slice(bytes)
        .map_err(|e| Error::InvalidMessage(format!("{method} result: {e}")))
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
            log_level: Mutex::new(None),
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
        *lock(&self.shared().log_level) = Some(level);
    }

    /// The capabilities we declare, from the handlers we have.
    pub(crate) fn client_capabilities(&self, era: Era) -> ClientCapabilities {
        answer::client_capabilities(&self.shared().handlers, era)
    }

    /// Sends a request and decodes its (complete) result.
    pub async fn request<P, R>(
        &self,
        method: &str,
        params: &P,
        call: Option<&CallOptions>,
    ) -> Result<R>
    where
        P: Serialize + ?Sized + Sync,
        R: DeserializeOwned,
    {
        self.request_sized(method, params, call)
            .await
            .map(|(result, _)| result)
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
    pub(crate) async fn request_sized<P, R>(
        &self,
        method: &str,
        params: &P,
        call: Option<&CallOptions>,
    ) -> Result<(R, usize)>
    where
        P: Serialize + ?Sized + Sync,
        R: DeserializeOwned,
    {
        self.request_sized_to(method, Target::default(), params, call)
            .await
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
    async fn request_bytes<P>(
        &self,
        method: &str,
        target: Target<'_>,
        params: &P,
        call: Option<&CallOptions>,
        mode: MetaMode<'_>,
    ) -> Result<Bytes>
    where
        P: Serialize + ?Sized + Sync,
    {
        let generation = self.shared().renewal.generation();
        let first = self.request_once(method, target, params, call, mode).await;
        let failure = match first {
            Err(Error::Transport(failure)) => failure,
            other => return other,
        };
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
                self.request_once(method, target, params, call, mode).await
            }
            Retry::Renew => {
                self.renew(generation, &failure).await?;
                if !retry::resend_after_renewal(method) {
                    return not_resent(failure);
                }
                self.request_once(method, target, params, call, mode).await
            }
        }
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
    ) -> Result<Bytes>
    where
        P: Serialize + ?Sized + Sync,
    {
        let shared = self.shared();
        let id = shared.next_id.fetch_add(1, Ordering::Relaxed);
        let wants_progress = call.is_some_and(|c| c.on_progress.is_some())
            || (shared.options.progress_tokens
                && matches!(method, "tools/call" | "resources/read" | "prompts/get"));

        let negotiated = shared.negotiated.get();
        let level = lock(&shared.log_level).map(|l| l.as_str());
        let declared: Option<Box<serde_json::value::RawValue>>;
        let mut meta = match mode {
            MetaMode::Modern(identity) => MetaOut::modern(identity),
            MetaMode::Negotiated => match negotiated.and_then(|n| n.modern.as_ref()) {
                Some(identity) => {
                    let mut m = MetaOut::modern(identity);
                    m.log_level = call.and_then(|c| c.log_level).map(|l| l.as_str()).or(level);
                    declared = call.and_then(|c| {
                        declared_for(&identity.capabilities, c.asks.as_deref(), c.tasks)
                    });
                    if let Some(caps) = &declared {
                        m.client_capabilities = Some(caps);
                    }
                    m
                }
                None => MetaOut::default(),
            },
            MetaMode::Bare => MetaOut::default(),
        };
        if wants_progress {
            meta.progress_token = Some(id);
        }
        meta.extra = call.and_then(|c| c.meta.as_ref());
        let ambient;
        if !meta
            .extra
            .is_some_and(|m| m.contains_key(crate::protocol::trace_context::TRACEPARENT))
        {
            meta.trace = match call.and_then(|c| c.trace.as_ref()) {
                Some(explicit) => Some(explicit),
                None => {
                    ambient = crate::trace::current();
                    ambient.as_ref()
                }
            };
        }
        let bytes = outgoing::encode_request(id, method, params, &meta)
            .map_err(|e| Error::Encode(e.to_string()))?;
        let version = match mode {
            MetaMode::Modern(identity) => Some(identity.version),
            MetaMode::Negotiated => negotiated.map(|n| n.state.version),
            MetaMode::Bare => None,
        };

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
        let send = async {
            let out = self.outbound()?;
            let frame = frames::request(out, bytes, id, method, version, target);
            // Alone on the connection: latency matters most, write now.
            // Otherwise let the transport batch.
            let sent = if in_flight == 1 {
                out.send_now(frame).await
            } else {
                out.send(frame).await
            };
            sent.map_err(|_| shared.connection_error())
        };
        // Almost always sent on the first poll: a timer only when not.
        let mut send = std::pin::pin!(send);
        let first = std::future::poll_fn(|cx| Poll::Ready(send.as_mut().poll(cx))).await;
        let sent = match first {
            Poll::Ready(sent) => sent,
            Poll::Pending => match tokio::time::timeout_at(hard, send).await {
                Ok(sent) => sent,
                Err(_) => return Err(shared.timeout_error(method, started.elapsed())),
            },
        };
        if let Err(e) = sent {
            shared.pending.remove(id);
            guard.done = true;
            return Err(e);
        }
        // The session's sweeper enforces the deadline (`deadlines.rs`).
        match rx.await {
            Ok(Err(e)) if pending::is_deadline_marker(&e) => {
                // Still registered: the guard removes it and tells the
                // server to stop.
                Err(shared.timeout_error(method, started.elapsed()))
            }
            Ok(outcome) => {
                guard.done = true;
                outcome
            }
            Err(_) => {
                guard.done = true;
                Err(Error::NotConnected("the session ended".into()))
            }
        }
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
