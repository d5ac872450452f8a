//! Handshake-era sessions: `initialize` opens one (a connection of the
//! core, named by `Mcp-Session-Id`), its requests each get a response
//! stream, the GET stream carries what belongs to no request, and DELETE
//! ends it. The connection's items are routed as they are sent, by the
//! request they belong to (see [`Route`]), into resumable logs.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use ring::rand::{SecureRandom, SystemRandom};

use super::guard::{accepts, check_origin, refuse_with, Refusal};
use super::headers::{header, LAST_EVENT_ID, PROTOCOL_VERSION, SESSION_ID};
use super::sse::{self, EventLog};
use super::Endpoint;
use crate::protocol::jsonrpc::Incoming;
use crate::protocol::{codes, CancelledNotificationParams, Era, ProtocolVersion, RequestId};
use crate::server::conn::{self, lock, Open, Opened};
use crate::server::outgoing::{Out, Outlet, Route};

/// Finished request streams a session keeps for resumption.
const KEPT_FINISHED: usize = 64;

/// The GET stream's number.
const GET_STREAM: u64 = 0;

/// Where a session's items go.
#[derive(Default)]
struct Routes {
    /// Stream number → its log; [`GET_STREAM`] is always there.
    streams: HashMap<u64, EventLog>,
    /// Requests still being served → their stream.
    open: HashMap<RequestId, u64>,
    /// Streams whose reply went out, oldest first.
    finished: VecDeque<u64>,
    next: u64,
    /// The core closed the connection (a fault on purpose).
    closed: bool,
}

impl Routes {
    fn new() -> Self {
        let mut r = Routes {
            next: GET_STREAM + 1,
            ..Routes::default()
        };
        r.streams.insert(GET_STREAM, EventLog::default());
        r
    }

    fn log(&mut self, no: u64) -> &mut EventLog {
        self.streams.entry(no).or_default()
    }

    fn route(&mut self, frame: Bytes, route: Route) {
        match route {
            Route::Reply(id) => match self.open.remove(&id) {
                Some(no) => {
                    self.log(no).push(frame);
                    self.retire(no);
                }
                // A reply to what was never a request of this session
                // (an id refused before it was routed): the GET stream.
                None => self.log(GET_STREAM).push(frame),
            },
            Route::During(id) => {
                let no = self.open.get(&id).copied().unwrap_or(GET_STREAM);
                self.log(no).push(frame);
            }
            Route::Unrelated => self.log(GET_STREAM).push(frame),
        }
    }

    fn live(&self) -> bool {
        self.streams.values().any(EventLog::is_live)
    }

    /// Stream `no` is done: its reader ends after what it has, and the
    /// log is kept among the last [`KEPT_FINISHED`] for resumption.
    fn retire(&mut self, no: u64) {
        self.log(no).finish();
        self.finished.push_back(no);
        while self.finished.len() > KEPT_FINISHED {
            if let Some(old) = self.finished.pop_front() {
                self.streams.remove(&old);
            }
        }
    }

    /// A request the client cancelled: no reply will come.
    fn abandon(&mut self, id: &RequestId) {
        if let Some(no) = self.open.remove(id) {
            self.retire(no);
        }
    }
}

/// The request a `notifications/cancelled` names.
fn cancelled(message: &Incoming) -> Option<RequestId> {
    match message {
        Incoming::Notification { method, params } if method == "notifications/cancelled" => {
            serde_json::from_slice::<CancelledNotificationParams>(params.as_deref()?)
                .ok()?
                .request_id
        }
        _ => None,
    }
}

struct SessionOutlet(Arc<Mutex<Routes>>);

impl Outlet for SessionOutlet {
    fn send(&self, out: Out) {
        let mut routes = lock(&self.0);
        match out {
            Out::Frame(frame, route) => routes.route(frame, route),
            Out::EndStream(id) => {
                if let Some(no) = routes.open.get(&id).copied() {
                    routes.log(no).detach();
                }
            }
            Out::Close => {
                routes.closed = true;
                for log in routes.streams.values_mut() {
                    log.detach();
                }
            }
        }
    }
}

/// One handshake-era client.
pub(crate) struct Session {
    opened: Opened,
    routes: Arc<Mutex<Routes>>,
    seen: Mutex<Instant>,
}

impl Session {
    fn touch(&self) {
        *lock(&self.seen) = Instant::now();
    }

    fn idle_for(&self) -> Duration {
        lock(&self.seen).elapsed()
    }

    fn end(&self) {
        let mut routes = lock(&self.routes);
        routes.closed = true;
        for log in routes.streams.values_mut() {
            log.detach();
        }
    }
}

/// The live sessions of one endpoint.
pub(crate) struct Sessions {
    map: Mutex<HashMap<Arc<str>, Arc<Session>>>,
    max: usize,
    idle: Duration,
    random: SystemRandom,
}

impl Sessions {
    pub(crate) fn new(max: usize, idle: Duration) -> Self {
        Sessions {
            map: Mutex::new(HashMap::new()),
            max,
            idle,
            random: SystemRandom::new(),
        }
    }

    fn get(&self, id: &str) -> Option<Arc<Session>> {
        let session = lock(&self.map).get(id).cloned()?;
        if lock(&session.routes).closed {
            lock(&self.map).remove(id);
            return None;
        }
        session.touch();
        Some(session)
    }

    fn remove(&self, id: &str) -> Option<Arc<Session>> {
        let session = lock(&self.map).remove(id)?;
        session.end();
        Some(session)
    }

    /// Forgets sessions idle too long with no stream open, then makes room.
    fn admit(&self) -> Option<Arc<str>> {
        let mut map = lock(&self.map);
        map.retain(|_, s| {
            let keep = s.idle_for() < self.idle || lock(&s.routes).live();
            if !keep {
                s.end();
            }
            keep
        });
        if map.len() >= self.max {
            return None;
        }
        let mut raw = [0u8; 16];
        self.random.fill(&mut raw).ok()?;
        let mut id = String::with_capacity(32);
        for b in raw {
            id.push_str(&format!("{b:02x}"));
        }
        Some(id.into())
    }
}

fn unknown_session() -> Response {
    refuse_with(
        StatusCode::NOT_FOUND,
        codes::INVALID_REQUEST,
        "unknown or expired session: initialize again",
    )
}

/// A `MCP-Protocol-Version` on a session's request must be a handshake
/// revision we know.
fn check_version(headers: &HeaderMap) -> Result<(), Refusal> {
    match header(headers, PROTOCOL_VERSION) {
        None => Ok(()),
        Some(v) if ProtocolVersion::parse(v).is_some_and(|v| v.era() == Era::Handshake) => Ok(()),
        Some(v) => Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            codes::INVALID_REQUEST,
            format!("unsupported MCP-Protocol-Version {v:?} for a session"),
        )),
    }
}

/// `initialize`: a new session, answered with its id.
pub(crate) async fn initialize(ep: &Endpoint, id: RequestId, message: Incoming) -> Response {
    let Some(sid) = ep.sessions.admit() else {
        return refuse_with(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::INTERNAL_ERROR,
            "too many sessions: try again later",
        );
    };
    let routes = Arc::new(Mutex::new(Routes::new()));
    let outlet = Box::new(SessionOutlet(routes.clone()));
    let opened = conn::open(ep.server.shared.clone(), outlet, Open::Connection);
    let session = Arc::new(Session {
        opened,
        routes,
        seen: Mutex::new(Instant::now()),
    });
    let mut response = serve_request(ep, &session, id, message).await;
    // A refused initialize leaves no session behind.
    if response.status() == StatusCode::OK && !is_error_reply(&response) {
        lock(&ep.sessions.map).insert(sid.clone(), session);
        if let Ok(v) = HeaderValue::from_str(&sid) {
            response.headers_mut().insert(SESSION_ID, v);
        }
    } else {
        session.end();
    }
    response
}

fn is_error_reply(response: &Response) -> bool {
    response.extensions().get::<ErrorReply>().is_some()
}

/// Marks a JSON response that carries a JSON-RPC error.
#[derive(Clone, Copy)]
pub(crate) struct ErrorReply;

/// A request, notification or response within a session.
pub(crate) async fn in_session(
    ep: &Endpoint,
    sid: &str,
    headers: &HeaderMap,
    request: Option<RequestId>,
    message: Incoming,
) -> Response {
    if let Err(r) = check_version(headers) {
        return r.into_response();
    }
    let Some(session) = ep.sessions.get(sid) else {
        return unknown_session();
    };
    match request {
        Some(id) => serve_request(ep, &session, id, message).await,
        None => {
            if let Some(id) = cancelled(&message) {
                // No reply will come: end the stream and forget it.
                lock(&session.routes).abandon(&id);
            }
            session.opened.0.on_message(message);
            StatusCode::ACCEPTED.into_response()
        }
    }
}

/// Serves one request of `session` on a stream of its own: JSON when the
/// reply is all there is by the time the first item comes, else events.
async fn serve_request(
    ep: &Endpoint,
    session: &Session,
    id: RequestId,
    message: Incoming,
) -> Response {
    let (no, mut rx) = {
        let mut routes = lock(&session.routes);
        if routes.open.contains_key(&id) {
            drop(routes);
            return refuse_with(
                StatusCode::BAD_REQUEST,
                codes::INVALID_REQUEST,
                "a request with this id is already in progress",
            );
        }
        let no = routes.next;
        routes.next += 1;
        routes.open.insert(id, no);
        let rx = routes.log(no).attach(None);
        (no, rx)
    };
    session.opened.0.on_message(message);
    let first = rx.recv().await;
    let retry = Some(ep.options.retry);
    let priming = sse::event(Some((no, 0)), retry, b"");
    match first {
        Some((seq, frame)) => {
            let done = lock(&session.routes)
                .streams
                .get(&no)
                .is_some_and(|l| l.done);
            if seq == 1 && done && rx.is_empty() {
                return super::post::json_reply(frame, Era::Handshake);
            }
            let first = sse::event(Some((no, seq)), None, &frame);
            sse::response(sse::framed(no, vec![priming, first], rx))
        }
        None if lock(&session.routes).closed => unknown_session(),
        // The handler ended its stream before anything was sent: the
        // client resumes from the priming event.
        None => sse::response(sse::framed(no, vec![priming], rx)),
    }
}

/// GET: the session's stream for what belongs to no request, or, with
/// `Last-Event-ID`, the rest of the stream that id is from.
pub(crate) async fn get(State(ep): State<Arc<Endpoint>>, headers: HeaderMap) -> Response {
    if let Err(r) = check_origin(&ep.hosts, &headers) {
        return r.into_response();
    }
    if !accepts(&headers, "text/event-stream") {
        return refuse_with(
            StatusCode::NOT_ACCEPTABLE,
            codes::INVALID_REQUEST,
            "Accept must list text/event-stream",
        );
    }
    let Some(sid) = header(&headers, SESSION_ID) else {
        // 2026-07-28 has no GET stream (subscriptions/listen replaces it).
        return refuse_with(
            StatusCode::METHOD_NOT_ALLOWED,
            codes::INVALID_REQUEST,
            "GET needs an Mcp-Session-Id (2026-07-28 clients use subscriptions/listen)",
        );
    };
    if let Err(r) = check_version(&headers) {
        return r.into_response();
    }
    let Some(session) = ep.sessions.get(sid) else {
        return unknown_session();
    };
    let resume = header(&headers, LAST_EVENT_ID).and_then(sse::parse_event_id);
    let mut routes = lock(&session.routes);
    match resume {
        Some((no, seq)) if routes.streams.contains_key(&no) => {
            let rx = routes.log(no).attach(Some(seq));
            drop(routes);
            sse::response(sse::framed(no, Vec::new(), rx))
        }
        _ => {
            let log = routes.log(GET_STREAM);
            let last = log.last();
            let rx = log.attach(Some(last));
            drop(routes);
            let priming = sse::event(Some((GET_STREAM, last)), Some(ep.options.retry), b"");
            sse::response(sse::framed(GET_STREAM, vec![priming], rx))
        }
    }
}

/// DELETE: ends the session.
pub(crate) async fn delete(State(ep): State<Arc<Endpoint>>, headers: HeaderMap) -> Response {
    if let Err(r) = check_origin(&ep.hosts, &headers) {
        return r.into_response();
    }
    let Some(sid) = header(&headers, SESSION_ID) else {
        return refuse_with(
            StatusCode::BAD_REQUEST,
            codes::INVALID_REQUEST,
            "DELETE needs an Mcp-Session-Id",
        );
    };
    match ep.sessions.remove(sid) {
        Some(_) => StatusCode::OK.into_response(),
        None => unknown_session(),
    }
}
