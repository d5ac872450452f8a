//! `Policy`: the handle applications hold. Cheap to clone, one per fleet if
//! you like: it answers elicitation and roots for every client it is given
//! to, telling servers apart by [`RequestContext::server`].

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use super::callback::{
    FormAnswer, FormFiller, FormPrompt, UrlAnswer, UrlConsentRequest, UserCallback,
};
use super::decide::{settle_form, Engine, Plan};
use super::limits::SchemaLimits;
use super::roots::{to_roots, RootsTable};
use super::{PolicyConfig, PolicyError};
use crate::actors::policy::{
    Attach, Decide, Detach, Event, ListRoots, PolicyActor, Record, SetRoots, Stats,
};
use crate::actors::ActorRuntime;
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

/// Builds a [`Policy`]: the configuration, plus the optional user callback,
/// form filler and limits.
pub struct PolicyBuilder {
    config: PolicyConfig,
    callback: Option<Arc<dyn UserCallback>>,
    filler: Option<Arc<dyn FormFiller>>,
    limits: SchemaLimits,
    ask_timeout: Option<Duration>,
}

impl PolicyBuilder {
    /// Forwards `ask` questions (forms and URLs) to a person. With one, the
    /// policy declares URL-mode elicitation; without, it does not.
    pub fn callback(mut self, callback: impl UserCallback) -> Self {
        self.callback = Some(Arc::new(callback));
        self
    }

    /// Answers `fill` questions (e.g. with a model).
    pub fn filler(mut self, filler: impl FormFiller) -> Self {
        self.filler = Some(Arc::new(filler));
        self
    }

    /// Caps on form size (default [`SchemaLimits::default`]).
    pub fn limits(mut self, limits: SchemaLimits) -> Self {
        self.limits = limits;
        self
    }

    /// How long the callback or filler may take, overriding the
    /// configuration's `ask_timeout_secs`; past it the request is cancelled.
    pub fn ask_timeout(mut self, timeout: Duration) -> Self {
        self.ask_timeout = Some(timeout);
        self
    }

    /// Checks the configuration and starts the policy's actor.
    pub fn build(self) -> Result<Policy, PolicyError> {
        self.config.validate()?;
        let roots = RootsTable::from_config(&self.config.roots)?;
        let ask_timeout = self.ask_timeout.unwrap_or(Duration::from_secs(
            self.config.elicitation.ask_timeout_secs,
        ));
        let engine = Engine {
            config: self.config.elicitation,
            limits: self.limits,
            has_callback: self.callback.is_some(),
            has_filler: self.filler.is_some(),
        };
        let runtime = ActorRuntime::get().map_err(|e| PolicyError::Unavailable(e.to_string()))?;
        let actor = runtime.start(PolicyActor::new(engine, roots));
        Ok(Policy {
            inner: Arc::new(Inner {
                actor,
                callback: self.callback,
                filler: self.filler,
                ask_timeout,
            }),
        })
    }
}

struct Inner {
    actor: actix::Addr<PolicyActor>,
    callback: Option<Arc<dyn UserCallback>>,
    filler: Option<Arc<dyn FormFiller>>,
    ask_timeout: Duration,
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
/// let config: PolicyConfig = serde_json::from_str(r#"{
///     "elicitation": {"rules": [{"message": "*confirm*", "action": "accept",
///                                "values": {"confirm": true}}]},
///     "roots": {"fs": ["/home/me/project"]}
/// }"#).map_err(|e| switchboard::Error::Config(e.to_string()))?;
/// let policy = Policy::new(config)?;
/// // Elicitation and roots from the policy, root changes pushed to the server:
/// let fs = policy.connect(Client::builder("npx server-filesystem").name("fs")).await?;
/// policy.set_roots("fs", ["/home/me/other"]).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Policy {
    inner: Arc<Inner>,
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
        PolicyBuilder {
            config,
            callback: None,
            filler: None,
            limits: SchemaLimits::default(),
            ask_timeout: None,
        }
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

    /// Runs `fut` under the ask deadline.
    async fn within<T>(&self, what: &str, server: &str, fut: BoxFuture<'static, T>) -> Option<T> {
        match tokio::time::timeout(self.inner.ask_timeout, fut).await {
            Ok(v) => Some(v),
            Err(_) => {
                tracing::warn!(%server, timeout = ?self.inner.ask_timeout, "{what} did not answer in time: cancelling");
                None
            }
        }
    }

    async fn ask_form(&self, form: FormPrompt) -> (ElicitResult, Vec<Event>) {
        let Some(callback) = self.inner.callback.clone() else {
            return (ElicitResult::decline(), vec![]);
        };
        let server = form.server.clone();
        match self
            .within(
                "the user callback",
                &server,
                callback.ask_form(form.clone()),
            )
            .await
        {
            None => (ElicitResult::cancel(), vec![Event::Asked, Event::TimedOut]),
            Some(FormAnswer::Accept(values)) => {
                (settle_form(&form, &values, "the user"), vec![Event::Asked])
            }
            Some(FormAnswer::Decline) => (ElicitResult::decline(), vec![Event::Asked]),
            Some(FormAnswer::Cancel) => (ElicitResult::cancel(), vec![Event::Asked]),
        }
    }

    async fn fill(&self, form: FormPrompt) -> (ElicitResult, Vec<Event>) {
        let Some(filler) = self.inner.filler.clone() else {
            return (ElicitResult::decline(), vec![]);
        };
        let server = form.server.clone();
        match self
            .within("the form filler", &server, filler.fill(form.clone()))
            .await
        {
            None => (ElicitResult::cancel(), vec![Event::Filled, Event::TimedOut]),
            Some(Ok(values)) => (
                settle_form(&form, &values, "the filler"),
                vec![Event::Filled],
            ),
            Some(Err(e)) => {
                tracing::warn!(%server, "cancelling: {e}");
                (ElicitResult::cancel(), vec![Event::Filled])
            }
        }
    }

    async fn ask_url(&self, request: UrlConsentRequest) -> (ElicitResult, Vec<Event>) {
        let Some(callback) = self.inner.callback.clone() else {
            return (ElicitResult::decline(), vec![]);
        };
        let server = request.server.clone();
        let url = request.prompt.full_url.clone();
        match self
            .within("the user callback", &server, callback.ask_url(request))
            .await
        {
            None => (ElicitResult::cancel(), vec![Event::Asked, Event::TimedOut]),
            Some(UrlAnswer::Consent) => {
                tracing::info!(%server, %url, "the user consented to open the URL");
                (ElicitResult::accept_url(), vec![Event::Asked])
            }
            Some(UrlAnswer::Decline) => (ElicitResult::decline(), vec![Event::Asked]),
            Some(UrlAnswer::Cancel) => (ElicitResult::cancel(), vec![Event::Asked]),
        }
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
