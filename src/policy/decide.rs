//! The decision, as a pure function of the configuration and the request:
//! either a final answer, or a question for the user callback or the form
//! filler (which the handle asks outside the actor, then settles here).

use std::sync::Arc;

use super::callback::{FormPrompt, UrlConsentRequest};
use super::config::{ElicitationConfig, MissingRequired, RuleAction};
use super::defaults::{compose, missing_required, prefill, validate_content};
use super::limits::{check_schema, SchemaLimits};
use super::rules::{first_match, ElicitMode, RuleInput};
use super::violation::violations_error;
use super::UrlPrompt;
use crate::protocol::{
    ElicitRequestFormParams, ElicitRequestParams, ElicitRequestUrlParams, ElicitResult,
    ElicitationSchema, JsonObject,
};
use crate::session::HandlerError;

/// What to do with one request.
#[derive(Debug)]
pub(crate) enum Plan {
    /// The answer (or the error for the server).
    Done(Result<ElicitResult, HandlerError>),
    /// Ask the user callback to fill in the form.
    AskForm(FormPrompt),
    /// Ask the form filler.
    Fill(FormPrompt),
    /// Ask the user callback for consent to open a URL.
    AskUrl(UrlConsentRequest),
}

/// Rules, limits and what is available to ask.
#[derive(Debug, Clone)]
pub(crate) struct Engine {
    pub(crate) config: ElicitationConfig,
    pub(crate) limits: SchemaLimits,
    pub(crate) has_callback: bool,
    pub(crate) has_filler: bool,
}

impl Engine {
    /// Decides what to do with `params` from `server`.
    pub(crate) fn plan(&self, params: ElicitRequestParams, server: Arc<str>) -> Plan {
        match params {
            ElicitRequestParams::Form(form) => self.plan_form(form, server),
            ElicitRequestParams::Url(url) => self.plan_url(url, server),
        }
    }

    /// The matching rule's action and values, and who decided (for logs).
    fn action_for(&self, input: &RuleInput<'_>) -> (RuleAction, JsonObject, String) {
        match first_match(&self.config.rules, input) {
            Some((i, rule)) => (rule.action, rule.values.clone(), format!("rule {}", i + 1)),
            None => (self.config.default, JsonObject::new(), "the default".into()),
        }
    }

    fn plan_form(&self, form: ElicitRequestFormParams, server: Arc<str>) -> Plan {
        let schema = form.requested_schema;
        if let Err(violations) = check_schema(&schema, &self.limits) {
            tracing::warn!(%server, problems = violations.len(), "refusing a form outside the limits");
            return Plan::Done(Err(violations_error(&violations)));
        }
        let names: Vec<&str> = schema
            .properties
            .0
            .iter()
            .map(|(n, _)| n.as_str())
            .collect();
        let input = RuleInput {
            server: &server,
            message: &form.message,
            mode: ElicitMode::Form,
            properties: &names,
        };
        let (action, values, who) = self.action_for(&input);
        tracing::debug!(%server, ?action, decided_by = %who, "form elicitation");
        let defaults = prefill(&schema);
        let prompt = |prefilled| FormPrompt {
            server: server.clone(),
            message: form.message.clone(),
            schema: schema.clone(),
            prefilled,
        };
        match action {
            RuleAction::Decline => Plan::Done(Ok(ElicitResult::decline())),
            RuleAction::Cancel => Plan::Done(Ok(ElicitResult::cancel())),
            RuleAction::Accept | RuleAction::AcceptDefaults => {
                let content = compose(&schema, &defaults, &values);
                let missing = missing_required(&schema, &content);
                if missing.is_empty() {
                    return Plan::Done(Ok(checked_accept(&server, &schema, content, &who)));
                }
                match self.config.missing_required {
                    MissingRequired::Ask if self.has_callback => Plan::AskForm(prompt(content)),
                    MissingRequired::Fill if self.has_filler => Plan::Fill(prompt(content)),
                    _ => {
                        tracing::warn!(%server, fields = ?missing, decided_by = %who, "declining: required fields have no value");
                        Plan::Done(Ok(ElicitResult::decline()))
                    }
                }
            }
            RuleAction::Ask if self.has_callback => Plan::AskForm(prompt(defaults)),
            RuleAction::Fill if self.has_filler => Plan::Fill(prompt(defaults)),
            RuleAction::Ask | RuleAction::Fill => {
                tracing::warn!(%server, ?action, decided_by = %who, "declining: nobody is configured to ask");
                Plan::Done(Ok(ElicitResult::decline()))
            }
        }
    }

    fn plan_url(&self, url: ElicitRequestUrlParams, server: Arc<str>) -> Plan {
        let prompt = UrlPrompt::new(&url.url);
        tracing::info!(
            %server,
            url = %prompt.full_url,
            domain = prompt.domain.as_deref().unwrap_or(""),
            ascii_domain = prompt.ascii_domain.as_deref().unwrap_or(""),
            punycode = prompt.is_punycode,
            "URL elicitation"
        );
        if !prompt.acceptable {
            let why: Vec<String> = prompt.warnings.iter().map(|w| w.to_string()).collect();
            tracing::warn!(%server, url = %prompt.full_url, warnings = %why.join("; "), "declining a URL that may not be opened");
            return Plan::Done(Ok(ElicitResult::decline()));
        }
        let input = RuleInput {
            server: &server,
            message: &url.message,
            mode: ElicitMode::Url,
            properties: &[],
        };
        let (action, _, who) = self.action_for(&input);
        match action {
            RuleAction::Decline => Plan::Done(Ok(ElicitResult::decline())),
            RuleAction::Cancel => Plan::Done(Ok(ElicitResult::cancel())),
            // Only a person consents to a URL: every other action asks.
            _ if self.has_callback => Plan::AskUrl(UrlConsentRequest {
                server,
                message: url.message,
                prompt,
            }),
            _ => {
                tracing::info!(%server, decided_by = %who, "declining a URL: only a person can consent and no callback is configured");
                Plan::Done(Ok(ElicitResult::decline()))
            }
        }
    }
}

/// `values` over what was prefilled, accepted only when complete and valid.
pub(crate) fn settle_form(form: &FormPrompt, values: &JsonObject, who: &str) -> ElicitResult {
    let content = compose(&form.schema, &form.prefilled, values);
    let missing = missing_required(&form.schema, &content);
    if !missing.is_empty() {
        tracing::warn!(server = %form.server, fields = ?missing, decided_by = %who, "declining: required fields have no value");
        return ElicitResult::decline();
    }
    checked_accept(&form.server, &form.schema, content, who)
}

/// An accept of `content` if it validates against the form, else a
/// decline (never an invalid accept).
fn checked_accept(
    server: &str,
    schema: &ElicitationSchema,
    content: JsonObject,
    who: &str,
) -> ElicitResult {
    match validate_content(schema, &content) {
        Ok(()) => ElicitResult::accept(content),
        Err(problems) => {
            for p in &problems {
                tracing::warn!(%server, field = %p.field, problem = %p.message, decided_by = %who, "declining: a value does not fit the form");
            }
            ElicitResult::decline()
        }
    }
}
