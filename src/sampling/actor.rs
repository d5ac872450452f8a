//! SamplingActor and its handle, [`Sampler`]: answers the servers'
//! sampling requests (both eras) from a [`SamplingBackend`], within budgets
//! and after an optional approval hook.
//!
//! The actor is the bookkeeper: it owns the budgets, the counters and the
//! backend's state (the scripted queue), and picks the model. It never
//! waits on a model or a person: the handle asks it to admit a request
//! against the budget (a quick message), then asks the approval hook (so
//! nobody is asked about a request the budget refuses; a denial is taken
//! back and costs nothing), then asks the actor for the model, makes the
//! HTTP call on the caller's runtime, and reports the tokens used. So any
//! number of requests run in parallel while budgets stay exact.

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use futures_util::future::BoxFuture;

use crate::actor_system::ActorRuntime;
use crate::model::{ChatRequest, ModelClient, ModelError};
use crate::protocol::{CreateMessageRequestParams, CreateMessageResult, ModelPreferences};
use crate::sampling::{
    chat_request, check_tool_pairs, create_message_result, estimate_tokens, Approval, ApprovalHook,
    ApprovalRequest, Books, Budget, ModelChoice, SamplingBackend, SamplingConfig, ScriptedReply,
    ServerUsage, FIXED_MODEL,
};
use crate::session::{HandlerError, RequestContext, SamplingHandler};
use crate::Result;

/// How long a human (or policy) may take to approve, by default.
pub const DEFAULT_APPROVAL_TIMEOUT: Duration = Duration::from_secs(120);
/// How long the actor may take to answer a bookkeeping message.
const ACTOR_DEADLINE: Duration = Duration::from_secs(5);

/// Answers sampling for any number of servers (see [`crate::sampling`]).
/// Cheap to clone; every clone talks to the same actor, so budgets and
/// counters are shared. Build with [`Sampler::builder`] or
/// [`Sampler::from_config`].
#[derive(Clone)]
pub struct Sampler {
    addr: Addr<SamplingActor>,
    shared: Arc<Shared>,
}

struct Shared {
    /// The model backend maps and validates requests fully up front.
    model: bool,
    supports_tools: bool,
    approval: Option<Arc<dyn ApprovalHook>>,
    approval_timeout: Duration,
}

impl std::fmt::Debug for Sampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sampler")
            .field("model", &self.shared.model)
            .field("approval", &self.shared.approval.is_some())
            .finish_non_exhaustive()
    }
}

/// Configures a [`Sampler`].
pub struct SamplerBuilder {
    backend: SamplingBackend,
    budget: Budget,
    approval: Option<Arc<dyn ApprovalHook>>,
    approval_timeout: Duration,
}

impl SamplerBuilder {
    /// Limits per server.
    pub fn budget(mut self, budget: Budget) -> Self {
        self.budget = budget;
        self
    }

    /// A hook that sees every request before the model does; a
    /// [`Approval::Deny`] refuses it.
    pub fn approval(mut self, hook: impl ApprovalHook) -> Self {
        self.approval = Some(Arc::new(hook));
        self
    }

    /// How long the hook may take (default 120 s); past it the request is
    /// refused.
    pub fn approval_timeout(mut self, timeout: Duration) -> Self {
        self.approval_timeout = timeout;
        self
    }

    /// Starts the actor (on the library's actor thread; works from any
    /// tokio program).
    pub fn start(self) -> Result<Sampler> {
        let shared = Arc::new(Shared {
            model: matches!(self.backend, SamplingBackend::Model { .. }),
            supports_tools: self.backend.supports_tools(),
            approval: self.approval,
            approval_timeout: self.approval_timeout,
        });
        let actor = SamplingActor {
            backend: Backend::from(self.backend),
            books: Books::new(self.budget),
        };
        let addr = ActorRuntime::get()?.start(actor);
        Ok(Sampler { addr, shared })
    }
}

impl Sampler {
    /// A builder for a backend.
    pub fn builder(backend: SamplingBackend) -> SamplerBuilder {
        SamplerBuilder {
            backend,
            budget: Budget::default(),
            approval: None,
            approval_timeout: DEFAULT_APPROVAL_TIMEOUT,
        }
    }

    /// A sampler as a configuration section describes it (the environment
    /// fills what the file leaves out, e.g. the API key).
    pub fn from_config(config: &SamplingConfig) -> Result<Sampler> {
        let mut builder = Sampler::builder(config.backend()?).budget(config.budget);
        if let Some(t) = config.approval_timeout()? {
            builder = builder.approval_timeout(t);
        }
        builder.start()
    }

    /// What a server has spent so far.
    pub async fn usage(&self, server: &str) -> Result<ServerUsage> {
        let asked = self.addr.send(Usage(server.to_owned()));
        match tokio::time::timeout(ACTOR_DEADLINE, asked).await {
            Ok(Ok(u)) => Ok(u),
            _ => Err(crate::Error::NotConnected(
                "the sampling actor did not answer".into(),
            )),
        }
    }

    async fn sample(
        self,
        params: CreateMessageRequestParams,
        ctx: RequestContext,
    ) -> Result<CreateMessageResult, HandlerError> {
        // Refuse what cannot be sent before anyone is bothered.
        let mut request = if self.shared.model {
            Some(chat_request(&params, "")?)
        } else {
            check_tool_pairs(&params.messages)?;
            None
        };
        // The budget first: nobody is asked to approve what would be
        // refused anyway.
        let estimate = estimate_tokens(&params);
        let admitted_estimate = self
            .ask(Admit {
                server: ctx.server.clone(),
                estimate,
            })
            .await??;
        if let Some(hook) = &self.shared.approval {
            let review = hook.review(ApprovalRequest {
                server: ctx.server.clone(),
                era: ctx.era,
                params: params.clone(),
            });
            let refusal = match tokio::time::timeout(self.shared.approval_timeout, review).await {
                Ok(Approval::Approve) => None,
                Ok(Approval::Deny(reason)) => {
                    tracing::info!(server = %ctx.server, %reason, "sampling request denied");
                    Some(format!("sampling request denied: {reason}"))
                }
                Err(_) => Some(format!(
                    "sampling request not approved within {:?}",
                    self.shared.approval_timeout
                )),
            };
            if let Some(message) = refusal {
                let withdraw = Withdraw {
                    server: ctx.server.clone(),
                    estimate: admitted_estimate,
                };
                if self.ask(withdraw).await.is_err() {
                    tracing::debug!(server = %ctx.server, "could not withdraw a denied request");
                }
                return Err(HandlerError::rejected(message));
            }
        }
        let plan = self
            .ask(Choose {
                server: ctx.server.clone(),
                preferences: params.model_preferences.clone(),
            })
            .await??;
        let (client, model) = match plan {
            Plan::Reply(result) => return Ok(*result),
            Plan::Call { client, model } => (client, model),
        };
        let Some(mut chat) = request.take() else {
            return Err(HandlerError::internal("no chat request for a model call"));
        };
        chat.model = model;
        let outcome = call(&client, &chat, &ctx).await;
        let used = outcome
            .as_ref()
            .ok()
            .map(|r| r.usage.map(|u| u.total_tokens));
        let settle = Settle {
            server: ctx.server.clone(),
            estimate,
            // A failed call counts no tokens; a reply without usage counts
            // its estimate.
            used: used.unwrap_or(Some(0)),
        };
        if self.ask(settle).await.is_err() {
            tracing::warn!(server = %ctx.server, "could not record sampling usage");
        }
        let reply = outcome.map_err(|e| refusal(&e))?;
        create_message_result(&reply)
    }

    async fn ask<M>(&self, msg: M) -> Result<M::Result, HandlerError>
    where
        M: Message + Send + 'static,
        M::Result: Send,
        SamplingActor: Handler<M>,
    {
        match tokio::time::timeout(ACTOR_DEADLINE, self.addr.send(msg)).await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(_)) => Err(HandlerError::internal("the sampling actor has stopped")),
            Err(_) => Err(HandlerError::internal(
                "the sampling actor did not answer in time",
            )),
        }
    }
}

/// What the server is told when the model fails: only what kind of
/// failure, never the endpoint's words (which can echo our API key, the
/// internal base URL or another tenant's data). [`call`] logs the details.
fn refusal(e: &ModelError) -> HandlerError {
    HandlerError::internal(match e {
        ModelError::Timeout { .. } => "sampling failed: the model did not answer in time",
        _ => "sampling failed: the model could not answer this request",
    })
}

async fn call(
    client: &ModelClient,
    chat: &ChatRequest,
    ctx: &RequestContext,
) -> std::result::Result<crate::model::ChatReply, crate::model::ModelError> {
    let started = std::time::Instant::now();
    let reply = client.chat(chat).await;
    match &reply {
        Ok(r) => {
            tracing::debug!(server = %ctx.server, model = %r.model, elapsed = ?started.elapsed(), usage = ?r.usage, "sampled")
        }
        Err(e) => {
            let detail = client.redact(&e.to_string());
            tracing::warn!(server = %ctx.server, model = %chat.model, code = e.code(), "sampling failed: {detail}")
        }
    }
    reply
}

impl SamplingHandler for Sampler {
    fn create_message(
        &self,
        params: CreateMessageRequestParams,
        ctx: RequestContext,
    ) -> BoxFuture<'static, std::result::Result<CreateMessageResult, HandlerError>> {
        Box::pin(self.clone().sample(params, ctx))
    }

    fn supports_tools(&self) -> bool {
        self.shared.supports_tools
    }
}

/// The backend as the actor keeps it (the scripted queue is consumed).
enum Backend {
    Model {
        client: ModelClient,
        choice: ModelChoice,
    },
    Text(String),
    Scripted(std::collections::VecDeque<ScriptedReply>),
    Reject(String),
}

impl From<SamplingBackend> for Backend {
    fn from(b: SamplingBackend) -> Self {
        match b {
            SamplingBackend::Model { client, choice } => Backend::Model { client, choice },
            SamplingBackend::Text(t) => Backend::Text(t),
            SamplingBackend::Scripted(r) => Backend::Scripted(r.into()),
            SamplingBackend::Reject(r) => Backend::Reject(r),
        }
    }
}

/// The bookkeeper (see the module docs).
pub(crate) struct SamplingActor {
    backend: Backend,
    books: Books,
}

impl Actor for SamplingActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Two short messages per request; callers wait (with a deadline)
        // when it is full.
        ctx.set_mailbox_capacity(256);
    }
}

/// What to do with an admitted request.
enum Plan {
    /// Answer with this (deterministic backends).
    Reply(Box<CreateMessageResult>),
    /// Ask this model.
    Call { client: ModelClient, model: String },
}

/// May this server's request go ahead? Reserves its place in the budget;
/// answers the estimate reserved (0 for answers that cost no tokens).
struct Admit {
    server: Arc<str>,
    estimate: u64,
}

impl Message for Admit {
    type Result = std::result::Result<u64, HandlerError>;
}

impl Handler<Admit> for SamplingActor {
    type Result = std::result::Result<u64, HandlerError>;

    fn handle(&mut self, msg: Admit, _ctx: &mut Self::Context) -> Self::Result {
        if let Backend::Reject(reason) = &self.backend {
            return Err(HandlerError::rejected(reason.clone()));
        }
        let model_call = matches!(self.backend, Backend::Model { .. });
        let estimate = if model_call { msg.estimate } else { 0 };
        self.books
            .admit(&msg.server, estimate)
            .map_err(HandlerError::rejected)?;
        Ok(estimate)
    }
}

/// An admitted request the approval hook refused: it never happened.
struct Withdraw {
    server: Arc<str>,
    estimate: u64,
}

impl Message for Withdraw {
    type Result = ();
}

impl Handler<Withdraw> for SamplingActor {
    type Result = ();

    fn handle(&mut self, msg: Withdraw, _ctx: &mut Self::Context) {
        self.books.withdraw(&msg.server, msg.estimate);
    }
}

/// An admitted, approved request: which model to call, or the answer.
struct Choose {
    server: Arc<str>,
    preferences: Option<ModelPreferences>,
}

impl Message for Choose {
    type Result = std::result::Result<Plan, HandlerError>;
}

impl Handler<Choose> for SamplingActor {
    type Result = std::result::Result<Plan, HandlerError>;

    fn handle(&mut self, msg: Choose, _ctx: &mut Self::Context) -> Self::Result {
        let plan = match &mut self.backend {
            Backend::Model { client, choice } => {
                let model = choice.choose(msg.preferences.as_ref()).to_owned();
                return Ok(Plan::Call {
                    client: client.clone(),
                    model,
                });
            }
            Backend::Text(text) => Ok(Plan::Reply(Box::new(CreateMessageResult::text(
                FIXED_MODEL,
                text.clone(),
            )))),
            Backend::Scripted(queue) => match queue.pop_front() {
                Some(reply) => Ok(Plan::Reply(Box::new(reply.into_result()))),
                None => Err(HandlerError::internal(
                    "scripted sampling has no replies left",
                )),
            },
            Backend::Reject(reason) => Err(HandlerError::rejected(reason.clone())),
        };
        // Deterministic answers cost no tokens.
        self.books.settle(&msg.server, 0, Some(0));
        plan
    }
}

/// A model call finished: release its reservation, count its tokens.
struct Settle {
    server: Arc<str>,
    estimate: u64,
    used: Option<u64>,
}

impl Message for Settle {
    type Result = ();
}

impl Handler<Settle> for SamplingActor {
    type Result = ();

    fn handle(&mut self, msg: Settle, _ctx: &mut Self::Context) {
        self.books.settle(&msg.server, msg.estimate, msg.used);
    }
}

/// What a server has spent.
struct Usage(String);

impl Message for Usage {
    type Result = ServerUsage;
}

impl Handler<Usage> for SamplingActor {
    type Result = MessageResult<Usage>;

    fn handle(&mut self, msg: Usage, _ctx: &mut Self::Context) -> Self::Result {
        MessageResult(self.books.usage(&msg.0))
    }
}
