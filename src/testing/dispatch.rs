//! One client connection: reading frames, deciding each request's era,
//! running handlers concurrently (so the connection keeps reading while a
//! tool waits for the client), cancellation, server→client requests, and
//! writing replies and notifications.
//!
//! Everything bound for the client goes through one unbounded queue drained
//! by a single writer: notifications can then be sent from synchronous code
//! (`ctx.progress`, `TestServer::notify_*`), in order, and closing the
//! connection (a fault) is one message on that queue.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use futures_util::FutureExt;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::{mpsc, oneshot};
use tokio::task::AbortHandle;

use super::builder::Spec;
use super::context::{LogLevel, ToolError};
use super::eras::{check_modern_meta, StateStore, MODERN};
use super::faults::{pad, wrong_id, Fault, GARBAGE};
use super::methods;
use super::TestServer;
use crate::protocol::codes;
use crate::protocol::jsonrpc::{parse_frame, Incoming};
use crate::protocol::version::meta;
use crate::protocol::{Era, ErrorObject, ProtocolVersion};
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

/// One request being served.
pub(crate) struct Req {
    pub(crate) era: Era,
    pub(crate) version: ProtocolVersion,
    pub(crate) id: Value,
    pub(crate) method: String,
    /// Client capabilities in force for this request.
    pub(crate) capabilities: Value,
    /// `params._meta`, or `Null`.
    pub(crate) meta: Value,
    pub(crate) progress_token: Option<Value>,
    /// Modern era: the level asked for in `_meta`.
    pub(crate) log_level: Option<LogLevel>,
    /// A fault that shapes the reply (wrong id, padding).
    pub(crate) fault: Option<Fault>,
}

/// A change pushed to connected clients.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    Tools,
    Prompts,
    Resources,
    Updated(String),
}

/// A modern `subscriptions/listen` in force.
pub(crate) struct Listen {
    pub(crate) id: Value,
    pub(crate) tools: bool,
    pub(crate) prompts: bool,
    pub(crate) resources: bool,
    pub(crate) uris: Vec<String>,
}

enum Phase {
    New,
    /// `initialize` answered, `notifications/initialized` not yet received.
    Initializing(ProtocolVersion, Value),
    Ready(ProtocolVersion, Value),
}

struct State {
    phase: Phase,
    log_level: Option<LogLevel>,
    subscribed: HashSet<String>,
    listens: HashMap<String, Listen>,
}

enum Out {
    Frame(Bytes),
    Close,
}

type Pending = oneshot::Sender<Result<Value, ErrorObject>>;

/// The server's side of one connection.
pub(crate) struct Conn {
    pub(crate) spec: Arc<Spec>,
    pub(crate) states: Arc<StateStore>,
    out: mpsc::UnboundedSender<Out>,
    state: Mutex<State>,
    pending: Mutex<HashMap<String, Pending>>,
    next_ask: AtomicU64,
    inflight: Mutex<HashMap<String, AbortHandle>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The canonical text of an id, to match `requestId`s and replies.
fn id_key(id: &Value) -> String {
    id.to_string()
}

fn error(code: i64, message: impl Into<String>) -> ErrorObject {
    ErrorObject {
        code,
        message: message.into(),
        data: None,
    }
}

#[derive(Serialize)]
struct Reply<'a> {
    jsonrpc: &'static str,
    id: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a ErrorObject>,
}

fn encode_reply(id: &Value, outcome: &Result<Value, ErrorObject>) -> Option<Bytes> {
    let reply = Reply {
        jsonrpc: "2.0",
        id,
        result: outcome.as_ref().ok(),
        error: outcome.as_ref().err(),
    };
    serde_json::to_vec(&reply).ok().map(Bytes::from)
}

impl Conn {
    fn new(server: &TestServer, out: mpsc::UnboundedSender<Out>) -> Self {
        Conn {
            spec: server.spec.clone(),
            states: server.states.clone(),
            out,
            state: Mutex::new(State {
                phase: Phase::New,
                log_level: None,
                subscribed: HashSet::new(),
                listens: HashMap::new(),
            }),
            pending: Mutex::new(HashMap::new()),
            next_ask: AtomicU64::new(0),
            inflight: Mutex::new(HashMap::new()),
        }
    }

    // ---- sending -------------------------------------------------------

    fn send_frame(&self, frame: Bytes) {
        // A closed queue means the connection is gone: nothing to tell.
        let _ = self.out.send(Out::Frame(frame));
    }

    fn send_json(&self, message: &Value) {
        if let Ok(bytes) = serde_json::to_vec(message) {
            self.send_frame(Bytes::from(bytes));
        }
    }

    /// Sends a notification.
    pub(crate) fn notify(&self, method: &str, params: Option<Value>) {
        let msg = match params {
            Some(p) => json!({"jsonrpc": "2.0", "method": method, "params": p}),
            None => json!({"jsonrpc": "2.0", "method": method}),
        };
        self.send_json(&msg);
    }

    /// Stops the writer: the client sees the connection close.
    fn close(&self) {
        let _ = self.out.send(Out::Close);
    }

    /// Sends the reply to `req`, decorated for its era and shaped by its fault.
    pub(crate) fn respond(&self, req: &Req, mut outcome: Result<Value, ErrorObject>) {
        if req.era == Era::Modern {
            if let Ok(Value::Object(obj)) = &mut outcome {
                obj.entry("resultType")
                    .or_insert_with(|| Value::String("complete".into()));
                let meta_entry = obj.entry("_meta").or_insert_with(|| json!({}));
                if let Some(m) = meta_entry.as_object_mut() {
                    m.insert(meta::SERVER_INFO.into(), self.spec.server_info());
                }
            }
        }
        let id = match &req.fault {
            Some(Fault::WrongId) => wrong_id(&req.id),
            _ => req.id.clone(),
        };
        if let (Some(Fault::Oversized(size)), Ok(result)) = (&req.fault, &mut outcome) {
            let overhead =
                encode_reply(&id, &Ok(Value::Null)).map_or(0, |b| b.len().saturating_sub(4));
            pad(result, *size, overhead);
        }
        if let Some(frame) = encode_reply(&id, &outcome) {
            self.send_frame(frame);
        }
    }

    /// Sends a request to the client and waits for its answer (handshake era).
    pub(crate) async fn ask_client(&self, method: &str, params: Value) -> Result<Value, ToolError> {
        let n = self.next_ask.fetch_add(1, Ordering::Relaxed) + 1;
        let id = Value::String(format!("srv-{n}"));
        let key = id_key(&id);
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(key.clone(), tx);
        // Forget the ask if the handler is cancelled while waiting.
        struct Forget<'a>(&'a Conn, String);
        impl Drop for Forget<'_> {
            fn drop(&mut self) {
                lock(&self.0.pending).remove(&self.1);
            }
        }
        let _forget = Forget(self, key);
        self.send_json(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        match rx.await {
            Ok(Ok(result)) => Ok(result),
            Ok(Err(err)) => Err(ToolError::Client(err)),
            Err(_) => Err(ToolError::Failed(
                "the connection closed before the client answered".into(),
            )),
        }
    }

    // ---- state ---------------------------------------------------------

    pub(crate) fn server_name(&self) -> &str {
        &self.spec.name
    }

    pub(crate) fn log_level(&self) -> Option<LogLevel> {
        lock(&self.state).log_level
    }

    pub(crate) fn set_log_level(&self, level: LogLevel) {
        lock(&self.state).log_level = Some(level);
    }

    /// Records an answered `initialize`; refuses a second one.
    pub(crate) fn begin_handshake(
        &self,
        version: ProtocolVersion,
        capabilities: Value,
    ) -> Result<(), ErrorObject> {
        let mut st = lock(&self.state);
        match st.phase {
            Phase::New => {
                st.phase = Phase::Initializing(version, capabilities);
                Ok(())
            }
            _ => Err(error(codes::INVALID_REQUEST, "already initialized")),
        }
    }

    pub(crate) fn subscribe(&self, uri: &str, on: bool) {
        let mut st = lock(&self.state);
        if on {
            st.subscribed.insert(uri.to_owned());
        } else {
            st.subscribed.remove(uri);
        }
    }

    pub(crate) fn add_listen(&self, listen: Listen) {
        let key = id_key(&listen.id);
        lock(&self.state).listens.insert(key, listen);
    }

    /// Delivers a change to this client, as its era and subscriptions want.
    pub(crate) fn on_change(&self, change: &Change) {
        let st = lock(&self.state);
        let (method, uri) = match change {
            Change::Tools => ("notifications/tools/list_changed", None),
            Change::Prompts => ("notifications/prompts/list_changed", None),
            Change::Resources => ("notifications/resources/list_changed", None),
            Change::Updated(uri) => ("notifications/resources/updated", Some(uri.as_str())),
        };
        if let Phase::Ready(..) = st.phase {
            match uri {
                None => self.notify(method, None),
                Some(uri) if st.subscribed.iter().any(|s| covers(s, uri)) => {
                    self.notify(method, Some(json!({"uri": uri})))
                }
                Some(_) => {}
            }
        }
        for l in st.listens.values() {
            let wanted = match change {
                Change::Tools => l.tools,
                Change::Prompts => l.prompts,
                Change::Resources => l.resources,
                Change::Updated(uri) => l.uris.iter().any(|s| covers(s, uri)),
            };
            if wanted {
                let mut params = json!({"_meta": {meta::SUBSCRIPTION_ID: l.id}});
                if let (Some(uri), Some(obj)) = (uri, params.as_object_mut()) {
                    obj.insert("uri".into(), json!(uri));
                }
                self.notify(method, Some(params));
            }
        }
    }

    /// Ends every modern subscription from the server's side: the listen
    /// request finally gets its (empty) result.
    pub(crate) fn end_listens(&self) {
        let listens: Vec<Listen> = lock(&self.state).listens.drain().map(|(_, l)| l).collect();
        for l in listens {
            let result = json!({
                "resultType": "complete",
                "_meta": {
                    meta::SUBSCRIPTION_ID: l.id,
                    meta::SERVER_INFO: self.spec.server_info(),
                },
            });
            if let Some(frame) = encode_reply(&l.id, &Ok(result)) {
                self.send_frame(frame);
            }
        }
    }

    /// Aborts every handler and forgets every ask and subscription.
    fn shutdown(&self) {
        for (_, task) in lock(&self.inflight).drain() {
            task.abort();
        }
        lock(&self.pending).clear();
        lock(&self.state).listens.clear();
    }

    // ---- reading -------------------------------------------------------

    fn on_frame(self: &Arc<Self>, frame: Bytes) {
        let messages = match parse_frame(&frame) {
            Ok(m) => m,
            Err(e) => {
                let code = if serde_json::from_slice::<serde::de::IgnoredAny>(&frame).is_ok() {
                    codes::INVALID_REQUEST
                } else {
                    codes::PARSE_ERROR
                };
                if let Some(f) = encode_reply(&Value::Null, &Err(error(code, e.0))) {
                    self.send_frame(f);
                }
                return;
            }
        };
        for message in messages {
            match message {
                Incoming::Request { id, method, params } => {
                    let id: Value = serde_json::from_str(id.get()).unwrap_or(Value::Null);
                    let params = params
                        .and_then(|p| serde_json::from_slice(&p).ok())
                        .unwrap_or(Value::Null);
                    self.on_request(id, method, params);
                }
                Incoming::Notification { method, params } => {
                    let params = params
                        .and_then(|p| serde_json::from_slice(&p).ok())
                        .unwrap_or(Value::Null);
                    self.on_notification(&method, &params);
                }
                Incoming::Response {
                    raw_id, outcome, ..
                } => {
                    let key = serde_json::from_slice::<Value>(&raw_id)
                        .map(|v| id_key(&v))
                        .unwrap_or_else(|_| String::from_utf8_lossy(&raw_id).into_owned());
                    if let Some(tx) = lock(&self.pending).remove(&key) {
                        let outcome = outcome
                            .map(|bytes| serde_json::from_slice(&bytes).unwrap_or(Value::Null));
                        let _ = tx.send(outcome);
                    }
                }
            }
        }
    }

    fn on_notification(&self, method: &str, params: &Value) {
        match method {
            "notifications/initialized" => {
                let mut st = lock(&self.state);
                if let Phase::Initializing(v, caps) = &st.phase {
                    st.phase = Phase::Ready(*v, caps.clone());
                }
            }
            "notifications/cancelled" => {
                let Some(id) = params.get("requestId") else {
                    return;
                };
                let key = id_key(id);
                if let Some(task) = lock(&self.inflight).remove(&key) {
                    task.abort();
                }
                lock(&self.state).listens.remove(&key);
            }
            _ => {}
        }
    }

    fn fault_for(&self, method: &str, params: &Value) -> Option<Fault> {
        if let Some(rule) = self.spec.method_faults.get(method) {
            if let Some(f) = rule.take() {
                return Some(f);
            }
        }
        if method == "tools/call" {
            let name = params.get("name").and_then(Value::as_str)?;
            return self.spec.tool_faults.get(name)?.take();
        }
        None
    }

    /// Decides the request's era and checks what that era demands first.
    fn classify(
        &self,
        id: Value,
        method: String,
        params: &Value,
        fault: Option<Fault>,
    ) -> Result<Req, ErrorObject> {
        let st = lock(&self.state);
        let has_modern_meta = params
            .get("_meta")
            .and_then(|m| m.get(meta::PROTOCOL_VERSION))
            .is_some();
        let handshake = match st.phase {
            Phase::New => {
                !self.spec.eras.modern()
                    || method == "initialize"
                    || (method == "ping" && !has_modern_meta)
            }
            // A connection that has begun the handshake stays in it.
            _ => true,
        };
        let meta_value = params.get("_meta").cloned().unwrap_or(Value::Null);
        if handshake {
            if !HANDSHAKE_METHODS.contains(&method.as_str()) {
                return Err(error(
                    codes::METHOD_NOT_FOUND,
                    format!("method not found: {method}"),
                ));
            }
            let (version, capabilities, ready) = match &st.phase {
                Phase::New => (ProtocolVersion::LATEST_HANDSHAKE, json!({}), false),
                Phase::Initializing(v, c) => (*v, c.clone(), false),
                Phase::Ready(v, c) => (*v, c.clone(), true),
            };
            if !ready && method != "initialize" && method != "ping" {
                return Err(error(
                    codes::INVALID_REQUEST,
                    "server not initialized: send initialize, then notifications/initialized",
                ));
            }
            Ok(Req {
                era: Era::Handshake,
                version,
                id,
                method,
                capabilities,
                progress_token: meta_value.get(meta::PROGRESS_TOKEN).cloned(),
                meta: meta_value,
                log_level: None,
                fault,
            })
        } else {
            let m = check_modern_meta(params)?;
            Ok(Req {
                era: Era::Modern,
                version: MODERN,
                id,
                method,
                capabilities: m.capabilities,
                progress_token: m.meta.get(meta::PROGRESS_TOKEN).cloned(),
                meta: m.meta,
                log_level: m.log_level,
                fault,
            })
        }
    }

    fn on_request(self: &Arc<Self>, id: Value, method: String, params: Value) {
        let fault = self.fault_for(&method, &params);
        match fault {
            Some(Fault::Hang) => return,
            Some(Fault::CloseConnection) => return self.close(),
            Some(Fault::Garbage) => return self.send_frame(Bytes::from_static(GARBAGE)),
            _ => {}
        }
        let delay = match fault {
            Some(Fault::Delay(d)) => Some(d),
            _ => None,
        };
        let req = match self.classify(id.clone(), method, &params, fault) {
            Ok(req) => Arc::new(req),
            Err(err) => {
                if let Some(frame) = encode_reply(&id, &Err(err)) {
                    self.send_frame(frame);
                }
                return;
            }
        };
        let conn = self.clone();
        let key = id_key(&req.id);
        let mut work = Box::pin(async move {
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            if let Some(outcome) = methods::handle(conn.clone(), req.clone(), params).await {
                conn.respond(&req, outcome);
            }
            lock(&conn.inflight).remove(&id_key(&req.id));
        });
        // Most requests finish at once; only the ones that wait get a task.
        if (&mut work).now_or_never().is_none() {
            let mut inflight = lock(&self.inflight);
            let task = tokio::spawn(work);
            inflight.insert(key, task.abort_handle());
        }
    }
}

/// True when a subscription to `subscribed` covers an update of `uri`
/// (the same resource or one below it).
fn covers(subscribed: &str, uri: &str) -> bool {
    uri == subscribed
        || uri
            .strip_prefix(subscribed)
            .is_some_and(|rest| subscribed.ends_with('/') || rest.starts_with('/'))
}

async fn write_loop(mut queue: mpsc::UnboundedReceiver<Out>, outgoing: mpsc::Sender<Bytes>) {
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

/// Aborts the connection's handlers however `serve` ends (even dropped).
struct ShutdownGuard(Arc<Conn>);

impl Drop for ShutdownGuard {
    fn drop(&mut self) {
        self.0.shutdown();
    }
}

/// Serves one client until it closes `end.incoming` or a fault closes the
/// connection.
pub(crate) async fn serve(server: TestServer, end: ServerEnd) {
    let (tx, rx) = mpsc::unbounded_channel();
    let conn = Arc::new(Conn::new(&server, tx));
    server.hub.add(&conn);
    let guard = ShutdownGuard(conn.clone());
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
