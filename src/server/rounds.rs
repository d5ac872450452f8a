//! Input-required rounds (2026-07-28) on the server's side.
//!
//! A handler that asks the client something (sampling, elicitation, roots)
//! while serving a modern request does not wait: the ask is recorded under
//! a key made of its kind and its position among the run's asks
//! (`sample-0`, `elicit-1`, `roots-2`) and fails with
//! [`AskError::InputRequired`](super::AskError::InputRequired). When the
//! handler returns, the core answers `input_required` with every ask still
//! open and a `requestState` token standing for the answers so far. The
//! client's retry brings the answers (`inputResponses`) and the token; the
//! handler runs again from the start and now finds its answers by key.
//!
//! Tokens are kept on the server, not encoded in the token, so a forged or
//! altered token is simply unknown; the store is shared by every connection
//! of a server, since a modern retry may arrive over another one.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use serde_json::{Map, Value};

use super::error::error;
use crate::protocol::{codes, ErrorObject};

/// How many `requestState` tokens a server remembers (the oldest go first).
const MAX_STATES: usize = 4096;

/// The asks of one run of a modern handler.
#[derive(Default)]
pub(crate) struct Round {
    /// Answers known so far, by key (from `requestState` and `inputResponses`).
    pub(crate) answers: Map<String, Value>,
    /// How many asks the handler has made in this run.
    pub(crate) next: usize,
    /// Asks without an answer yet: key and `{method, params}`.
    pub(crate) open: Map<String, Value>,
    /// The first capability an ask needed and the request lacked.
    pub(crate) missing_capability: Option<&'static str>,
}

struct Stored {
    method: String,
    target: String,
    answers: Map<String, Value>,
}

/// `requestState` tokens and the answers they stand for.
pub(crate) struct StateStore {
    states: Mutex<(HashMap<String, Stored>, VecDeque<String>)>,
    salt: RandomState,
    counter: AtomicU64,
}

impl StateStore {
    pub(crate) fn new() -> Self {
        StateStore {
            states: Mutex::new((HashMap::new(), VecDeque::new())),
            salt: RandomState::new(),
            counter: AtomicU64::new(0),
        }
    }

    /// Mints a token for the answers gathered so far in a round of
    /// `method` on `target` (tool name, URI or prompt name).
    pub(crate) fn mint(&self, method: &str, target: &str, answers: Map<String, Value>) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let token = format!("rs{n:x}.{:016x}", self.salt.hash_one((n, method, target)));
        let mut guard = self.states.lock().unwrap_or_else(|p| p.into_inner());
        let (map, order) = &mut *guard;
        map.insert(
            token.clone(),
            Stored {
                method: method.into(),
                target: target.into(),
                answers,
            },
        );
        order.push_back(token.clone());
        while order.len() > MAX_STATES {
            if let Some(old) = order.pop_front() {
                map.remove(&old);
            }
        }
        token
    }

    /// The answers behind `token`, which must have been minted for the same
    /// method and target; anything else is -32602.
    pub(crate) fn redeem(
        &self,
        token: &str,
        method: &str,
        target: &str,
    ) -> Result<Map<String, Value>, ErrorObject> {
        let guard = self.states.lock().unwrap_or_else(|p| p.into_inner());
        match guard.0.get(token) {
            Some(s) if s.method == method && s.target == target => Ok(s.answers.clone()),
            _ => Err(error(codes::INVALID_PARAMS, "invalid requestState")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_redeem_only_for_their_request_and_age_out() {
        let store = StateStore::new();
        let answers = Map::from_iter([("elicit-0".to_owned(), Value::from("yes"))]);
        let token = store.mint("tools/call", "confirm", answers.clone());
        assert_eq!(
            store.redeem(&token, "tools/call", "confirm").unwrap(),
            answers
        );
        assert!(store.redeem(&token, "tools/call", "other").is_err());
        assert!(store.redeem(&token, "prompts/get", "confirm").is_err());
        assert!(store.redeem("rs0.forged", "tools/call", "confirm").is_err());
        for _ in 0..MAX_STATES {
            store.mint("tools/call", "x", Map::new());
        }
        assert!(store.redeem(&token, "tools/call", "confirm").is_err());
    }
}
