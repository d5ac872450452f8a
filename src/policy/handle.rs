//! `Policy`: the handle applications hold. Cheap to clone, one per fleet if
//! you like: it answers elicitation and roots for every client it is given
//! to, telling servers apart by [`RequestContext::server`].

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use super::callback::{FormFiller, UserCallback};
use super::decide::Plan;
use super::roots::to_roots;
use super::{PolicyBuilder, PolicyConfig, PolicyError};
use crate::policy::actor::{
    Attach, Decide, Detach, Event, ListRoots, PolicyActor, Record, SetRoots, Stats,
};
use crate::protocol::{ElicitRequestParams, ElicitResult, Root};
use crate::session::{ElicitationHandler, HandlerError, RequestContext, RootsHandler};
use crate::{Client, ClientBuilder};

/// Counters of what a policy has done.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PolicyStats {
    /// Elicitation requests received.
    pub elicitations: u64,
    /// Answered `accept`.
    pub accepted: u64,
    /// Answered `decline`.
    pub declined: u64,
    /// Answered `cancel`.
    pub cancelled: u64,
    /// Refused with an error (a form outside the limits).
    pub refused: u64,
    /// Questions put to the user callback.
    pub asked: u64,
    /// Forms given to the filler.
    pub filled: u64,
    /// Questions whose deadline passed (answered `cancel`).
    pub timed_out: u64,
    /// `roots/list` requests answered by the policy itself.
    pub roots_listed: u64,
    /// Run-time changes of roots.
    pub roots_changes: u64,
    /// Clients attached for root-change notifications right now.
    pub attached: usize,
}

pub(super) struct Inner {
    pub(super) actor: actix::Addr<PolicyActor>,
    pub(super) callback: Option<Arc<dyn UserCallback>>,
    pub(super) filler: Option<Arc<dyn FormFiller>>,
    pub(super) ask_timeout: Duration,
}

/// Answers elicitation (forms and URLs) and roots from declarative rules,
/// a user callback and a form filler. Cheap to clone; give the same policy
/// to every client of a fleet:
///
/// ```no_run
/// # async fn run() -> switchboard::Result<()> {
/// use switchboard::policy::{Policy, PolicyConfig};
/// use switchboard::Client;
///
/// let config = PolicyConfig::from_json(r#"{
///     "elicitation": {"rules": [{"message": "*confirm*", "action": "accept",
///                                "values": {"confirm": true}}]},
///     "roots": {"fs": ["/home/me/project"]}
/// }"#)?;
/// let policy = Policy::new(config)?;
/// // Elicitation and roots from the policy, root changes pushed to the server:
/// let fs = policy.connect(Client::builder("npx server-filesystem").name("fs")).await?;
/// policy.set_roots("fs", ["/home/me/other"]).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Policy {
    pub(super) inner: Arc<Inner>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("callback", &self.inner.callback.is_some())
            .field("filler", &self.inner.filler.is_some())
            .field("ask_timeout", &self.inner.ask_timeout)
            .finish_non_exhaustive()
    }
}

fn gone(e: actix::MailboxError) -> PolicyError {
    PolicyError::Unavailable(format!("the policy actor is gone: {e}"))
}

impl Policy {
    /// A policy from configuration alone (no callback, no filler).
    pub fn new(config: PolicyConfig) -> Result<Policy, PolicyError> {
        Self::builder(config).build()
    }

    /// Starts building a policy with a callback, filler or limits.
    pub fn builder(config: PolicyConfig) -> PolicyBuilder {
        PolicyBuilder::new(config)
    }

    /// Sets up `builder` to use this policy: elicitation from the policy,
    /// and the roots configured for the builder's server name as a list the
    /// client can change (so that [`Policy::set_roots`] can tell a
    /// handshake-era server with `notifications/roots/list_changed`, through
    /// [`Client::set_roots`]). Attach the client afterwards, or use
    /// [`Policy::connect`], which does both.
    pub async fn configure(&self, builder: ClientBuilder) -> Result<ClientBuilder, PolicyError> {
        let roots = self.roots_for(builder.server_name()).await?;
        Ok(builder
            .elicitation(self.clone())
            .roots(roots.into_iter().map(|r| r.uri)))
    }

    /// [`Policy::configure`], connect, and [`Policy::attach`] under the
    /// builder's server name.
    pub async fn connect(&self, builder: ClientBuilder) -> crate::Result<Client> {
        let name = builder.server_name().to_owned();
        let client = self.configure(builder).await?.connect().await?;
        self.attach(&name, &client).await?;
        Ok(client)
    }

    /// Remembers `client` as serving `server`, to tell it when that
    /// server's roots change. The policy keeps a clone of the client until
    /// its connection closes or [`Policy::detach`] is called: close the
    /// client (rather than just dropping it) to end the connection.
    pub async fn attach(&self, server: &str, client: &Client) -> Result<(), PolicyError> {
        self.inner
            .actor
            .send(Attach {
                server: server.to_owned(),
                client: client.clone(),
            })
            .await
            .map_err(gone)
    }

    /// Forgets the clients attached for `server`; returns how many.
    pub async fn detach(&self, server: &str) -> Result<usize, PolicyError> {
        self.inner
            .actor
            .send(Detach(server.to_owned()))
            .await
            .map_err(gone)
    }

    /// The roots `server` may see now.
    pub async fn roots_for(&self, server: &str) -> Result<Vec<Root>, PolicyError> {
        self.inner
            .actor
            .send(ListRoots(server.to_owned()))
            .await
            .map_err(gone)
    }

    /// Replaces `server`'s roots (URIs, or paths that become `file://`
    /// URIs) and tells its attached clients; returns how many were told.
    /// Handshake-era servers get `notifications/roots/list_changed`;
    /// 2026-07-28 servers see the new list on their next ask. Clients that
    /// use the policy as their roots handler (not attached through
    /// [`Policy::configure`]) see the new list on the server's next
    /// `roots/list` but cannot be notified.
    pub async fn set_roots<I, S>(&self, server: &str, uris: I) -> Result<usize, PolicyError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.change_roots(Some(server.to_owned()), uris).await
    }

    /// Replaces the roots of servers that have no list of their own, and
    /// tells their attached clients; returns how many were told.
    pub async fn set_default_roots<I, S>(&self, uris: I) -> Result<usize, PolicyError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.change_roots(None, uris).await
    }

    async fn change_roots<I, S>(
        &self,
        server: Option<String>,
        uris: I,
    ) -> Result<usize, PolicyError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let entries: Vec<S> = uris.into_iter().collect();
        let roots = to_roots(&entries)?;
        let uris: Vec<String> = roots.iter().map(|r| r.uri.clone()).collect();
        let affected = self
            .inner
            .actor
            .send(SetRoots { server, roots })
            .await
            .map_err(gone)?;
        let mut told = 0;
        for (name, client) in affected {
            match client.set_roots(uris.iter().cloned()).await {
                Ok(()) => told += 1,
                Err(crate::Error::Config(why)) => {
                    tracing::debug!(server = %name, "roots changed, the server cannot be notified: {why}");
                }
                Err(e) => {
                    tracing::warn!(server = %name, "could not tell the server its roots changed: {e}")
                }
            }
        }
        Ok(told)
    }

    /// The counters so far.
    pub async fn stats(&self) -> Result<PolicyStats, PolicyError> {
        self.inner.actor.send(Stats).await.map_err(gone)
    }

    async fn record(&self, events: Vec<Event>) {
        if let Err(e) = self.inner.actor.send(Record(events)).await {
            tracing::debug!("policy counters lost: {e}");
        }
    }

    async fn answer(
        &self,
        params: ElicitRequestParams,
        ctx: RequestContext,
    ) -> Result<ElicitResult, HandlerError> {
        let plan = self
            .inner
            .actor
            .send(Decide {
                params,
                server: ctx.server,
            })
            .await
            .map_err(|e| {
                HandlerError::internal(format!("the elicitation policy is unavailable: {e}"))
            })?;
        let (result, mut events) = match plan {
            Plan::Done(result) => return result,
            Plan::AskForm(form) => self.ask_form(form).await,
            Plan::Fill(form) => self.fill(form).await,
            Plan::AskUrl(request) => self.ask_url(request).await,
        };
        events.push(Event::Answered(result.action));
        self.record(events).await;
        Ok(result)
    }
}

impl ElicitationHandler for Policy {
    fn elicit(
        &self,
        params: ElicitRequestParams,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<ElicitResult, HandlerError>> {
        let this = self.clone();
        Box::pin(async move { this.answer(params, ctx).await })
    }

    /// URL mode is declared only with a user callback: only a person can
    /// consent to opening a URL.
    fn supports_url(&self) -> bool {
        self.inner.callback.is_some()
    }
}

impl RootsHandler for Policy {
    fn list_roots(
        &self,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Vec<Root>, HandlerError>> {
        let this = self.clone();
        Box::pin(async move {
            this.roots_for(&ctx.server)
                .await
                .map_err(|e| HandlerError::internal(e.to_string()))
        })
    }
}
