//! The reader side: every inbound frame is classified here, on the
//! transport's task. Replies complete their waiter; notifications go to
//! their callbacks; server requests (handshake era) are answered on tasks
//! of their own so a slow handler never holds up the connection.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

use super::log_budget::Admit;
use super::{answer, lock, oversized, Shared, GARBAGE_BEFORE_ANY};
use crate::protocol::jsonrpc::{self, Incoming};
use crate::protocol::{
    LoggingLevel, LoggingMessageNotificationParams, ProgressNotificationParams, ProgressToken,
    SubscriptionsAcknowledgedParams,
};
use crate::session::handlers::ServerNotification;
use crate::session::messages::{self, ServerMessage};
use crate::transport::{Inbound, InboundSink};
use crate::Error;

pub(crate) struct Dispatcher {
    shared: Arc<Shared>,
    /// An oversized response reported before its end whose id was not in
    /// its head (it may be in its tail).
    open_oversized: Mutex<Option<oversized::Head>>,
}

impl Dispatcher {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Dispatcher {
            shared,
            open_oversized: Mutex::new(None),
        }
    }

    fn frame(&self, frame: Bytes) {
        match jsonrpc::for_each_message(&frame, |m| self.message(m)) {
            Ok(()) => {
                let seen = &self.shared.diag.valid_seen;
                if !seen.load(Ordering::Relaxed) {
                    seen.store(true, Ordering::Relaxed);
                }
            }
            Err(e) => {
                let d = &self.shared.diag;
                let count = d.garbage.fetch_add(1, Ordering::Relaxed) + 1;
                let sample: String =
                    String::from_utf8_lossy(&frame[..frame.len().min(200)]).into_owned();
                if d.first_garbage.get().is_none() {
                    let _ = d.first_garbage.set(sample.clone());
                }
                if count == GARBAGE_BEFORE_ANY && !d.valid_seen.load(Ordering::Relaxed) {
                    d.not_mcp.notify_one();
                }
                if let Admit::Log { suppressed } = d.garbage_log.admit() {
                    report_unlogged_garbage(&self.shared, suppressed);
                    tracing::warn!(server = %self.shared.name, error = %e.0, "ignoring a message that is not JSON-RPC: {sample:?}");
                }
                *lock(&d.last_garbage) = Some(sample);
            }
        }
    }

    fn message(&self, message: Incoming) {
        match message {
            Incoming::Response {
                id,
                raw_id,
                outcome,
            } => {
                let outcome = outcome.map_err(Error::from);
                let delivered = id.is_some_and(|id| self.shared.pending.complete(id, outcome));
                if !delivered {
                    self.shared.diag.unknown_ids.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(server = %self.shared.name, id = %String::from_utf8_lossy(&raw_id), "ignoring a response nobody waits for (late, cancelled or unknown id)");
                }
            }
            Incoming::Notification { method, params } => self.notification(method, params),
            Incoming::Request { id, method, params } => {
                answer::spawn_server_request(self.shared.clone(), id, method, params)
            }
        }
    }

    fn notification(&self, method: String, params: Option<Bytes>) {
        let shared = &self.shared;
        match method.as_str() {
            "notifications/progress" => {
                let Some(p) = params
                    .and_then(|p| serde_json::from_slice::<ProgressNotificationParams>(&p).ok())
                else {
                    tracing::debug!(server = %shared.name, "ignoring malformed progress notification");
                    return;
                };
                let routed = match &p.progress_token {
                    ProgressToken::Number(n) => shared.pending.progress(*n, &p),
                    ProgressToken::String(s) => {
                        s.parse().is_ok_and(|n| shared.pending.progress(n, &p))
                    }
                };
                if !routed {
                    tracing::trace!(server = %shared.name, "progress for a finished request");
                }
                self.deliver(ServerMessage::Progress(&p));
            }
            "notifications/message" => {
                let Some(p) = params.and_then(|p| {
                    serde_json::from_slice::<LoggingMessageNotificationParams>(&p).ok()
                }) else {
                    tracing::debug!(server = %shared.name, "ignoring malformed log notification");
                    return;
                };
                log_to_tracing(&shared.name, &p);
                self.deliver(ServerMessage::Log(&p));
            }
            "notifications/cancelled" => {
                let request = params
                    .and_then(|p| serde_json::from_slice::<Value>(&p).ok())
                    .and_then(|v| v.get("requestId").cloned());
                if let Some(request) = request {
                    let key = request.to_string();
                    if let Some(task) = lock(&shared.server_requests).remove(&key) {
                        task.abort();
                        tracing::debug!(server = %shared.name, id = %key, "server cancelled its request");
                        return;
                    }
                }
                self.other(method, None);
            }
            _ => self.other(method, params),
        }
    }

    fn other(&self, method: String, params: Option<Bytes>) {
        let params = params
            .and_then(|p| serde_json::from_slice(&p).ok())
            .unwrap_or(Value::Null);
        tracing::debug!(server = %self.shared.name, %method, "notification");
        if !self.of_current_subscription(&method, &params) {
            return;
        }
        let notification = ServerNotification { method, params };
        for handler in &self.shared.handlers.messages {
            handler.on_notification(&self.shared.name, &notification);
        }
        self.deliver(messages::classify(&notification));
    }

    /// 2026-07-28 subscriptions: a message that names a subscription
    /// (`_meta` `subscriptionId`, the id of the `subscriptions/listen`
    /// request) counts only when it is the current one; a replaced or
    /// cancelled listen's stragglers are dropped. The acknowledgement is
    /// logged, not delivered.
    fn of_current_subscription(&self, method: &str, params: &Value) -> bool {
        let current = super::lock(&self.shared.listen).as_ref().map(|s| s.id);
        match subscription_verdict(method, params, current) {
            Verdict::Deliver => true,
            Verdict::Acknowledged => {
                tracing::debug!(server = %self.shared.name, id = ?current, agreed = %params, "subscription acknowledged");
                let agreed = SubscriptionsAcknowledgedParams::deserialize(params)
                    .map(|p| p.notifications)
                    .unwrap_or_default();
                if let Some(subscription) = super::lock(&self.shared.listen).as_mut() {
                    if Some(subscription.id) == current {
                        subscription.acknowledge(&self.shared.name, &agreed);
                    }
                }
                false
            }
            Verdict::Stale => {
                tracing::debug!(server = %self.shared.name, %method, ?current, "dropping a message of another subscription");
                false
            }
        }
    }

    fn deliver(&self, message: ServerMessage<'_>) {
        for handler in &self.shared.handlers.messages {
            messages::deliver(handler.as_ref(), &self.shared.name, message);
        }
    }

    /// A discarded message: reported whole (head and tail), or first when
    /// it passed the limit (`tail` empty: it may never end) and then at its
    /// end (`head` empty), as the stdio transport does.
    fn oversized(&self, size: usize, head: &[u8], tail: &[u8]) {
        let limit = self.shared.options.max_message_size;
        if head.is_empty() {
            // The end of one reported already: settled then, unless only
            // its tail can name the call.
            let Some(open) = lock(&self.open_oversized).take() else {
                return;
            };
            tracing::debug!(server = %self.shared.name, size, limit, "the oversized message ended");
            let id = open.response.then(|| oversized::tail_id(tail)).flatten();
            self.settle_oversized(id, size, limit);
            return;
        }
        tracing::warn!(server = %self.shared.name, size, limit, "discarding an oversized message");
        let head = oversized::scan_head(head);
        if tail.is_empty() && head.response && head.id.is_none() {
            // Its id may come last: wait for the end.
            *lock(&self.open_oversized) = Some(head);
            return;
        }
        *lock(&self.open_oversized) = None;
        let id = match head.id {
            Some(_) => head.response_id(),
            None if head.response => oversized::tail_id(tail),
            None => None,
        };
        self.settle_oversized(id, size, limit);
    }

    /// Fails the call an oversized message answered, or counts it as garbage.
    fn settle_oversized(&self, id: Option<i64>, size: usize, limit: usize) {
        match id {
            Some(id) if self.shared.pending.contains(id) => {
                self.shared
                    .pending
                    .complete(id, Err(Error::MessageTooLarge { size, limit }));
            }
            _ => {
                self.shared.diag.garbage.fetch_add(1, Ordering::Relaxed);
                *lock(&self.shared.diag.last_garbage) =
                    Some(format!("<{size}-byte message over the {limit}-byte limit>"));
            }
        }
    }

    fn closed(&self, closed: crate::transport::Closed) {
        tracing::debug!(server = %self.shared.name, reason = %closed.reason, "transport closed");
        self.shared.mark_closed(closed);
    }
}

/// One line for the garbage that was counted but not logged (with the next
/// one logged, and when the session ends).
pub(super) fn report_unlogged_garbage(shared: &Shared, n: u64) {
    if n > 0 {
        let window = shared.diag.garbage_log.window();
        tracing::warn!(server = %shared.name, count = n, "ignored {n} more messages that are not JSON-RPC (at most a few are logged per {window:?})");
    }
}

impl InboundSink for Dispatcher {
    fn deliver(&self, event: Inbound) {
        match event {
            Inbound::Frame(frame) => self.frame(frame),
            Inbound::Oversized { size, head, tail } => self.oversized(size, &head, &tail),
            Inbound::Failed { id, error } => self.failed(id, error),
            Inbound::Closed(closed) => self.closed(closed),
        }
    }
}

impl Dispatcher {
    /// The transport could not carry request `id` or its reply: its waiter
    /// gets the typed error (retries are decided by the waiter, `retry.rs`).
    fn failed(&self, id: i64, error: crate::transport::TransportError) {
        tracing::debug!(server = %self.shared.name, id, %error, "the transport failed a request");
        if !self
            .shared
            .pending
            .complete(id, Err(Error::Transport(error)))
        {
            tracing::debug!(server = %self.shared.name, id, "the failed request was no longer waited for");
        }
    }
}

fn log_to_tracing(server: &str, p: &LoggingMessageNotificationParams) {
    let logger = p.logger.as_deref().unwrap_or("");
    let data = &p.data;
    match p.level {
        LoggingLevel::Debug => {
            tracing::debug!(target: "switchboard::server_log", server, logger, %data)
        }
        LoggingLevel::Info | LoggingLevel::Notice => {
            tracing::info!(target: "switchboard::server_log", server, logger, %data)
        }
        LoggingLevel::Warning => {
            tracing::warn!(target: "switchboard::server_log", server, logger, %data)
        }
        _ => {
            tracing::error!(target: "switchboard::server_log", server, logger, level = %p.level, %data)
        }
    }
}

/// What to do with a notification, given the current listen's id.
#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// Not tied to a subscription, or tied to the current one.
    Deliver,
    /// The current subscription's acknowledgement (logged only).
    Acknowledged,
    /// Names another (replaced, cancelled or unknown) subscription.
    Stale,
}

/// A message naming a subscription (`_meta` `subscriptionId`, the id of the
/// `subscriptions/listen` request) counts only for the current listen.
fn subscription_verdict(method: &str, params: &Value, current: Option<i64>) -> Verdict {
    let Some(named) = params
        .get("_meta")
        .and_then(|m| m.get(crate::protocol::version::meta::SUBSCRIPTION_ID))
    else {
        return Verdict::Deliver;
    };
    let named = match named {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    };
    if named.is_none() || named != current {
        return Verdict::Stale;
    }
    if method == "notifications/subscriptions/acknowledged" {
        return Verdict::Acknowledged;
    }
    Verdict::Deliver
}

#[cfg(test)]
mod subscription_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_are_demultiplexed_by_subscription_id() {
        let updated = "notifications/resources/updated";
        let tagged = |id: Value| json!({"uri": "a://b", "_meta": {"io.modelcontextprotocol/subscriptionId": id}});
        assert_eq!(
            subscription_verdict(updated, &json!({"uri": "a://b"}), None),
            Verdict::Deliver
        );
        assert_eq!(
            subscription_verdict(updated, &tagged(json!(7)), Some(7)),
            Verdict::Deliver
        );
        assert_eq!(
            subscription_verdict(updated, &tagged(json!("7")), Some(7)),
            Verdict::Deliver
        );
        assert_eq!(
            subscription_verdict(updated, &tagged(json!(6)), Some(7)),
            Verdict::Stale
        );
        assert_eq!(
            subscription_verdict(updated, &tagged(json!(7)), None),
            Verdict::Stale
        );
        assert_eq!(
            subscription_verdict(updated, &tagged(json!({"x": 1})), Some(7)),
            Verdict::Stale
        );
        assert_eq!(
            subscription_verdict(
                "notifications/subscriptions/acknowledged",
                &tagged(json!(7)),
                Some(7)
            ),
            Verdict::Acknowledged
        );
    }
}
