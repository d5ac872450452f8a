//! Per-call settings ([`CallOptions`]). What a plain call reads (its
//! deadlines and progress callback) is kept inline; the rest, which few
//! callers set (a gateway relaying rounds, a task poller, explicit trace
//! context), lives in one boxed [`Rare`], so a plain call's options stay
//! small to move through the call's futures and cost one branch to drop.

use std::sync::Arc;
use std::time::Duration;

use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::handlers::{Handlers, ProgressCallback};
use crate::protocol::{ClientCapabilities, LoggingLevel, ProgressNotificationParams, TraceContext};

/// Per-call settings: deadlines, progress, extra `_meta`, and how a
/// 2026-07-28 call's input-required rounds are met. Default
/// ([`CallOptions::new`]): the client's deadlines and handlers, no
/// callbacks, nothing extra sent.
#[derive(Clone, Default)]
pub struct CallOptions {
    pub(crate) timeout: Option<Duration>,
    pub(crate) max_time: Option<Duration>,
    pub(crate) on_progress: Option<ProgressCallback>,
    /// `None` until a builder method below the progress callback is used.
    rare: Option<Box<Rare>>,
}

/// The settings a plain call does not use (see the module docs).
#[derive(Clone, Default)]
pub(crate) struct Rare {
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
/// declares them: its own asks, and without the tasks extension; `None`
/// when `rare` changes nothing (the client's stand).
pub(super) fn declared_for(base: &RawValue, rare: &Rare) -> Option<Box<RawValue>> {
    let asks = rare.asks.as_deref();
    if asks.is_none() && rare.tasks != Some(false) {
        return None;
    }
    let mut caps: Map<String, Value> = serde_json::from_str(base.get()).ok()?;
    if let Some(asks) = asks {
        asks.apply(&mut caps);
    }
    if rare.tasks == Some(false) {
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

    /// The settings a plain call leaves unset, if any was set.
    pub(crate) fn rare(&self) -> Option<&Rare> {
        self.rare.as_deref()
    }

    fn rare_mut(&mut self) -> &mut Rare {
        self.rare.get_or_insert_with(Box::default)
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
        self.rare_mut().on_task = Some(Arc::new(f));
        self
    }
    /// (2026-07-28) Whether this request declares the tasks extension
    /// (`extensions["io.modelcontextprotocol/tasks"]` in its
    /// capabilities): a caller that passes calls on for a client that does
    /// not accept tasks (a gateway) declares as that client did, so a tool
    /// that needs one is refused as it would be. Default: declared (a task
    /// is followed to its end by the call).
    pub fn declare_tasks(mut self, declared: bool) -> Self {
        self.rare_mut().tasks = Some(declared);
        self
    }
    /// Extra `_meta` entries to send. A `traceparent` among them replaces
    /// the trace context the call would carry.
    pub fn meta(mut self, meta: Map<String, Value>) -> Self {
        self.rare_mut().meta = Some(meta);
        self
    }
    /// Sends this call (and its rounds' retries) in trace `ctx`
    /// (SEP-414: `traceparent`, `tracestate`, `baggage` in `_meta`).
    /// Default: the current context of [`crate::trace::current`], for a
    /// call made on a task of its own that the caller's scope does not
    /// reach.
    pub fn trace_context(mut self, ctx: TraceContext) -> Self {
        self.rare_mut().trace = Some(ctx);
        self
    }
    /// (2026-07-28) Asks the server for log messages of this call at
    /// `level` and above, over the client's
    /// [`set_log_level`](crate::Client::set_log_level). Default: the
    /// client's level. (Handshake-era servers log per connection.)
    pub fn log_level(mut self, level: LoggingLevel) -> Self {
        self.rare_mut().log_level = Some(level);
        self
    }
    /// (2026-07-28) Answers this call's input-required rounds with these
    /// handlers; a kind they lack goes to the client's own. The client's
    /// handlers still decide which capabilities are declared, and
    /// handshake-era server requests, which no call owns, always go to the
    /// client's. Default: the client's handlers.
    pub fn handlers(mut self, handlers: Handlers) -> Self {
        self.rare_mut().handlers = Some(Arc::new(handlers));
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
        self.rare_mut().asks = Some(Arc::new(AsksDeclared {
            sampling: value(serde_json::to_value(&asks.sampling).ok()),
            elicitation: value(serde_json::to_value(&asks.elicitation).ok()),
            roots: value(serde_json::to_value(&asks.roots).ok()),
        }));
        self
    }
    /// (2026-07-28) Ends the call at an `input_required` result with
    /// [`Error::InputRequired`](crate::Error::InputRequired) (the asks and
    /// `requestState` as the server sent them) instead of answering it:
    /// for a caller that passes the round on to someone else, as a
    /// gateway does. Default: rounds are answered through the handlers.
    pub fn relay_input_required(mut self) -> Self {
        self.rare_mut().relay_input = true;
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
        self.rare_mut().resume = Some(Resume {
            input_responses,
            request_state,
        });
        self
    }
}

impl std::fmt::Debug for CallOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let unset = Rare::default();
        let rare = self.rare().unwrap_or(&unset);
        f.debug_struct("CallOptions")
            .field("timeout", &self.timeout)
            .field("max_time", &self.max_time)
            .field("on_progress", &self.on_progress.is_some())
            .field("meta", &rare.meta)
            .field("log_level", &rare.log_level)
            .field("handlers", &rare.handlers.is_some())
            .field("relay_input", &rare.relay_input)
            .field("resume", &rare.resume.is_some())
            .field("asks", &rare.asks)
            .field("trace", &rare.trace)
            .field("on_task", &rare.on_task.is_some())
            .field("tasks", &rare.tasks)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_calls_options_are_small_and_the_rest_is_boxed() {
        // Moved through every future of a call: keep them a few words.
        assert!(std::mem::size_of::<CallOptions>() <= 64);
        let plain = CallOptions::new()
            .timeout(Duration::from_secs(1))
            .max_time(Duration::from_secs(2))
            .on_progress(|_| {});
        assert!(plain.rare().is_none());
        let relayed = plain.relay_input_required();
        assert!(relayed.rare().is_some_and(|r| r.relay_input));
    }
}
