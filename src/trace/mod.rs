//! Which trace the current work belongs to, so that every request sent
//! from it carries W3C Trace Context in `_meta` (SEP-414) and the server on
//! the other end joins the trace.
//!
//! The current context is, first, the current `tracing` span's
//! OpenTelemetry context when the `otel` feature is on and the span has
//! one; else the one [`scope`] set for the running task. The server core
//! scopes each request's handler in the context the request carried, so a
//! server that calls other servers (the gateway, an agent tool) passes its
//! caller's trace on without a line of code. Without either, requests
//! carry none.
//!
//! ```
//! # async fn demo(client: switchboard::Client) -> switchboard::Result<()> {
//! use switchboard::trace::{self, TraceContext};
//!
//! let ctx = TraceContext::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
//! // Every request `client` sends in here carries this traceparent.
//! trace::scope(ctx, client.list_tools()).await?;
//! # Ok(())
//! # }
//! ```

#[cfg(feature = "otel")]
pub mod otel;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

pub use crate::protocol::TraceContext;

tokio::task_local! {
    static CURRENT: Option<TraceContext>;
}

/// Whether any scope with a context has been entered in this process:
/// until one has, [`current`] is `None` at the cost of one load (it runs
/// for every request sent).
static EVER_SCOPED: AtomicBool = AtomicBool::new(false);

fn scoped(ctx: &Option<TraceContext>) {
    if ctx.is_some() && !EVER_SCOPED.load(Ordering::Relaxed) {
        EVER_SCOPED.store(true, Ordering::Relaxed);
    }
}

/// Runs `work` with `ctx` as the current trace context of its task
/// (`None` hides an outer one). Nested scopes stack; the context ends with
/// `work`. A task spawned from `work` does not inherit it: pass
/// [`current`] along.
pub async fn scope<F: Future>(ctx: Option<TraceContext>, work: F) -> F::Output {
    scoped(&ctx);
    CURRENT.scope(ctx, work).await
}

/// The trace a server request's handler runs in: the scope of [`scope`]
/// with the context the request carried, and with `otel` a server span,
/// its child, named after the method.
pub(crate) struct Serving {
    ctx: Option<TraceContext>,
    #[cfg(feature = "otel")]
    span: tracing::Span,
}

impl Serving {
    /// For a request of `method` that carried `ctx`.
    pub(crate) fn new(ctx: Option<TraceContext>, method: &str) -> Serving {
        scoped(&ctx);
        #[cfg(not(feature = "otel"))]
        let _ = method;
        Serving {
            #[cfg(feature = "otel")]
            span: otel::server_span(method, ctx.as_ref()),
            ctx,
        }
    }

    /// Runs `work` in it.
    pub(crate) fn run<F: Future>(self, work: F) -> impl Future<Output = F::Output> {
        let scoped = CURRENT.scope(self.ctx, work);
        #[cfg(feature = "otel")]
        let scoped = tracing::Instrument::instrument(scoped, self.span);
        scoped
    }
}

/// The current trace context: the current span's OpenTelemetry context
/// (feature `otel`), else the innermost [`scope`]'s, else none.
pub fn current() -> Option<TraceContext> {
    let scoped = if EVER_SCOPED.load(Ordering::Relaxed) {
        CURRENT.try_with(Clone::clone).ok().flatten()
    } else {
        None
    };
    #[cfg(feature = "otel")]
    if let Some(span) = otel::current_span_context() {
        // OTel's context has no baggage of ours: the scope's travels on.
        let baggage = scoped.as_ref().and_then(TraceContext::baggage);
        return Some(span.with_baggage(baggage));
    }
    scoped
}

/// A new trace: random trace and span ids (from the system's CSPRNG),
/// sampled as asked. For a program that starts traces without
/// OpenTelemetry; `None` only if the system has no randomness to give.
pub fn new_root(sampled: bool) -> Option<TraceContext> {
    use ring::rand::{SecureRandom, SystemRandom};
    let rng = SystemRandom::new();
    let mut ids = [0u8; 24];
    rng.fill(&mut ids).ok()?;
    let (trace, span) = ids.split_at(16);
    TraceContext::new(trace.try_into().ok()?, span.try_into().ok()?, sampled)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_scope_sets_and_hides_the_current_context() {
        assert_eq!(current(), None);
        let outer = new_root(true).expect("randomness");
        let inner = new_root(false).expect("randomness");
        assert_ne!(outer.trace_id(), inner.trace_id());
        let seen = scope(Some(outer.clone()), async {
            let before = current();
            let nested = scope(Some(inner.clone()), async { current() }).await;
            let hidden = scope(None, async { current() }).await;
            (before, nested, hidden, current())
        })
        .await;
        assert_eq!(seen, (Some(outer.clone()), Some(inner), None, Some(outer)));
        assert_eq!(current(), None);
    }
}
