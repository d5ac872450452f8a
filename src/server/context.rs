//! What a handler can do while it serves one request, the same code in
//! either era: read what the client declared, report progress, log, send
//! notifications, and ask the client (sampling, elicitation, roots). In the
//! handshake era an ask is a real server-to-client request; in 2026-07-28
//! it is an input-required round (see `rounds.rs`): the first run of the
//! handler ends at its first unanswered ask, the client's retry runs it
//! again and the ask finds its answer by key.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::ask::{AskError, AskKind};
use super::conn::Conn;
use super::outgoing::Route;
use super::request::RequestInfo;
use super::rounds::Round;
use super::subscriptions::Notifier;
use crate::protocol::request::{LoggingMessage, Notification, Progress};
use crate::protocol::{
    ClientCapabilities, CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams,
    ElicitResult, Era, Implementation, ListRootsResult, LoggingLevel,
    LoggingMessageNotificationParams, ProgressNotificationParams, ProgressToken, ProtocolVersion,
    RequestId, RequestMeta, TraceContext,
};

/// What a sealed task id is for (see [`Context::seal_task_id`]).
const TASK_ID: &str = "task-id";

struct Inner {
    conn: Arc<Conn>,
    req: Arc<RequestInfo>,
    round: Mutex<Round>,
    /// The core's task this run became, if it did (see `tasks.rs`).
    task: Mutex<Option<String>>,
}

/// Handed to every handler call: the request's era, version, client
/// capabilities and `_meta`; progress, logging, notifications and asks.
/// Cheap to clone; a clone speaks for the same request.
#[derive(Clone)]
pub struct Context {
    inner: Arc<Inner>,
}

impl fmt::Debug for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Context")
            .field("era", &self.inner.req.era)
            .field("method", &self.inner.req.method)
            .field("id", &self.inner.req.id)
            .finish_non_exhaustive()
    }
}

impl Context {
    pub(crate) fn new(conn: Arc<Conn>, req: Arc<RequestInfo>, answers: Map<String, Value>) -> Self {
        Context {
            inner: Arc::new(Inner {
                conn,
                req,
                round: Mutex::new(Round {
                    answers,
                    ..Round::default()
                }),
                task: Mutex::new(None),
            }),
        }
    }

    pub(crate) fn take_round(&self) -> Round {
        std::mem::take(&mut *self.round())
    }

    fn round(&self) -> MutexGuard<'_, Round> {
        self.inner.round.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The era of the request being served.
    pub fn era(&self) -> Era {
        self.inner.req.era
    }

    /// The protocol version of the request (negotiated, or from `_meta`).
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.inner.req.version
    }

    /// The request's id.
    pub fn request_id(&self) -> &RequestId {
        &self.inner.req.id
    }

    /// The request's method.
    pub fn method(&self) -> &str {
        &self.inner.req.method
    }

    /// The client capabilities in force: `initialize`'s in the handshake
    /// era, the request's `_meta` in 2026-07-28.
    pub fn client_capabilities(&self) -> &ClientCapabilities {
        &self.inner.req.capabilities
    }

    /// Who the client says it is (`clientInfo`), when it said.
    pub fn client_info(&self) -> Option<&Implementation> {
        self.inner.req.client_info.as_deref()
    }

    /// The request's `params._meta` (empty when it had none). The
    /// capabilities and client info are not in it: see
    /// [`Context::client_capabilities`] and [`Context::client_info`].
    pub fn meta(&self) -> &RequestMeta {
        &self.inner.req.meta
    }

    /// The trace the request belongs to (SEP-414: a valid `traceparent`
    /// in its `_meta`, with `tracestate` and `baggage`). The handler runs
    /// in it already: requests it sends carry it (see [`crate::trace`]).
    pub fn trace_context(&self) -> Option<TraceContext> {
        TraceContext::from_meta(&self.inner.req.meta.extra)
    }

    /// The request's progress token, if it asked for progress.
    pub fn progress_token(&self) -> Option<&ProgressToken> {
        self.inner.req.meta.progress_token.as_ref()
    }

    /// A handle that tells every client of this server what changed.
    pub fn notifier(&self) -> Notifier {
        Notifier {
            hub: self.inner.conn.shared.hub.clone(),
        }
    }

    /// This run goes on as task `id` (its progress is the task's status).
    pub(crate) fn set_task(&self, id: &str) {
        *self.inner.task.lock().unwrap_or_else(|p| p.into_inner()) = Some(id.to_owned());
    }

    /// Sends `notifications/progress`, only if the request carried a
    /// `progressToken`. `progress` must increase from call to call. In a
    /// run that became a task (the tasks extension), whose request is
    /// answered, the progress is the task's `statusMessage` instead (the
    /// message, else `progress/total`), seen by the client's `tasks/get`.
    pub fn progress(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let task = self
            .inner
            .task
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        if let Some(id) = task {
            let status = match (message, total) {
                (Some(m), _) => m.to_owned(),
                (None, Some(t)) => format!("{progress}/{t}"),
                (None, None) => progress.to_string(),
            };
            self.inner.conn.shared.tasks.status_message(&id, status);
            return;
        }
        let Some(token) = self.progress_token() else {
            return;
        };
        let params = ProgressNotificationParams {
            progress_token: token.clone(),
            progress,
            total,
            message: message.map(str::to_owned),
            meta: None,
            extra: Map::new(),
        };
        self.notify::<Progress>(&params);
    }

    /// The level the client asked for logs of this request at, if it
    /// asked: `logging/setLevel`'s in the handshake era, the request's
    /// `_meta` in 2026-07-28.
    pub fn log_level(&self) -> Option<LoggingLevel> {
        match self.inner.req.era {
            Era::Handshake => self.inner.conn.log_level(),
            Era::Modern => self.inner.req.meta.log_level,
        }
    }

    /// Whether the client wants a log message at `level`: in the handshake
    /// era per `logging/setLevel` (everything until one is set), in
    /// 2026-07-28 only when the request's `_meta` asked for a level.
    pub fn wants_log(&self, level: LoggingLevel) -> bool {
        match self.log_level() {
            Some(min) => level >= min,
            None => self.inner.req.era == Era::Handshake,
        }
    }

    /// Sends `notifications/message` (logger: the server's name) if the
    /// client wants this level (see [`Context::wants_log`]).
    pub fn log(&self, level: LoggingLevel, data: impl Into<Value>) {
        self.log_message(LoggingMessageNotificationParams {
            level,
            logger: Some(self.inner.conn.shared.info.name.clone()),
            data: data.into(),
            meta: None,
            extra: Map::new(),
        });
    }

    /// Sends a log message as given (its own logger: a gateway passing on
    /// its upstream's) if the client wants its level.
    pub fn log_message(&self, params: LoggingMessageNotificationParams) {
        if self.wants_log(params.level) {
            self.notify::<LoggingMessage>(&params);
        }
    }

    /// Sends notification `N` to this request's client.
    pub fn notify<N: Notification>(&self, params: &N::Params) {
        self.inner.conn.notify::<N>(Some(params), self.during());
    }

    /// Streamable HTTP in the handshake era: ends this request's response
    /// stream now, before its reply, so the client reconnects with
    /// `Last-Event-ID` and receives the rest there (SEP-1699 polling: a
    /// server sheds a long-held connection this way). Anywhere else
    /// (stdio, in-memory, 2026-07-28, which has no resumption) it does
    /// nothing.
    pub fn end_stream(&self) {
        if self.inner.req.era == Era::Handshake {
            self.inner.conn.end_stream(self.inner.req.id.clone());
        }
    }

    /// Where frames sent while serving this request belong.
    fn during(&self) -> Route {
        Route::During(self.inner.req.id.clone())
    }

    /// Sends a notification the protocol module has no type for (an
    /// extension's), with any serializable params.
    pub fn notify_method<P: Serialize>(&self, method: &str, params: &P) {
        self.inner.conn.notify_raw(method, params, self.during());
    }

    pub(crate) fn set_relayed(&self, relayed: Option<Value>) {
        self.round().relayed = relayed;
    }

    /// (2026-07-28) The answers this request brought (its
    /// `inputResponses`, and those sealed in its `requestState`), by key.
    /// Empty on a first request and in the handshake era.
    pub fn input_responses(&self) -> Map<String, Value> {
        self.round().answers.clone()
    }

    /// (2026-07-28) The value a [`Context::relay_round`] of the previous
    /// round sealed into the `requestState` this retry brought, unaltered
    /// (the token is authenticated).
    pub fn relayed_state(&self) -> Option<Value> {
        self.round().relayed.clone()
    }

    /// (2026-07-28) Answers this request `input_required` with asks made
    /// elsewhere: `asks` maps each key to `{method, params}` as an
    /// upstream sent them, and `state` (an upstream's own `requestState`)
    /// is sealed into the `requestState` the client gets, to come back as
    /// [`Context::relayed_state`] on the retry, which may reach any
    /// replica sharing the state key. Return the error it gives from the
    /// handler. Not to be mixed with the handler's own asks. In the
    /// handshake era there are no rounds: the error says so.
    pub fn relay_round(&self, asks: Map<String, Value>, state: Value) -> super::ServerError {
        if self.inner.req.era != Era::Modern {
            return super::ServerError::internal(
                "an input-required round cannot be relayed in the handshake era",
            );
        }
        let mut round = self.round();
        let first = asks.keys().next().cloned().unwrap_or_default();
        round.open.extend(asks);
        round.relay = Some(state);
        super::ServerError::InputRequired(first)
    }

    /// Seals `value` into a task id that opens with
    /// [`Context::open_task_id`] for `ttl` on every server holding the same
    /// state key ([`ServerBuilder::state_key`](super::ServerBuilder::state_key),
    /// HMAC-SHA256 as for `requestState`): for a handler that passes on
    /// tasks made elsewhere (a gateway binding an upstream's task to its
    /// server), so that any replica can follow them.
    pub fn seal_task_id(&self, value: Value, ttl: std::time::Duration) -> String {
        self.inner.conn.shared.states.seal(TASK_ID, value, ttl)
    }

    /// The value sealed into a task id by [`Context::seal_task_id`]; a
    /// forged, altered or expired one is -32602 ("invalid task id").
    pub fn open_task_id(&self, task_id: &str) -> Result<Value, super::ServerError> {
        self.inner
            .conn
            .shared
            .states
            .open(task_id, TASK_ID, "task id")
            .map_err(super::ServerError::Protocol)
    }

    /// Asks the client to sample its model (`sampling/createMessage`).
    pub async fn sample(
        &self,
        params: CreateMessageRequestParams,
    ) -> Result<CreateMessageResult, AskError> {
        self.ask_typed(AskKind::Sampling, &params).await
    }

    /// Asks the user for input (`elicitation/create`): a form or a URL.
    pub async fn elicit(&self, params: ElicitRequestParams) -> Result<ElicitResult, AskError> {
        self.ask_typed(AskKind::Elicitation, &params).await
    }

    /// Asks the client for its roots (`roots/list`).
    pub async fn list_roots(&self) -> Result<ListRootsResult, AskError> {
        self.ask_typed(AskKind::Roots, &serde_json::json!({})).await
    }

    async fn ask_typed<P: Serialize, R: DeserializeOwned>(
        &self,
        kind: AskKind,
        params: &P,
    ) -> Result<R, AskError> {
        let params = serde_json::to_value(params)
            .map_err(|e| AskError::InvalidAnswer(format!("the ask does not serialize: {e}")))?;
        let answer = self.ask_json(kind, params).await?;
        serde_json::from_value(answer).map_err(|e| AskError::InvalidAnswer(e.to_string()))
    }

    /// Asks the client with params as given and returns its answer as
    /// given, unchecked: for a server that relays an ask it did not make
    /// (a gateway passing on its backend's elicitation verbatim), or a
    /// test of how clients cope with odd asks. Prefer the typed
    /// [`Context::sample`], [`Context::elicit`] and [`Context::list_roots`].
    pub async fn ask_json(&self, kind: AskKind, params: Value) -> Result<Value, AskError> {
        let capability = kind.capability();
        let declared = kind.declared(&self.inner.req.capabilities);
        match self.inner.req.era {
            Era::Handshake => {
                if !declared {
                    return Err(AskError::MissingCapability(capability));
                }
                self.inner
                    .conn
                    .ask_client(kind, &params, self.during())
                    .await
            }
            Era::Modern => {
                let mut round = self.round();
                if !declared {
                    round.missing_capability.get_or_insert(capability);
                    return Err(AskError::MissingCapability(capability));
                }
                let key = format!("{}-{}", kind.key(), round.next);
                round.next += 1;
                if let Some(answer) = round.answers.get(&key) {
                    return Ok(answer.clone());
                }
                let mut ask = Map::new();
                ask.insert("method".into(), Value::from(kind.method()));
                ask.insert("params".into(), params);
                round.open.insert(key.clone(), Value::Object(ask));
                Err(AskError::InputRequired(key))
            }
        }
    }
}
