//! Elicitation rules: an ordered list, the first match wins.
//!
//! A rule holds conditions (all given ones must hold; none means "always")
//! and an action. Matching is deterministic and cheap: globs and substrings
//! on the server's name and the message, the mode, and the names the form
//! asks for.

use serde::{Deserialize, Serialize};

use super::config::RuleAction;
use crate::config::glob_match;
use crate::protocol::JsonObject;

/// Which kind of elicitation a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElicitMode {
    /// `form`: fill in fields.
    Form,
    /// `url`: visit a URL out of band.
    Url,
}

/// One rule of [`super::ElicitationConfig::rules`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ElicitationRule {
    /// `server`: a glob on the server's name as configured (`*` any run of
    /// characters, `?` one character; case-sensitive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// `message`: with `*` or `?` a glob on the whole message, otherwise a
    /// substring of it; case-insensitive either way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `mode`: `form` or `url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<ElicitMode>,
    /// `properties`: names the form must ask for (it may ask for more,
    /// unless `exact`). Only forms match a rule with `properties`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Vec<String>>,
    /// `exact`: with `properties`, the form must ask for those names and no
    /// others (default false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exact: bool,
    /// `action`: what to do (see [`RuleAction`]).
    pub action: RuleAction,
    /// `values`: for `accept`, the values to send, over the form's
    /// defaults. Names the form does not ask for are dropped.
    #[serde(default, skip_serializing_if = "JsonObject::is_empty")]
    pub values: JsonObject,
}

/// What a rule sees of a request.
#[derive(Debug, Clone, Copy)]
pub struct RuleInput<'a> {
    /// The server's name.
    pub server: &'a str,
    /// The message shown to the user.
    pub message: &'a str,
    /// Form or URL.
    pub mode: ElicitMode,
    /// The names a form asks for (empty for URLs).
    pub properties: &'a [&'a str],
}

impl ElicitationRule {
    /// A rule that always applies, doing `action`.
    pub fn always(action: RuleAction) -> Self {
        ElicitationRule {
            server: None,
            message: None,
            mode: None,
            properties: None,
            exact: false,
            action,
            values: JsonObject::new(),
        }
    }

    /// Whether every condition holds for `input`.
    pub fn matches(&self, input: &RuleInput<'_>) -> bool {
        if let Some(glob) = &self.server {
            if !glob_match(glob, input.server) {
                return false;
            }
        }
        if let Some(pattern) = &self.message {
            if !message_matches(pattern, input.message) {
                return false;
            }
        }
        if self.mode.is_some_and(|m| m != input.mode) {
            return false;
        }
        if let Some(names) = &self.properties {
            if input.mode != ElicitMode::Form {
                return false;
            }
            let all_asked = names.iter().all(|n| input.properties.contains(&n.as_str()));
            let nothing_else = input
                .properties
                .iter()
                .all(|p| names.iter().any(|n| n == p));
            if !all_asked || (self.exact && !nothing_else) {
                return false;
            }
        }
        true
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if !self.values.is_empty() && self.action != RuleAction::Accept {
            return Err(format!(
                "\"values\" only go with \"accept\", not {:?}",
                self.action
            ));
        }
        if self.exact && self.properties.is_none() {
            return Err("\"exact\" needs \"properties\"".into());
        }
        if self.properties.is_some() && self.mode == Some(ElicitMode::Url) {
            return Err("a URL request has no properties to match".into());
        }
        Ok(())
    }
}

fn message_matches(pattern: &str, message: &str) -> bool {
    let pattern = pattern.to_lowercase();
    let message = message.to_lowercase();
    if pattern.contains(['*', '?']) {
        glob_match(&pattern, &message)
    } else {
        message.contains(&pattern)
    }
}

/// The first rule matching `input`, with its index.
pub fn first_match<'r>(
    rules: &'r [ElicitationRule],
    input: &RuleInput<'_>,
) -> Option<(usize, &'r ElicitationRule)> {
    rules.iter().enumerate().find(|(_, r)| r.matches(input))
}
