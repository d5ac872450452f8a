//! Budgets per server: how many sampling requests and model tokens each
//! server may spend.
//!
//! Tokens are counted from the `usage` a reply reports (a reply without
//! one counts its estimate). Before a call, a rough estimate (prompt text
//! at four characters a token, plus `maxTokens`) is reserved, so concurrent
//! calls cannot overrun the budget together: a call is refused when the
//! tokens used, plus those reserved by calls in flight, plus its estimate
//! would pass the limit.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Deserialize;

use crate::protocol::{CreateMessageRequestParams, SamplingContent};

/// Limits for each server (absent: unlimited).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Sampling requests a server may make.
    #[serde(default)]
    pub requests: Option<u64>,
    /// Model tokens (prompt + completion) a server may spend.
    #[serde(default)]
    pub tokens: Option<u64>,
}

/// What one server has spent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerUsage {
    /// Requests admitted (answered or failed).
    pub requests: u64,
    /// Tokens counted from replies.
    pub tokens: u64,
    /// Tokens reserved by calls in flight.
    pub reserved_tokens: u64,
    /// Requests refused because a budget was spent.
    pub refused: u64,
    /// Requests the approval hook denied (or did not approve in time);
    /// they count against no budget.
    pub denied: u64,
}

/// The books of every server (kept by the sampling actor).
#[derive(Debug, Default)]
pub(crate) struct Books {
    budget: Budget,
    servers: HashMap<Arc<str>, ServerUsage>,
}

impl Books {
    pub(crate) fn new(budget: Budget) -> Self {
        Books {
            budget,
            servers: HashMap::new(),
        }
    }

    /// Admits a request estimated at `estimate` tokens and reserves them,
    /// or says which budget is spent.
    pub(crate) fn admit(&mut self, server: &Arc<str>, estimate: u64) -> Result<(), String> {
        let budget = self.budget;
        let usage = self.servers.entry(server.clone()).or_default();
        if let Some(max) = budget.requests {
            if usage.requests >= max {
                usage.refused += 1;
                return Err(format!(
                    "sampling request budget of server {server} is spent ({} of {max} requests)",
                    usage.requests
                ));
            }
        }
        if let Some(max) = budget.tokens {
            let committed = usage.tokens + usage.reserved_tokens;
            if committed.saturating_add(estimate) > max {
                usage.refused += 1;
                return Err(format!(
                    "sampling token budget of server {server} is spent ({} used, {} in flight, this request may need {estimate}, limit {max})",
                    usage.tokens, usage.reserved_tokens
                ));
            }
        }
        usage.requests += 1;
        usage.reserved_tokens += estimate;
        Ok(())
    }

    /// Releases the reservation and counts what was used (`None`: the
    /// estimate, as the reply did not say).
    pub(crate) fn settle(&mut self, server: &Arc<str>, estimate: u64, used: Option<u64>) {
        let usage = self.servers.entry(server.clone()).or_default();
        usage.reserved_tokens = usage.reserved_tokens.saturating_sub(estimate);
        usage.tokens += used.unwrap_or(estimate);
    }

    /// Takes back an admission that never reached the model (the approval
    /// hook said no).
    pub(crate) fn withdraw(&mut self, server: &Arc<str>, estimate: u64) {
        let usage = self.servers.entry(server.clone()).or_default();
        usage.requests = usage.requests.saturating_sub(1);
        usage.reserved_tokens = usage.reserved_tokens.saturating_sub(estimate);
        usage.denied += 1;
    }

    pub(crate) fn usage(&self, server: &str) -> ServerUsage {
        self.servers.get(server).copied().unwrap_or_default()
    }
}

/// A rough token estimate for a request: its text at four characters a
/// token, plus `maxTokens`.
pub fn estimate_tokens(params: &CreateMessageRequestParams) -> u64 {
    let mut chars = params.system_prompt.as_deref().map_or(0, str::len);
    for m in &params.messages {
        for b in m.content.blocks() {
            chars += match b {
                SamplingContent::Text(t) => t.text.len(),
                SamplingContent::ToolUse(u) => {
                    u.name.len() + serde_json::Value::Object(u.input.clone()).to_string().len()
                }
                SamplingContent::ToolResult(r) => {
                    serde_json::to_string(&r.content).map_or(0, |s| s.len())
                }
                // Media are priced by the provider in ways we cannot know here.
                SamplingContent::Image(_) | SamplingContent::Audio(_) => 0,
            };
        }
    }
    (chars as u64).div_ceil(4) + params.max_tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_tokens_run_out() {
        let s: Arc<str> = "srv".into();
        let mut b = Books::new(Budget {
            requests: Some(2),
            tokens: None,
        });
        b.admit(&s, 10).unwrap();
        b.admit(&s, 10).unwrap();
        assert!(b.admit(&s, 10).unwrap_err().contains("request budget"));
        assert_eq!(b.usage("srv").refused, 1);
        assert_eq!(b.usage("other"), ServerUsage::default());

        let mut b = Books::new(Budget {
            requests: None,
            tokens: Some(100),
        });
        b.admit(&s, 40).unwrap();
        b.admit(&s, 40).unwrap();
        // 80 reserved: a third 40 would pass 100.
        assert!(b.admit(&s, 40).unwrap_err().contains("token budget"));
        b.settle(&s, 40, Some(10));
        b.settle(&s, 40, None);
        assert_eq!(b.usage("srv").tokens, 50);
        b.admit(&s, 50).unwrap();
        assert!(b.admit(&s, 1).is_err());
    }
}
