//! The replay policy: which tool calls cut by a restart of their server
//! are sent again, once, on the new connection.
//!
//! A supervised connection that is lost fails its calls in flight with
//! [`Error::ServerRestarted`]: the server may or may not have run them. A
//! call that cannot do harm twice (a read-only or idempotent tool, or one
//! the operator vouches for) is better sent again than reported; anything
//! else keeps the typed "outcome unknown" error. The same policy drives the
//! distributed worker's replay of a call whose worker was lost
//! (`dist::replay`, feature `distributed`).

use std::time::{Duration, Instant};

use serde::Deserialize;

use super::glob::glob_match;
use super::Client;
use crate::protocol::ToolAnnotations;
use crate::session::{CallOptions, Session};
use crate::{Error, Result};

/// Which calls cut by a restart are sent again (default [`Replay::Safe`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Replay {
    /// None: every call cut by a restart fails with
    /// [`Error::ServerRestarted`].
    Never,
    /// Calls to tools whose annotations say `readOnlyHint` or
    /// `idempotentHint` (or whose name an `allow` glob matches), unless a
    /// `deny` glob matches.
    #[default]
    Safe,
    /// Every call, unless a `deny` glob matches (at-least-once for
    /// everything: only for servers whose tools you know).
    Always,
}

impl Replay {
    /// The setting's name as written in a config file.
    pub fn as_str(self) -> &'static str {
        match self {
            Replay::Never => "never",
            Replay::Safe => "safe",
            Replay::Always => "always",
        }
    }
}

impl std::str::FromStr for Replay {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "never" => Ok(Replay::Never),
            "safe" => Ok(Replay::Safe),
            "always" => Ok(Replay::Always),
            _ => Err(format!(
                "expected \"never\", \"safe\" or \"always\", got {s:?}"
            )),
        }
    }
}

/// The replay policy of a server ([`ClientBuilder::replay`](super::ClientBuilder::replay),
/// a config file's `replay`) or of an agent's tools on a lost worker (an
/// agent definition's `[tools] replay`). The default replays read-only
/// and idempotent tools and nothing else.
///
/// Annotations are hints from a server that may not be trusted, so the
/// operator has the last word: `deny` globs (over tool names, see
/// [`crate::config::glob_match`]) are never replayed whatever the mode and
/// the annotations say, and under [`Replay::Safe`] `allow` globs name tools
/// replayed though their annotations do not say they are safe.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ReplayPolicy {
    /// The mode (default [`Replay::Safe`]).
    pub mode: Replay,
    /// Under [`Replay::Safe`], tools replayed whatever their annotations
    /// say (default none).
    pub allow: Vec<String>,
    /// Tools never replayed, in any mode (default none). Deny wins.
    pub deny: Vec<String>,
}

impl ReplayPolicy {
    /// A policy of this mode, without globs.
    pub fn new(mode: Replay) -> Self {
        ReplayPolicy {
            mode,
            ..ReplayPolicy::default()
        }
    }

    /// Adds globs of tools replayed under [`Replay::Safe`] whatever their
    /// annotations say.
    pub fn allow<I, S>(mut self, globs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allow.extend(globs.into_iter().map(Into::into));
        self
    }

    /// Adds globs of tools never replayed.
    pub fn deny<I, S>(mut self, globs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.deny.extend(globs.into_iter().map(Into::into));
        self
    }

    /// Whether a call of `tool`, with these annotations (`None`: none
    /// known), may be sent again after its outcome was lost.
    pub fn replays(&self, tool: &str, annotations: Option<&ToolAnnotations>) -> bool {
        if self.deny.iter().any(|g| glob_match(g, tool)) {
            return false;
        }
        match self.mode {
            Replay::Never => false,
            Replay::Always => true,
            Replay::Safe => {
                annotations.is_some_and(|a| a.read_only() || a.idempotent())
                    || self.allow.iter().any(|g| glob_match(g, tool))
            }
        }
    }
}

impl Client {
    /// A call of `name` failed with [`Error::ServerRestarted`]: if the
    /// policy lets it be sent again, waits for the restarted connection
    /// and gives it with the call's options, their hard cap cut to what is
    /// left of the call's own deadline (`cap` from `started`). Otherwise,
    /// or when the deadline is used up, the error to return.
    pub(super) async fn prepare_replay(
        &self,
        name: &str,
        options: &CallOptions,
        started: Instant,
        cap: Duration,
    ) -> Result<(Session, CallOptions)> {
        let annotations = self.known_tool(name).and_then(|k| k.annotations.clone());
        if !self.inner.replay.replays(name, annotations.as_ref()) {
            return Err(Error::ServerRestarted);
        }
        let passed = || Error::Timeout {
            method: "tools/call".into(),
            elapsed: started.elapsed(),
            hint: Some("cut by a restart of the server, and not sent again in time".into()),
        };
        let left = || {
            cap.checked_sub(started.elapsed())
                .filter(|d| !d.is_zero())
                .ok_or_else(passed)
        };
        tracing::info!(server = %self.inner.name, tool = %name, "the server restarted mid-call: sending the call again, once");
        let session = match tokio::time::timeout(left()?, self.ready()).await {
            Ok(session) => session?,
            Err(_) => return Err(passed()),
        };
        Ok((session, options.clone().max_time(left()?)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hints(read_only: bool, idempotent: bool) -> ToolAnnotations {
        ToolAnnotations {
            read_only_hint: Some(read_only),
            idempotent_hint: Some(idempotent),
            ..ToolAnnotations::default()
        }
    }

    #[test]
    fn safe_replays_read_only_and_idempotent_tools_only() {
        let p = ReplayPolicy::default();
        assert_eq!(p.mode, Replay::Safe);
        assert!(p.replays("get", Some(&hints(true, false))));
        assert!(p.replays("put", Some(&hints(false, true))));
        assert!(!p.replays("charge", Some(&hints(false, false))));
        assert!(!p.replays("unknown", None), "no annotations: not safe");
    }

    #[test]
    fn deny_wins_in_every_mode_and_allow_vouches_under_safe() {
        let p = ReplayPolicy::new(Replay::Safe)
            .allow(["note_*"])
            .deny(["get_secret*"]);
        assert!(p.replays("note_add", None));
        assert!(!p.replays("get_secret", Some(&hints(true, true))));
        let always = ReplayPolicy::new(Replay::Always).deny(["charge"]);
        assert!(always.replays("anything", None));
        assert!(!always.replays("charge", None));
        let never = ReplayPolicy::new(Replay::Never).allow(["*"]);
        assert!(!never.replays("get", Some(&hints(true, true))));
    }

    #[test]
    fn modes_read_as_written() {
        for mode in [Replay::Never, Replay::Safe, Replay::Always] {
            assert_eq!(mode.as_str().parse::<Replay>(), Ok(mode));
        }
        assert_eq!(" Always ".parse::<Replay>(), Ok(Replay::Always));
        assert!("sometimes".parse::<Replay>().is_err());
    }
}
