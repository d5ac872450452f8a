//! GET streams (handshake era): the standalone stream that carries server
//! requests and notifications, and resuming a request's stream that broke
//! before its reply (`Last-Event-ID`). Both reconnect after the server's
//! `retry:` (default 1 s, never less than 100 ms), backing off
//! exponentially with jitter, and give up after a few attempts in a row
//! that brought nothing (`HttpConfig::max_reconnects`, default 5): for the
//! standalone stream, no message (an `id:` or `retry:` alone is not one).

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderValue, ACCEPT, CONTENT_TYPE};

use super::body::{self, StreamEnd};
use super::conn::{Conn, PROTOCOL_VERSION};
use super::post::read_until_reply;
use crate::transport::auth::{self, AuthStep};
use crate::transport::sse_parse::{SseItem, SseParser};
use crate::transport::{FrameMeta, Inbound, InboundSink};

/// The wait before reconnecting when the server set no `retry:`.
const DEFAULT_RETRY: Duration = Duration::from_secs(1);
/// The longest wait between attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The shortest wait before reconnecting, whatever `retry:` the server
/// set: with `retry: 0` a stream that ends at once would otherwise be
/// reopened hundreds of times a second.
const MIN_RETRY: Duration = Duration::from_millis(100);
/// Up to this fraction is added to each wait, so that clients cut off
/// together do not come back together.
const JITTER: f64 = 0.25;

/// Why a GET stream could not be opened.
pub(crate) enum OpenError {
    /// 405/404/400: the server has no GET stream (or cannot resume).
    NotOffered(u16),
    /// Authorizing failed, or the server refused (401/403) what the auth
    /// provider gave and the provider could not renew it: opening again
    /// with the same credentials would not help.
    Unauthorized {
        /// The refusal's status (none when the provider failed first).
        status: Option<u16>,
        /// What happened.
        message: String,
        /// The `Authorization` refused (a secret: compare, never log).
        sent: Option<String>,
    },
    /// Anything else.
    Failed(String),
}

impl OpenError {
    /// The HTTP status that ended the attempt, if any.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            OpenError::NotOffered(s) => Some(*s),
            OpenError::Unauthorized { status, .. } => *status,
            OpenError::Failed(_) => None,
        }
    }
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::NotOffered(s) => write!(f, "the server offers no GET stream (HTTP {s})"),
            OpenError::Unauthorized { message, .. } => f.write_str(message),
            OpenError::Failed(e) => f.write_str(e),
        }
    }
}

/// The wait before attempt `misses` (attempts in a row that brought
/// nothing): the retry (at least [`MIN_RETRY`]), doubling from the second.
fn backoff(retry: Duration, misses: u32) -> Duration {
    let retry = retry.max(MIN_RETRY);
    if misses <= 1 {
        return retry;
    }
    retry
        .saturating_mul(1 << (misses - 1).min(10))
        .min(MAX_BACKOFF.max(retry))
}

/// `wait` plus up to [`JITTER`] of it.
fn jittered(wait: Duration) -> Duration {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    // splitmix64 of the time and a counter: spread, not secret.
    let mut z = nanos
        .wrapping_add(SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let unit = (z >> 11) as f64 / (1u64 << 53) as f64;
    wait.mul_f64(1.0 + JITTER * unit)
}

/// GETs the stream (resuming after `last_event_id`), with the auth
/// provider's current credentials; a 401/403 goes to the provider and,
/// when it renewed them, the GET is sent again (bounded).
async fn open(conn: &Conn, last_event_id: Option<&str>) -> Result<reqwest::Response, OpenError> {
    let mut auth_rounds = 0;
    let idle = conn.config.message_idle();
    let (resp, sent_auth) = loop {
        let unauthorized = |message: String| OpenError::Unauthorized {
            status: None,
            message: format!("authorization failed: {message}"),
            sent: None,
        };
        conn.refresh_auth().await.map_err(unauthorized)?;
        let mut h = conn.base_headers();
        conn.add_auth_proof("GET", &mut h).map_err(unauthorized)?;
        h.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        if let Some(v) = conn.handshake_version() {
            h.insert(PROTOCOL_VERSION, HeaderValue::from_static(v.as_str()));
        }
        if let Some(id) = last_event_id.and_then(|v| HeaderValue::from_str(v).ok()) {
            h.insert("last-event-id", id);
        }
        let sent_auth = auth::sent_authorization(&h);
        let send = conn.client.get(conn.url.clone()).headers(h).send();
        let resp = match tokio::time::timeout(idle, send).await {
            Err(_) => {
                return Err(OpenError::Failed(format!(
                    "no HTTP response within {idle:?}"
                )))
            }
            Ok(Err(e)) => return Err(OpenError::Failed(body::error_chain(&e.without_url()))),
            Ok(Ok(r)) => r,
        };
        let step = auth::on_response(
            conn.config.auth.as_deref(),
            &conn.url,
            &resp,
            sent_auth.as_deref(),
            &mut auth_rounds,
        )
        .await;
        match step {
            AuthStep::Retry => continue,
            AuthStep::Proceed => break (resp, sent_auth),
            AuthStep::Failed(e) => {
                return Err(OpenError::Unauthorized {
                    status: Some(resp.status().as_u16()),
                    message: format!("authorization failed: {}", auth::detail(e)),
                    sent: sent_auth,
                })
            }
        }
    };
    let status = resp.status();
    if matches!(status.as_u16(), 400 | 404 | 405) {
        return Err(OpenError::NotOffered(status.as_u16()));
    }
    if matches!(status.as_u16(), 401 | 403) {
        let message = match (conn.config.auth.is_some(), auth_rounds) {
            (false, _) => format!("GET answered HTTP {status}"),
            (true, 0) => format!("GET answered HTTP {status}, which the auth provider could not fix"),
            (true, n) => format!(
                "GET answered HTTP {status} again after the auth provider renewed the credentials {n} times"
            ),
        };
        return Err(OpenError::Unauthorized {
            status: Some(status.as_u16()),
            message,
            sent: sent_auth,
        });
    }
    let is_sse = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().contains("text/event-stream"));
    if !status.is_success() || !is_sse {
        return Err(OpenError::Failed(format!(
            "GET answered HTTP {status} without an event stream"
        )));
    }
    Ok(resp)
}

/// The longest the writer waits for the GET stream to open before it posts
/// anything else (servers send requests unrelated to a POST only there).
const LISTENER_OPEN_WAIT: Duration = Duration::from_secs(2);

/// Opens the standalone GET stream once the session is initialized
/// (handshake era only; 2026-07-28 has none), and waits a little for it
/// to be open, so that messages the server sends on it right after the
/// handshake are not lost.
pub(crate) async fn start_listener(conn: &Arc<Conn>) {
    if conn.handshake_version().is_none() || conn.is_closed() {
        return;
    }
    let c = conn.clone();
    let (opened_tx, opened_rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move { listen(c, opened_tx).await });
    conn.set_listener(Some(task.abort_handle()));
    let _ = tokio::time::timeout(LISTENER_OPEN_WAIT, opened_rx).await;
}

/// Hands a stream's event to the session; true if it was a message.
fn deliver_unsolicited(conn: &Conn, item: SseItem) -> bool {
    match item {
        SseItem::Event { event, data } => {
            if (event.is_empty() || event == "message") && !data.trim_ascii().is_empty() {
                conn.note_reply_elsewhere(&data);
                conn.sink().deliver(Inbound::Frame(data));
                return true;
            }
            false
        }
        SseItem::Oversized { size, head, tail } => {
            conn.sink().deliver(Inbound::Oversized { size, head, tail });
            true
        }
    }
}

async fn listen(conn: Arc<Conn>, opened: tokio::sync::oneshot::Sender<()>) {
    let mut opened = Some(opened);
    let url = conn.describe_url();
    let mut last: Option<String> = None;
    let mut retry = DEFAULT_RETRY;
    let mut misses = 0u32;
    let mut was_open = false;
    loop {
        let attempt = open(&conn, last.as_deref()).await;
        if let Some(tx) = opened.take() {
            let _ = tx.send(());
        }
        match attempt {
            Ok(resp) => {
                was_open = true;
                tracing::debug!(transport = %url, "GET stream open");
                let mut parser = SseParser::new(conn.config.max_message_size);
                parser.set_last_event_id(last.clone());
                let mut delivered = false;
                let end = body::read_events(resp, &mut parser, None, |item, _| {
                    delivered |= deliver_unsolicited(&conn, item);
                    true
                })
                .await;
                // Only a message counts: a stream that sets `retry:` and
                // `id:` and ends is reopened a bounded number of times.
                if delivered {
                    misses = 0;
                } else {
                    misses += 1;
                }
                last = parser.last_event_id().map(str::to_owned);
                retry = parser.retry().unwrap_or(retry);
                if let StreamEnd::Failed(e) = end {
                    tracing::debug!(transport = %url, "GET stream broke: {e}");
                }
            }
            Err(OpenError::NotOffered(status)) if !was_open => {
                tracing::debug!(transport = %url, status, "the server offers no GET stream");
                return;
            }
            Err(OpenError::Unauthorized { message, sent, .. }) => {
                // Reopening with credentials the server refuses would
                // only spin: the stream ends here (requests go on, and
                // report their own refusals). A request that later
                // succeeds with other credentials opens it again.
                tracing::warn!(transport = %url, "closing the GET stream: {message}");
                conn.note_get_refused(sent.as_deref());
                return;
            }
            Err(e) => {
                misses += 1;
                tracing::debug!(transport = %url, "GET stream: {e}");
            }
        }
        if conn.is_closed() {
            return;
        }
        if misses > conn.config.max_reconnects {
            tracing::warn!(transport = %url, attempts = misses, "closing the GET stream: it was opened {misses} times in a row without bringing a message (requests go on without it)");
            return;
        }
        tokio::time::sleep(jittered(backoff(retry, misses.max(1)))).await;
    }
}

/// Resumes the stream of request `meta` from `last` until its reply comes.
pub(crate) async fn resume(
    conn: &Arc<Conn>,
    meta: &FrameMeta,
    sink: &dyn InboundSink,
    last: String,
    retry: Option<Duration>,
) -> Result<(), OpenError> {
    let mut last = last;
    let mut retry = retry.unwrap_or(DEFAULT_RETRY);
    let mut misses = 0u32;
    // Even a stream that keeps making progress without the reply ends.
    let mut budget = conn.config.max_reconnects.saturating_mul(10).max(1);
    loop {
        if budget == 0 {
            return Err(OpenError::Failed(
                "gave up: too many reconnects without the reply".into(),
            ));
        }
        budget -= 1;
        tokio::time::sleep(jittered(backoff(retry, misses.max(1)))).await;
        if meta.id.is_some_and(|id| conn.answered_elsewhere(id)) {
            return Ok(());
        }
        match open(conn, Some(&last)).await {
            Ok(resp) => {
                let mut parser = SseParser::new(conn.config.max_message_size);
                parser.set_last_event_id(Some(last.clone()));
                let (got, end) = read_until_reply(conn, resp, &mut parser, meta, sink).await;
                if got {
                    return Ok(());
                }
                if parser.take_activity() {
                    misses = 0;
                } else {
                    misses += 1;
                }
                if let Some(id) = parser.last_event_id() {
                    last = id.to_owned();
                }
                retry = parser.retry().unwrap_or(retry);
                if let StreamEnd::Failed(e) = end {
                    tracing::debug!(transport = %conn.describe_url(), "resumed stream broke: {e}");
                }
            }
            Err(e @ (OpenError::NotOffered(_) | OpenError::Unauthorized { .. })) => return Err(e),
            Err(e) => {
                misses += 1;
                tracing::debug!(transport = %conn.describe_url(), "resuming: {e}");
            }
        }
        if misses > conn.config.max_reconnects {
            return Err(OpenError::Failed(format!(
                "gave up after {misses} attempts that brought nothing"
            )));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_waits_the_retry_first_then_doubles_within_a_cap() {
        let r = Duration::from_millis(500);
        assert_eq!(backoff(r, 0), r);
        assert_eq!(backoff(r, 1), r);
        assert_eq!(backoff(r, 2), r * 2);
        assert_eq!(backoff(r, 3), r * 4);
        assert_eq!(backoff(r, 30), MAX_BACKOFF);
    }

    #[test]
    fn a_zero_retry_waits_the_floor_and_jitter_only_adds() {
        assert_eq!(backoff(Duration::ZERO, 1), MIN_RETRY);
        assert_eq!(backoff(Duration::ZERO, 3), MIN_RETRY * 4);
        for _ in 0..100 {
            let w = jittered(MIN_RETRY);
            assert!(
                w >= MIN_RETRY && w <= MIN_RETRY.mul_f64(1.0 + JITTER),
                "{w:?}"
            );
        }
    }
}
