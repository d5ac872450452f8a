//! The two things a policy may hand a question to: a person (through a
//! [`UserCallback`], e.g. a bot that forwards it to its human) and a
//! [`FormFiller`] (e.g. a model). Both are async and object-safe, like the
//! handlers in [`crate::session`]; both run outside the policy's actor,
//! under a deadline.

use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::UrlPrompt;
use crate::protocol::{ElicitationSchema, JsonObject};

/// A form to answer.
#[derive(Debug, Clone, PartialEq)]
pub struct FormPrompt {
    /// Which server asks (its configured name).
    pub server: Arc<str>,
    /// What it asks, for the person.
    pub message: String,
    /// The form, already checked against the limits.
    pub schema: ElicitationSchema,
    /// Values known so far: the form's defaults, and a rule's values when
    /// the question is about what is still missing.
    pub prefilled: JsonObject,
}

/// A URL a server wants the person to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlConsentRequest {
    /// Which server asks.
    pub server: Arc<str>,
    /// Why, in the server's words.
    pub message: String,
    /// The URL, domain and warnings to show.
    pub prompt: UrlPrompt,
}

/// A person's answer to a form.
#[derive(Debug, Clone, PartialEq)]
pub enum FormAnswer {
    /// Submitted with these values (the prefilled ones fill any gaps).
    Accept(JsonObject),
    /// Said no.
    Decline,
    /// Dismissed.
    Cancel,
}

/// A person's answer to a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlAnswer {
    /// Consents to open it (the caller opens it, in a browser the client
    /// and any model cannot inspect; the policy never does).
    Consent,
    /// Said no.
    Decline,
    /// Dismissed.
    Cancel,
}

/// Forwards questions to a person. Answers that do not validate against
/// the form are declined, never sent.
pub trait UserCallback: Send + Sync + 'static {
    /// Asks the person to fill in (and review) a form.
    fn ask_form(&self, form: FormPrompt) -> BoxFuture<'static, FormAnswer>;

    /// Asks the person whether to open a URL.
    fn ask_url(&self, request: UrlConsentRequest) -> BoxFuture<'static, UrlAnswer>;
}

/// A filler that could not fill a form (the request is cancelled).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("form filler: {0}")]
pub struct FillError(pub String);

/// Fills forms without a person, e.g. with a model. Its values go over the
/// prefilled ones and are validated like any other.
pub trait FormFiller: Send + Sync + 'static {
    /// Values for `form`.
    fn fill(&self, form: FormPrompt) -> BoxFuture<'static, Result<JsonObject, FillError>>;
}

impl<F, Fut> FormFiller for F
where
    F: Fn(FormPrompt) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<JsonObject, FillError>> + Send + 'static,
{
    fn fill(&self, form: FormPrompt) -> BoxFuture<'static, Result<JsonObject, FillError>> {
        Box::pin(self(form))
    }
}

/// A filler that always answers the same values: for tests, and for
/// deployments where a fixed answer is the policy.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FixedFiller(pub JsonObject);

impl FormFiller for FixedFiller {
    fn fill(&self, _form: FormPrompt) -> BoxFuture<'static, Result<JsonObject, FillError>> {
        let values = self.0.clone();
        Box::pin(async move { Ok(values) })
    }
}
