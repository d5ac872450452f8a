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
//! Tokens are sealed, not stored: the answers so far, the method and
//! target they were given for and an expiry, signed with HMAC-SHA256. Any
//! server holding the same key (every replica behind a load balancer, with
//! [`ServerBuilder::state_key`](super::ServerBuilder::state_key)) redeems
//! any token; a forged, altered, expired or misdirected one is -32602. The
//! answers are the client's own, so it may read them; it cannot change
//! them.
//!
//! A handler may also relay a round made elsewhere (a gateway passing on
//! its upstream's `input_required`): its asks go out under their own keys,
//! and a value of its choosing (the upstream's own `requestState`) is
//! sealed into the token beside the answers, to come back on the retry
//! (see [`Context::relay_round`](super::Context::relay_round)).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::error::error;
use crate::protocol::{codes, ErrorObject};

/// Default lifetime of a `requestState` token: ten minutes.
pub const DEFAULT_STATE_TTL: Duration = Duration::from_secs(600);

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
    /// What a relaying handler sealed into the token this retry brought.
    pub(crate) relayed: Option<Value>,
    /// What a relaying handler wants sealed into the next token.
    pub(crate) relay: Option<Value>,
}

/// What a token redeems to.
#[derive(Debug)]
pub(crate) struct Redeemed {
    /// The answers so far.
    pub(crate) answers: Map<String, Value>,
    /// A relaying handler's value, if it sealed one.
    pub(crate) relayed: Option<Value>,
}

/// What a token stands for.
#[derive(Serialize, Deserialize)]
struct Sealed {
    /// The method and target (tool name, URI or prompt name).
    m: String,
    t: String,
    /// Expiry, in seconds since the epoch.
    e: u64,
    /// The answers so far.
    a: Map<String, Value>,
    /// A relaying handler's value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    r: Option<Value>,
}

/// Seals and opens `requestState` tokens.
pub(crate) struct StateSeal {
    key: hmac::Key,
    ttl: Duration,
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl StateSeal {
    /// A seal with `key`, or a random one (tokens then redeem only on
    /// this server).
    pub(crate) fn new(key: Option<&[u8]>, ttl: Duration) -> Self {
        let mut random = [0u8; 32];
        let key = match key {
            Some(k) => k,
            None => {
                // A failing system RNG leaves the zero key: tokens still
                // cannot be altered without it being known, but say so.
                if SystemRandom::new().fill(&mut random).is_err() {
                    tracing::warn!("no system randomness: requestState tokens use a fixed key");
                }
                &random
            }
        };
        StateSeal {
            key: hmac::Key::new(hmac::HMAC_SHA256, key),
            ttl,
        }
    }

    /// Mints a token for the answers gathered so far in a round of
    /// `method` on `target`, and a relaying handler's value.
    pub(crate) fn mint(
        &self,
        method: &str,
        target: &str,
        answers: Map<String, Value>,
        relay: Option<Value>,
    ) -> String {
        self.mint_for(method, target, answers, relay, self.ttl)
    }

    fn mint_for(
        &self,
        method: &str,
        target: &str,
        answers: Map<String, Value>,
        relay: Option<Value>,
        ttl: Duration,
    ) -> String {
        let sealed = Sealed {
            m: method.into(),
            t: target.into(),
            e: now().saturating_add(ttl.as_secs()),
            a: answers,
            r: relay,
        };
        let payload = serde_json::to_vec(&sealed).unwrap_or_default();
        let tag = hmac::sign(&self.key, &payload);
        let mut token = URL_SAFE_NO_PAD.encode(&payload);
        token.push('.');
        token.push_str(&URL_SAFE_NO_PAD.encode(tag.as_ref()));
        token
    }

    /// What `token` stands for; it must be ours, unexpired, and minted
    /// for the same method and target; anything else is -32602.
    pub(crate) fn redeem(
        &self,
        token: &str,
        method: &str,
        target: &str,
    ) -> Result<Redeemed, ErrorObject> {
        let sealed = self.verify(token, method, target, "requestState")?;
        Ok(Redeemed {
            answers: sealed.a,
            relayed: sealed.r,
        })
    }

    /// Seals `value` for `purpose` into a token that opens for `ttl` on
    /// every server holding the same key (a proxy's task ids).
    pub(crate) fn seal(&self, purpose: &str, value: Value, ttl: Duration) -> String {
        self.mint_for(purpose, "", Map::new(), Some(value), ttl)
    }

    /// The value [`StateSeal::seal`] sealed for `purpose` (`what` names
    /// the token in the -32602 of a forged, altered or expired one).
    pub(crate) fn open(
        &self,
        token: &str,
        purpose: &str,
        what: &str,
    ) -> Result<Value, ErrorObject> {
        let sealed = self.verify(token, purpose, "", what)?;
        Ok(sealed.r.unwrap_or(Value::Null))
    }

    fn verify(
        &self,
        token: &str,
        method: &str,
        target: &str,
        what: &str,
    ) -> Result<Sealed, ErrorObject> {
        let invalid = |why: &str| error(codes::INVALID_PARAMS, format!("invalid {what}: {why}"));
        let (payload, tag) = token
            .split_once('.')
            .ok_or_else(|| invalid("not a token of this server"))?;
        let payload = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| invalid("not a token of this server"))?;
        let tag = URL_SAFE_NO_PAD
            .decode(tag)
            .map_err(|_| invalid("not a token of this server"))?;
        hmac::verify(&self.key, &payload, &tag)
            .map_err(|_| invalid("altered or not minted here"))?;
        let sealed: Sealed = serde_json::from_slice(&payload).map_err(|_| invalid("unreadable"))?;
        if sealed.m != method || sealed.t != target {
            return Err(invalid("minted for another request"));
        }
        if sealed.e < now() {
            return Err(invalid("expired: start the request again"));
        }
        Ok(sealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_redeem_only_unaltered_for_their_request_and_key() {
        let seal = StateSeal::new(Some(b"shared by every replica"), DEFAULT_STATE_TTL);
        let answers = Map::from_iter([("elicit-0".to_owned(), Value::from("yes"))]);
        let token = seal.mint("tools/call", "confirm", answers.clone(), None);
        let redeemed = seal.redeem(&token, "tools/call", "confirm").unwrap();
        assert_eq!(redeemed.answers, answers);
        assert_eq!(redeemed.relayed, None);
        // A relayed value comes back as it was sealed.
        let relayed = seal.mint("tools/call", "confirm", Map::new(), Some("up".into()));
        let redeemed = seal.redeem(&relayed, "tools/call", "confirm").unwrap();
        assert_eq!(redeemed.relayed, Some(Value::from("up")));
        // Another replica with the same key redeems it; another key does not.
        let replica = StateSeal::new(Some(b"shared by every replica"), DEFAULT_STATE_TTL);
        assert_eq!(
            replica
                .redeem(&token, "tools/call", "confirm")
                .unwrap()
                .answers,
            answers
        );
        let stranger = StateSeal::new(None, DEFAULT_STATE_TTL);
        assert!(stranger.redeem(&token, "tools/call", "confirm").is_err());
        assert!(seal.redeem(&token, "tools/call", "other").is_err());
        assert!(seal.redeem(&token, "prompts/get", "confirm").is_err());
        assert!(seal.redeem("rs0.forged", "tools/call", "confirm").is_err());
        // One flipped character anywhere is refused.
        for at in [0, token.len() / 2, token.len() - 1] {
            let mut bytes = token.clone().into_bytes();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(bytes).unwrap();
            let e = seal.redeem(&altered, "tools/call", "confirm").unwrap_err();
            assert_eq!(e.code, codes::INVALID_PARAMS);
        }
        // An expired token is refused.
        let short = StateSeal::new(Some(b"k"), Duration::ZERO);
        let mut sealed: Sealed = Sealed {
            m: "tools/call".into(),
            t: "x".into(),
            e: now() - 1,
            a: Map::new(),
            r: None,
        };
        let payload = serde_json::to_vec(&sealed).unwrap();
        let tag = hmac::sign(&short.key, &payload);
        let old = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(tag.as_ref())
        );
        assert!(short
            .redeem(&old, "tools/call", "x")
            .unwrap_err()
            .message
            .contains("expired"));
        sealed.e = now() + 60;
        let payload = serde_json::to_vec(&sealed).unwrap();
        let tag = hmac::sign(&short.key, &payload);
        let fresh = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&payload),
            URL_SAFE_NO_PAD.encode(tag.as_ref())
        );
        assert!(short.redeem(&fresh, "tools/call", "x").is_ok());
    }
}
