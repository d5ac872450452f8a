//! `PolicyBuilder`: a policy's configuration plus what it may ask (a user
//! callback, a form filler), its limits and its deadline.

use std::sync::Arc;
use std::time::Duration;

use super::callback::{FormFiller, UserCallback};
use super::decide::Engine;
use super::handle::Inner;
use super::limits::SchemaLimits;
use super::roots::RootsTable;
use super::{Policy, PolicyConfig, PolicyError};
use crate::actor_system::ActorRuntime;
use crate::policy::actor::PolicyActor;

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
    pub(super) fn new(config: PolicyConfig) -> Self {
        PolicyBuilder {
            config,
            callback: None,
            filler: None,
            limits: SchemaLimits::default(),
            ask_timeout: None,
        }
    }

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
