//! Policy: how the client answers a server's elicitation requests (forms
//! and URLs) and roots requests, for one server or a whole fleet.
//!
//! A [`Policy`] is built from a [`PolicyConfig`] (serde: ordered rules,
//! first match wins, and roots per server), optionally with a
//! [`UserCallback`] (a person, e.g. behind a bot) and a [`FormFiller`]
//! (e.g. a model). Its guarantees:
//!
//! - **Limits.** A form must be the spec's flat object of primitive fields
//!   ([`check_schema`]); anything else (nested objects, `$ref`, arrays that
//!   are not multi-selects, too many properties...) is refused with a
//!   `-32602` error naming the property and the rule. The connection stays
//!   up.
//! - **Defaults** (SEP-1034) prefill every field; values from a rule, the
//!   person or the filler override them; the result is validated against
//!   the requested schema before any `accept`. A value that does not fit,
//!   or a required field left empty, declines instead.
//! - **URLs** are never opened or fetched. Only the callback can consent;
//!   without one, URL mode is not even declared. Only `https` (and `http`
//!   to this machine) is offered; the domain is shown in Unicode and ASCII
//!   with a punycode warning ([`UrlPrompt`]).
//! - **Questions** to the callback or filler run outside the policy's
//!   actor, under a deadline; past it the request is cancelled.
//! - **Roots** come per server from the configuration and can change at
//!   run time ([`Policy::set_roots`]); attached clients are told.

pub(crate) mod actor;
mod ask;
mod builder;
mod callback;
mod config;
pub(crate) mod decide;
mod defaults;
mod handle;
mod limits;
mod model_filler;
pub(crate) mod roots;
mod rules;
mod url_prompt;
mod violation;

#[cfg(test)]
mod tests;

pub use crate::error::PolicyError;
pub use builder::PolicyBuilder;
pub use callback::{
    FillError, FixedFiller, FormAnswer, FormFiller, FormPrompt, UrlAnswer, UrlConsentRequest,
    UserCallback,
};
pub use config::{ElicitationConfig, MissingRequired, PolicyConfig, RuleAction};
pub use defaults::{compose, missing_required, prefill, validate_content, FieldProblem};
pub use handle::{Policy, PolicyStats};
pub use limits::{check_schema, SchemaLimits};
pub use model_filler::{policy_from_table, ModelFiller};
pub use roots::{root_uri, to_roots, DEFAULT_ROOTS_KEY};
pub use rules::{first_match, ElicitMode, ElicitationRule, RuleInput};
pub use url_prompt::{UrlPrompt, UrlWarning};
pub use violation::{violations_error, LimitRule, Violation};
