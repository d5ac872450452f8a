//! The state one Streamable HTTP connection shares between its writer, its
//! request tasks and its GET stream: the pooled client, the session id, the
//! negotiated version, the requests in flight.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::Url;
use tokio::task::AbortHandle;

use super::config::HttpConfig;
use super::{header_value, inbound};
use crate::protocol::{Era, ProtocolVersion};
use crate::transport::{Closed, FrameKind, FrameMeta, Inbound, InboundSink, TransportControl};
use crate::{Error, Result};

/// The header carrying the session id (handshake era).
pub(crate) const SESSION_ID: &str = "mcp-session-id";
/// The header carrying the protocol version.
pub(crate) const PROTOCOL_VERSION: &str = "mcp-protocol-version";
/// Deadline for the DELETE sent on close.
const DELETE_DEADLINE: Duration = Duration::from_secs(2);

#[derive(Default)]
struct State {
    session_id: Option<HeaderValue>,
    /// The version `initialize` agreed (handshake era), as the session's
    /// frames after it say.
    handshake_version: Option<ProtocolVersion>,
    /// Request id → its task.
    in_flight: HashMap<i64, AbortHandle>,
    /// Requests in flight whose reply came on another stream (the GET
    /// stream), so a resumption in progress can stop.
    answered: HashSet<i64>,
    /// Background tasks (writer, GET stream, resumptions).
    tasks: Vec<AbortHandle>,
    get_listener: Option<AbortHandle>,
    /// The auth provider's latest `Authorization` value (sensitive).
    authorization: Option<HeaderValue>,
    /// The GET stream ended on a refusal no renewal fixed: a fingerprint
    /// of the `Authorization` it was refused with.
    get_refused_with: Option<u64>,
}

/// Compares credentials without keeping them.
fn fingerprint(authorization: Option<&str>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    authorization.hash(&mut h);
    h.finish()
}

/// One Streamable HTTP connection.
pub(crate) struct Conn {
    pub(crate) client: reqwest::Client,
    pub(crate) url: Url,
    pub(crate) config: HttpConfig,
    static_headers: HeaderMap,
    sink: Arc<dyn InboundSink>,
    state: Mutex<State>,
    closed: AtomicBool,
}

fn lock(m: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Builds the pooled client every request of one transport shares.
pub(crate) fn build_client(config: &HttpConfig) -> Result<reqwest::Client> {
    crate::http_client::builder(config.connect_timeout)
        .build()
        .map_err(|e| Error::config(format!("cannot build the HTTP client: {e}")))
}

/// The static headers, marked sensitive so they never show in logs.
pub(crate) fn static_headers(config: &HttpConfig) -> Result<HeaderMap> {
    let mut map = HeaderMap::new();
    for (name, value) in &config.headers {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| Error::config(format!("invalid HTTP header name {name:?}")))?;
        let mut v = HeaderValue::from_str(value)
            .map_err(|_| Error::config(format!("invalid value for HTTP header {name:?}")))?;
        v.set_sensitive(true);
        map.append(n, v);
    }
    Ok(map)
}

/// Parses the URL, failing with a config error.
pub(crate) fn parse_url(url: &str) -> Result<Url> {
    Url::parse(url)
        .map_err(|e| Error::config(format!("invalid URL {:?}: {e}", without_secrets(url))))
}

/// A URL that did not parse, for messages: the query and fragment shown
/// as `?…`, `user:password@` as `…@` (a config's `${VAR}` values often
/// land there).
fn without_secrets(url: &str) -> String {
    let (base, cut) = match url.find(['?', '#']) {
        Some(i) => (&url[..i], "?…"),
        None => (url, ""),
    };
    let base = match base.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split('/').next().unwrap_or_default();
            match authority.rfind('@') {
                Some(at) => format!("{scheme}://…@{}", &rest[at + 1..]),
                None => base.to_owned(),
            }
        }
        None => base.to_owned(),
    };
    format!("{base}{cut}")
}

impl Conn {
    pub(crate) fn new(config: HttpConfig, sink: Arc<dyn InboundSink>) -> Result<Conn> {
        Ok(Conn {
            client: build_client(&config)?,
            url: parse_url(&config.url)?,
            static_headers: static_headers(&config)?,
            config,
            sink,
            state: Mutex::new(State::default()),
            closed: AtomicBool::new(false),
        })
    }

    /// The URL without query or credentials, for logs.
    pub(crate) fn describe_url(&self) -> String {
        let mut u = self.url.clone();
        u.set_query(None);
        let _ = u.set_password(None);
        let _ = u.set_username("");
        u.to_string()
    }

    pub(crate) fn sink(&self) -> &dyn InboundSink {
        &*self.sink
    }

    pub(crate) fn sink_arc(&self) -> Arc<dyn InboundSink> {
        self.sink.clone()
    }

    pub(crate) fn legacy_config(&self) -> HttpConfig {
        self.config.clone()
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// Keeps a background task to abort on close.
    pub(crate) fn track(&self, task: AbortHandle) {
        let mut s = lock(&self.state);
        s.tasks.retain(|t| !t.is_finished());
        s.tasks.push(task);
    }

    /// Registers a request's task under its id, spawning it under the lock
    /// so its own removal cannot run first.
    pub(crate) fn spawn_in_flight<F>(&self, id: i64, fut: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        let mut s = lock(&self.state);
        let task = tokio::spawn(fut);
        if let Some(old) = s.in_flight.insert(id, task.abort_handle()) {
            old.abort();
        }
    }

    pub(crate) fn done_in_flight(&self, id: i64) {
        let mut s = lock(&self.state);
        s.in_flight.remove(&id);
        s.answered.remove(&id);
    }

    /// Notes a reply that arrived outside its request's own stream.
    pub(crate) fn note_reply_elsewhere(&self, frame: &[u8]) {
        if let Some(id) = inbound::reply_id(frame) {
            let mut s = lock(&self.state);
            if s.in_flight.contains_key(&id) {
                s.answered.insert(id);
            }
        }
    }

    /// True if the reply to `id` came on another stream.
    pub(crate) fn answered_elsewhere(&self, id: i64) -> bool {
        lock(&self.state).answered.contains(&id)
    }

    /// Handles a `notifications/cancelled` frame. In 2026-07-28, closing
    /// the request's stream *is* the cancellation: the POST is aborted and
    /// the notification not sent (returns true). In the handshake era the
    /// notification is posted too (returns false).
    pub(crate) fn cancel(&self, meta: &FrameMeta) -> bool {
        let Some(id) = meta.cancels else {
            return false;
        };
        let modern = lock(&self.state).handshake_version.is_none();
        if let Some(task) = lock(&self.state).in_flight.remove(&id) {
            task.abort();
            tracing::debug!(transport = %self.describe_url(), %id, "closed the response stream of a cancelled request");
        }
        modern
    }

    pub(crate) fn set_session_id(&self, id: Option<HeaderValue>) {
        let mut id = id;
        if let Some(v) = id.as_mut() {
            v.set_sensitive(true);
        }
        lock(&self.state).session_id = id;
    }

    /// The version the handshake agreed, once the session's frames say it
    /// (from `notifications/initialized` on); `None` in 2026-07-28.
    pub(crate) fn handshake_version(&self) -> Option<ProtocolVersion> {
        lock(&self.state).handshake_version
    }

    /// Notes the era a frame speaks: a handshake-era version on anything
    /// but `initialize` (which proposes one) is the agreed version.
    pub(crate) fn note_version(&self, meta: &FrameMeta) {
        if let Some(v) = meta.version.filter(|v| v.era() == Era::Handshake) {
            if meta.method != "initialize" {
                lock(&self.state).handshake_version = Some(v);
            }
        }
    }

    /// Sets the GET listener, aborting any previous one.
    pub(crate) fn set_listener(&self, task: Option<AbortHandle>) {
        let old = std::mem::replace(&mut lock(&self.state).get_listener, task);
        if let Some(old) = old {
            old.abort();
        }
    }

    /// The GET stream was refused, with `authorization`, in a way the
    /// auth provider could not fix; it has ended.
    pub(crate) fn note_get_refused(&self, authorization: Option<&str>) {
        lock(&self.state).get_refused_with = Some(fingerprint(authorization));
    }

    /// After a request succeeded with `authorization`: whether the GET
    /// stream, refused with other credentials, should be opened again. Says
    /// yes once per refusal.
    pub(crate) fn take_get_reopen(&self, authorization: Option<&str>) -> bool {
        let mut s = lock(&self.state);
        match s.get_refused_with {
            Some(refused) if refused != fingerprint(authorization) => {
                s.get_refused_with = None;
                true
            }
            _ => false,
        }
    }

    /// True while a GET stream task runs.
    pub(crate) fn has_listener(&self) -> bool {
        lock(&self.state)
            .get_listener
            .as_ref()
            .is_some_and(|t| !t.is_finished())
    }

    /// Headers for one POST of the message `meta` describes: the version
    /// it speaks (none on `initialize`; in the handshake era the agreed
    /// one), and in 2026-07-28 `Mcp-Method`, `Mcp-Name` and the extra
    /// headers the session put in its metadata (`Mcp-Param-*`), values
    /// encoded as the spec says.
    pub(crate) fn post_headers(&self, meta: &FrameMeta) -> HeaderMap {
        let mut h = self.base_headers();
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        h.insert(
            ACCEPT,
            HeaderValue::from_static("application/json, text/event-stream"),
        );
        let version = if meta.method == "initialize" {
            // A new handshake starts a new HTTP session: the old id (after
            // an expiry) stays for requests still in flight until the
            // reply brings the new one.
            h.remove(SESSION_ID);
            None
        } else {
            meta.version.or_else(|| self.handshake_version())
        };
        if let Some(v) = version {
            h.insert(PROTOCOL_VERSION, HeaderValue::from_static(v.as_str()));
        }
        let modern = meta.version.is_some_and(|v| v.era() == Era::Modern);
        if modern && meta.kind != FrameKind::Response {
            if let Ok(v) = HeaderValue::from_str(&header_value::encode(&meta.method)) {
                h.insert("mcp-method", v);
            }
            if let Some(name) = &meta.name {
                if let Ok(v) = HeaderValue::from_str(&header_value::encode(name)) {
                    h.insert("mcp-name", v);
                }
            }
            for (name, value) in &meta.headers {
                match (
                    HeaderName::from_bytes(name.as_bytes()),
                    HeaderValue::from_str(&header_value::encode(value)),
                ) {
                    (Ok(k), Ok(v)) => {
                        h.insert(k, v);
                    }
                    _ => tracing::debug!(header = %name, "not sending an invalid header"),
                }
            }
        }
        h
    }

    /// Static headers plus the session id and the auth provider's
    /// `Authorization`, once known.
    pub(crate) fn base_headers(&self) -> HeaderMap {
        let mut h = self.static_headers.clone();
        let (session, auth) = {
            let s = lock(&self.state);
            (s.session_id.clone(), s.authorization.clone())
        };
        if let Some(id) = session {
            h.insert(SESSION_ID, id);
        }
        if let Some(a) = auth {
            h.insert(AUTHORIZATION, a);
        }
        h
    }

    /// Adds the auth provider's proof of possession for a `method`
    /// request (a DPoP proof, RFC 9449) when `h` carries an
    /// `Authorization` the provider binds to a key.
    pub(crate) fn add_auth_proof(
        &self,
        method: &str,
        h: &mut HeaderMap,
    ) -> std::result::Result<(), String> {
        match self.config.auth.as_deref() {
            Some(auth) => crate::transport::auth::add_proof(auth, method, &self.url, h)
                .map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }

    /// Asks the auth provider, if any, for the current `Authorization`
    /// (it may refresh a token first) and keeps it for every request.
    pub(crate) async fn refresh_auth(&self) -> std::result::Result<(), String> {
        let Some(auth) = self.config.auth.as_deref() else {
            return Ok(());
        };
        let value = crate::transport::auth::authorization(auth, &self.url)
            .await
            .map_err(|e| e.to_string())?;
        lock(&self.state).authorization = value;
        Ok(())
    }

    /// Stops everything and tells the session, once.
    fn stop_tasks(&self) -> Option<HeaderValue> {
        let (tasks, session) = {
            let mut s = lock(&self.state);
            let mut tasks: Vec<AbortHandle> = s.in_flight.drain().map(|(_, t)| t).collect();
            tasks.append(&mut s.tasks);
            tasks.extend(s.get_listener.take());
            (tasks, s.session_id.take())
        };
        for t in tasks {
            t.abort();
        }
        session
    }

    fn deliver_closed(&self, reason: &str) {
        self.sink.deliver(Inbound::Closed(Closed {
            reason: reason.into(),
            stderr_tail: Vec::new(),
        }));
    }

    /// Graceful shutdown: abort streams, tell the session, DELETE the
    /// HTTP session (bounded; a 405 or any failure is fine).
    pub(crate) fn begin_close(&self, reason: &str) -> BoxFuture<'static, ()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Box::pin(async {});
        }
        let session = self.stop_tasks();
        self.deliver_closed(reason);
        let Some(id) = session else {
            return Box::pin(async {});
        };
        let mut h = self.static_headers.clone();
        h.insert(SESSION_ID, id);
        if let Some(a) = lock(&self.state).authorization.clone() {
            h.insert(reqwest::header::AUTHORIZATION, a);
        }
        if let Err(e) = self.add_auth_proof("DELETE", &mut h) {
            tracing::debug!("no DPoP proof for the DELETE: {e}");
        }
        if let Some(v) = self.handshake_version() {
            h.insert(PROTOCOL_VERSION, HeaderValue::from_static(v.as_str()));
        }
        let delete = self.client.delete(self.url.clone()).headers(h).send();
        let url = self.describe_url();
        Box::pin(async move {
            match tokio::time::timeout(DELETE_DEADLINE, delete).await {
                Ok(Ok(r)) => {
                    tracing::debug!(transport = %url, status = %r.status(), "ended the HTTP session")
                }
                Ok(Err(e)) => tracing::debug!(transport = %url, "DELETE failed: {e}"),
                Err(_) => tracing::debug!(transport = %url, "DELETE timed out"),
            }
        })
    }

    /// The session dropped its sender: close. Runs from the writer task,
    /// which closing aborts, so the DELETE goes on a task of its own.
    pub(crate) async fn shutdown(&self) {
        let delete = self.begin_close("the client closed the connection");
        let _ = tokio::spawn(delete).await;
    }
}

impl TransportControl for Conn {
    fn close(&self) -> BoxFuture<'static, ()> {
        self.begin_close("the client closed the connection")
    }

    fn kill(&self) {
        // Best effort: the DELETE runs on the current runtime, if any.
        let delete = self.begin_close("the transport was stopped");
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(delete);
        }
    }

    fn stderr_tail(&self) -> Vec<String> {
        Vec::new()
    }

    fn describe(&self) -> String {
        format!("streamable http: {}", self.describe_url())
    }

    fn era_key(&self) -> Option<String> {
        let u = &self.url;
        Some(format!(
            "{}://{}:{}{}",
            u.scheme(),
            u.host_str()?,
            u.port_or_known_default()?,
            u.path()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unparsable_url_is_shown_without_its_secrets() {
        let e = parse_url("http://user:s3cret@exa mple.com/mcp?token=s3cret").unwrap_err();
        let text = e.to_string();
        assert!(!text.contains("s3cret"), "{text}");
        assert!(text.contains("http://…@exa mple.com/mcp?…"), "{text}");
        assert_eq!(without_secrets("not a url"), "not a url");
    }
}
