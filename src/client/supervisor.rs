//! ServerActor: owns one server's connection. It connects, negotiates,
//! watches the transport, and (when supervised) restarts a lost server with
//! backoff and jitter, opens a circuit breaker after repeated failures, and
//! restores what the client had set up (subscriptions, log level).
//!
//! Calls do not pass through the mailbox: the actor publishes the current
//! session on a `watch` channel and callers use it directly (a mailbox hop
//! per call would cost more than a local round trip). The actor is the
//! control plane.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix::prelude::*;
use tokio::sync::watch;

use super::supervision::{HealthCell, HealthState, RestartPolicy};
use crate::protocol::LoggingLevel;
use crate::session::{Handlers, Session, SessionOptions};
use crate::transport::Source;
use crate::{Error, Result};

/// What callers see of the connection.
#[derive(Clone)]
pub(crate) enum Slot {
    /// The first connection is being made.
    Starting,
    /// Use this session.
    Ready(Session),
    /// Lost; a new session is coming.
    Restarting,
    /// Too many failures: fail fast until `until`.
    BreakerOpen { until: Instant, last_error: String },
    /// Closed for good.
    Closed(String),
}

/// What a restart must put back, recorded by the client as it goes.
#[derive(Default)]
pub(crate) struct Restore {
    pub(crate) subscriptions: Mutex<BTreeSet<String>>,
    pub(crate) log_level: Mutex<Option<LoggingLevel>>,
}

impl Restore {
    async fn apply(&self, session: &Session) {
        let level = *crate::session::lock(&self.log_level);
        if let Some(level) = level {
            if let Err(e) = session.set_log_level(level).await {
                tracing::warn!(server = %session.name(), "could not restore the log level: {e}");
            }
        }
        let uris: Vec<String> = crate::session::lock(&self.subscriptions)
            .iter()
            .cloned()
            .collect();
        session.restore_subscriptions(uris).await;
    }
}

/// Everything needed to (re)open the connection.
#[derive(Clone)]
pub(crate) struct Spec {
    pub(crate) source: Source,
    pub(crate) options: SessionOptions,
    pub(crate) handlers: Handlers,
    pub(crate) negotiate: bool,
    pub(crate) policy: Option<RestartPolicy>,
    /// The caller's runtime: the connection's I/O tasks run there.
    pub(crate) runtime: tokio::runtime::Handle,
}

/// The actor for one server.
pub(crate) struct ServerActor {
    spec: Spec,
    slot: watch::Sender<Slot>,
    health: HealthCell,
    restore: Arc<Restore>,
    generation: u64,
    current: Option<Session>,
    ready_at: Option<Instant>,
    closing: bool,
    probe_misses: u32,
    /// When recent restarts began (for `max_restarts` per window).
    restarts_at: std::collections::VecDeque<Instant>,
}

impl ServerActor {
    pub(crate) fn new(
        spec: Spec,
        slot: watch::Sender<Slot>,
        health: HealthCell,
        restore: Arc<Restore>,
    ) -> Self {
        ServerActor {
            spec,
            slot,
            health,
            restore,
            generation: 0,
            current: None,
            ready_at: None,
            closing: false,
            probe_misses: 0,
            restarts_at: std::collections::VecDeque::new(),
        }
    }

    fn name(&self) -> &str {
        &self.spec.options.server_name
    }

    /// Opens a connection on the caller's runtime.
    fn open(&self) -> tokio::task::JoinHandle<Result<Session>> {
        let spec = self.spec.clone();
        let restore = self.restore.clone();
        let restarting = self.generation > 0;
        self.spec.runtime.spawn(async move {
            let transport = super::source::transport_for(spec.source.clone(), &spec.options)?;
            let session = Session::start(transport, spec.options, spec.handlers).await?;
            if spec.negotiate || restarting {
                if let Err(e) = session.negotiate().await {
                    let e = with_stderr(e, &session);
                    session.close().await;
                    return Err(e);
                }
                restore.apply(&session).await;
            }
            Ok(session)
        })
    }

    fn adopt(&mut self, session: Session, ctx: &mut Context<Self>) {
        self.generation += 1;
        let generation = self.generation;
        if self.spec.policy.is_some() {
            session.mark_supervised();
        }
        self.current = Some(session.clone());
        self.ready_at = Some(Instant::now());
        self.probe_misses = 0;
        self.health.update(|h| {
            h.set(HealthState::Ready);
            h.consecutive_failures = 0;
            if generation > 1 {
                h.restarts += 1;
            }
        });
        let _ = self.slot.send(Slot::Ready(session.clone()));
        // Watch for the transport going away.
        let addr = ctx.address();
        self.spec.runtime.spawn(async move {
            session.closed().await;
            let reason = "the connection closed".to_owned();
            addr.do_send(Lost { generation, reason });
        });
    }

    /// Decides what follows a failure: a restart after a backoff, or an
    /// open breaker.
    fn after_failure(&mut self, error: String, stderr_tail: Vec<String>, ctx: &mut Context<Self>) {
        let Some(policy) = self.spec.policy.clone() else {
            return;
        };
        self.health.update(|h| {
            h.consecutive_failures += 1;
            h.last_error = Some(error.clone());
            if !stderr_tail.is_empty() {
                h.stderr_tail = stderr_tail;
            }
        });
        let failures = self.health.read(|h| h.consecutive_failures);
        if let Some(max) = policy.max_restarts {
            let now = Instant::now();
            while self
                .restarts_at
                .front()
                .is_some_and(|t| now.duration_since(*t) > policy.restart_window)
            {
                self.restarts_at.pop_front();
            }
            if self.restarts_at.len() >= max as usize {
                let reason = format!(
                    "server {} gave up after {max} restarts within {:?}: {error}",
                    self.name(),
                    policy.restart_window
                );
                tracing::error!(server = %self.name(), "{reason}");
                self.health.update(|h| h.set(HealthState::Closed));
                let _ = self.slot.send(Slot::Closed(reason));
                return;
            }
            self.restarts_at.push_back(now);
        }
        if failures >= policy.breaker_threshold {
            tracing::warn!(server = %self.name(), failures, "circuit breaker open for {:?}: {error}", policy.breaker_cooldown);
            self.health.update(|h| h.set(HealthState::BreakerOpen));
            let _ = self.slot.send(Slot::BreakerOpen {
                until: Instant::now() + policy.breaker_cooldown,
                last_error: error,
            });
            ctx.run_later(policy.breaker_cooldown, |actor, ctx| actor.restart(ctx));
        } else {
            let delay = policy.delay(failures.saturating_sub(1), seed(self.generation, failures));
            tracing::info!(server = %self.name(), failures, ?delay, "restarting: {error}");
            self.health.update(|h| h.set(HealthState::Restarting));
            let _ = self.slot.send(Slot::Restarting);
            ctx.run_later(delay, |actor, ctx| actor.restart(ctx));
        }
    }

    fn restart(&mut self, ctx: &mut Context<Self>) {
        if self.closing {
            return;
        }
        let opening = self.open();
        ctx.spawn(
            async move {
                opening
                    .await
                    .map_err(|e| Error::NotConnected(format!("connect task failed: {e}")))?
            }
            .into_actor(self)
            .map(|result, actor, ctx| {
                if actor.closing {
                    if let Ok(session) = result {
                        actor
                            .spec
                            .runtime
                            .spawn(async move { session.close().await });
                    }
                    return;
                }
                match result {
                    Ok(session) => {
                        tracing::info!(server = %actor.name(), "restarted");
                        actor.adopt(session, ctx);
                    }
                    Err(e) => {
                        let tail = e.stderr_tail().to_vec();
                        actor.after_failure(e.to_string(), tail, ctx);
                    }
                }
            }),
        );
    }

    fn probe(&mut self, ctx: &mut Context<Self>) {
        let (Some(session), Some(policy)) = (self.current.clone(), self.spec.policy.clone()) else {
            return;
        };
        if self.closing || session.is_closed() {
            return;
        }
        let generation = self.generation;
        let probe = self.spec.runtime.spawn(async move {
            let start = Instant::now();
            let call = crate::session::CallOptions::new()
                .timeout(policy.health_timeout)
                .max_time(policy.health_timeout);
            session.probe(Some(&call)).await.map(|()| start.elapsed())
        });
        ctx.spawn(async move { probe.await.ok() }.into_actor(self).map(move |result, actor, _ctx| {
            if generation != actor.generation {
                return;
            }
            match result {
                Some(Ok(latency)) => {
                    actor.probe_misses = 0;
                    actor.health.update(|h| h.last_probe_latency = Some(latency));
                }
                _ => {
                    actor.probe_misses += 1;
                    tracing::warn!(server = %actor.name(), misses = actor.probe_misses, "health probe failed");
                    if actor.probe_misses >= 2 {
                        // A frozen server: kill it; the transport watcher
                        // reports the loss and supervision restarts it.
                        if let Some(s) = &actor.current {
                            s.kill();
                        }
                    }
                }
            }
        }));
    }
}

fn seed(generation: u64, failures: u32) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos() as u64)
        .unwrap_or(0);
    nanos ^ generation.rotate_left(17) ^ (failures as u64).rotate_left(41)
}

impl Actor for ServerActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Control messages only; keep the mailbox small so a flood is felt
        // as backpressure, not memory.
        ctx.set_mailbox_capacity(16);
        if let Some(every) = self.spec.policy.as_ref().and_then(|p| p.health_interval) {
            ctx.run_interval(every, |actor, ctx| actor.probe(ctx));
        }
    }
}

/// Make the first connection. Fails with the first error: a client that
/// cannot connect at all is told so, not retried forever.
pub(crate) struct Start;

impl Message for Start {
    type Result = Result<()>;
}

impl Handler<Start> for ServerActor {
    type Result = ResponseActFuture<Self, Result<()>>;

    fn handle(&mut self, _msg: Start, _ctx: &mut Self::Context) -> Self::Result {
        let opening = self.open();
        Box::pin(
            async move {
                opening
                    .await
                    .map_err(|e| Error::NotConnected(format!("connect task failed: {e}")))?
            }
            .into_actor(self)
            .map(|result, actor, ctx| match result {
                Ok(session) => {
                    actor.adopt(session, ctx);
                    Ok(())
                }
                Err(e) => {
                    actor.health.update(|h| {
                        h.set(HealthState::Closed);
                        h.last_error = Some(e.to_string());
                    });
                    let _ = actor.slot.send(Slot::Closed(e.to_string()));
                    ctx.stop();
                    Err(e)
                }
            }),
        )
    }
}

/// The transport of connection `generation` went away.
struct Lost {
    generation: u64,
    reason: String,
}

impl Message for Lost {
    type Result = ();
}

impl Handler<Lost> for ServerActor {
    type Result = ();

    fn handle(&mut self, msg: Lost, ctx: &mut Self::Context) {
        if self.closing || msg.generation != self.generation {
            return;
        }
        let lost = self.current.take();
        let tail = lost.as_ref().map(|s| s.stderr_tail()).unwrap_or_default();
        if self.spec.policy.is_none() {
            // Unsupervised: the session itself reports the loss to callers.
            self.current = lost;
            self.health.update(|h| h.set(HealthState::Closed));
            return;
        }
        let short_lived = self.ready_at.is_some_and(|t| {
            t.elapsed()
                < self
                    .spec
                    .policy
                    .as_ref()
                    .map(|p| p.min_uptime)
                    .unwrap_or_default()
        });
        if !short_lived {
            // A good run: start counting failures afresh.
            self.health.update(|h| h.consecutive_failures = 0);
        }
        self.after_failure(format!("server lost: {}", msg.reason), tail, ctx);
    }
}

/// Close the connection (bounded) and stop.
pub(crate) struct Close;

impl Message for Close {
    type Result = ();
}

impl Handler<Close> for ServerActor {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, _msg: Close, _ctx: &mut Self::Context) -> Self::Result {
        self.closing = true;
        self.health.update(|h| h.set(HealthState::Closed));
        let _ = self
            .slot
            .send(Slot::Closed("the client closed the connection".into()));
        let session = self.current.take();
        let closing = self.spec.runtime.spawn(async move {
            if let Some(s) = session {
                s.close().await;
            }
        });
        Box::pin(
            async move {
                let _ = closing.await;
            }
            .into_actor(self)
            .map(|_, _, ctx| ctx.stop()),
        )
    }
}

/// Attaches the server's last stderr lines to a connection error.
fn with_stderr(e: Error, session: &Session) -> Error {
    match e {
        Error::Connect {
            message,
            stderr_tail,
        } if stderr_tail.is_empty() => Error::Connect {
            message,
            stderr_tail: session.stderr_tail(),
        },
        Error::ConnectionClosed {
            reason,
            stderr_tail,
        } if stderr_tail.is_empty() => Error::ConnectionClosed {
            reason,
            stderr_tail: session.stderr_tail(),
        },
        other => other,
    }
}
