//! `PolicyConfig`: the declarative part of a policy, as it appears in a
//! configuration file.
//!
//! ```json
//! {
//!   "elicitation": {
//!     "rules": [
//!       {"server": "github", "message": "*confirm*", "action": "accept",
//!        "values": {"confirm": true}},
//!       {"mode": "url", "action": "ask"}
//!     ],
//!     "default": "decline",
//!     "missing_required": "decline",
//!     "ask_timeout_secs": 120
//!   },
//!   "roots": {
//!     "fs": ["file:///home/me/project"],
//!     "*": ["/tmp/scratch"]
//!   }
//! }
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::rules::ElicitationRule;
use super::PolicyError;

/// The whole policy: elicitation rules and roots per server.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// `elicitation`: how forms and URLs are answered.
    #[serde(default)]
    pub elicitation: ElicitationConfig,
    /// `roots`: server name → root URIs (or plain paths, which become
    /// `file://` URIs; relative ones against the current directory). The
    /// key `"*"` is the list for every server not named (default: none).
    #[serde(default)]
    pub roots: BTreeMap<String, Vec<String>>,
}

/// How elicitation requests are answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElicitationConfig {
    /// `rules`: tried in order; the first that matches decides.
    #[serde(default)]
    pub rules: Vec<ElicitationRule>,
    /// `default`: the action when no rule matches (default `decline`).
    #[serde(default = "decline")]
    pub default: RuleAction,
    /// `missing_required`: what to do when a form would be accepted (by a
    /// rule or by its defaults) but required fields have no value: `decline`
    /// (default), `ask` (the user callback) or `fill` (the form filler);
    /// without the callback or filler it declines.
    #[serde(default)]
    pub missing_required: MissingRequired,
    /// `ask_timeout_secs`: how long the user callback or the filler may take
    /// (default 120); past it the request is cancelled.
    #[serde(default = "ask_timeout_secs")]
    pub ask_timeout_secs: u64,
}

impl Default for ElicitationConfig {
    fn default() -> Self {
        ElicitationConfig {
            rules: Vec::new(),
            default: RuleAction::Decline,
            missing_required: MissingRequired::default(),
            ask_timeout_secs: ask_timeout_secs(),
        }
    }
}

fn decline() -> RuleAction {
    RuleAction::Decline
}

fn ask_timeout_secs() -> u64 {
    120
}

/// What a rule (or the default) does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleAction {
    /// `accept`: a form is accepted with the rule's `values` over the
    /// defaults (validated first; a value that does not fit declines). For a
    /// URL this is not consent: it goes to the user callback, or is declined
    /// without one.
    Accept,
    /// `accept_defaults` (or `accept-defaults`): a form is accepted with its
    /// defaults. For a URL, as `accept`.
    #[serde(alias = "accept-defaults")]
    AcceptDefaults,
    /// `decline`: an explicit no.
    Decline,
    /// `cancel`: dismissed without an answer.
    Cancel,
    /// `ask`: forward to the user callback (declined without one).
    Ask,
    /// `fill`: ask the form filler (declined without one). For a URL, as
    /// `ask`: only a human consents to a URL.
    Fill,
}

/// What to do when required fields are still empty after rules and
/// defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MissingRequired {
    /// `decline` the request.
    #[default]
    Decline,
    /// `ask` the user callback, with what is known prefilled.
    Ask,
    /// `fill`: ask the form filler, with what is known prefilled.
    Fill,
}

impl PolicyConfig {
    /// A configuration from its JSON text (the `policy` table of a config
    /// file, as an object), checked with [`PolicyConfig::validate`].
    pub fn from_json(text: &str) -> Result<PolicyConfig, PolicyError> {
        let config: PolicyConfig =
            serde_json::from_str(text).map_err(|e| PolicyError::Config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Checks what serde cannot: `values` only on `accept`, `exact` only
    /// with `properties`, `properties` never on URL rules, a timeout above zero.
    pub fn validate(&self) -> Result<(), PolicyError> {
        for (i, rule) in self.elicitation.rules.iter().enumerate() {
            rule.validate()
                .map_err(|why| PolicyError::Config(format!("elicitation rule {}: {why}", i + 1)))?;
        }
        if self.elicitation.ask_timeout_secs == 0 {
            return Err(PolicyError::Config(
                "elicitation.ask_timeout_secs must be at least 1".into(),
            ));
        }
        Ok(())
    }
}
