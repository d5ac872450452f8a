//! Protocol revisions, the two eras they fall into, and the reserved
//! `_meta` keys of the stateless (2026-07-28) era.

use std::fmt;
use std::str::FromStr;

use super::ProtocolError;

/// A protocol revision this client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ProtocolVersion {
    /// 2024-11-05 (HTTP+SSE era).
    V2024_11_05,
    /// 2025-03-26 (Streamable HTTP, batches).
    V2025_03_26,
    /// 2025-06-18 (structured output, elicitation).
    V2025_06_18,
    /// 2025-11-25 (the last handshake-era revision).
    V2025_11_25,
    /// 2026-07-28 (stateless: discover, input-required rounds).
    V2026_07_28,
}

/// The two families of revisions, which differ in how a conversation starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Era {
    /// 2026-07-28 and later: no handshake, `_meta` on every request,
    /// `server/discover`, input-required rounds.
    Modern,
    /// 2025-11-25 and earlier: `initialize`, sessions, server-sent requests.
    Handshake,
}

impl ProtocolVersion {
    /// Every revision, newest first.
    pub const ALL: [ProtocolVersion; 5] = [
        ProtocolVersion::V2026_07_28,
        ProtocolVersion::V2025_11_25,
        ProtocolVersion::V2025_06_18,
        ProtocolVersion::V2025_03_26,
        ProtocolVersion::V2024_11_05,
    ];

    /// The newest revision.
    pub const LATEST: ProtocolVersion = ProtocolVersion::V2026_07_28;

    /// The newest handshake-era revision.
    pub const LATEST_HANDSHAKE: ProtocolVersion = ProtocolVersion::V2025_11_25;

    /// The wire form, e.g. `"2025-11-25"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ProtocolVersion::V2024_11_05 => "2024-11-05",
            ProtocolVersion::V2025_03_26 => "2025-03-26",
            ProtocolVersion::V2025_06_18 => "2025-06-18",
            ProtocolVersion::V2025_11_25 => "2025-11-25",
            ProtocolVersion::V2026_07_28 => "2026-07-28",
        }
    }

    /// The era the revision belongs to.
    pub const fn era(self) -> Era {
        match self {
            ProtocolVersion::V2026_07_28 => Era::Modern,
            _ => Era::Handshake,
        }
    }

    /// Parses a wire version, `None` when we do not speak it.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProtocolVersion {
    type Err = ProtocolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| ProtocolError::UnknownVersion {
            given: s.to_owned(),
            known: Self::ALL.map(|v| v.as_str()).join(", "),
        })
    }
}

/// Which revision to use with a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VersionChoice {
    /// Probe `server/discover`; fall back to `initialize` (the default).
    #[default]
    Auto,
    /// Use exactly this revision (its era decides how to start).
    Exact(ProtocolVersion),
}

impl FromStr for VersionChoice {
    type Err = ProtocolError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("auto") {
            Ok(VersionChoice::Auto)
        } else {
            s.parse().map(VersionChoice::Exact)
        }
    }
}

/// Reserved `_meta` keys.
pub mod meta {
    /// Protocol version of a 2026-07-28 request.
    pub const PROTOCOL_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
    /// Client capabilities of a 2026-07-28 request.
    pub const CLIENT_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
    /// Client identity of a 2026-07-28 request.
    pub const CLIENT_INFO: &str = "io.modelcontextprotocol/clientInfo";
    /// Per-request log level opt-in (2026-07-28).
    pub const LOG_LEVEL: &str = "io.modelcontextprotocol/logLevel";
    /// Server identity on 2026-07-28 results.
    pub const SERVER_INFO: &str = "io.modelcontextprotocol/serverInfo";
    /// Subscription id on `subscriptions/listen` notifications.
    pub const SUBSCRIPTION_ID: &str = "io.modelcontextprotocol/subscriptionId";
    /// Progress token (both eras).
    pub const PROGRESS_TOKEN: &str = "progressToken";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_round_trip_and_know_their_era() {
        for v in ProtocolVersion::ALL {
            assert_eq!(ProtocolVersion::parse(v.as_str()), Some(v));
        }
        assert_eq!(ProtocolVersion::LATEST.era(), Era::Modern);
        assert_eq!(ProtocolVersion::V2025_11_25.era(), Era::Handshake);
        assert!("2023-01-01".parse::<ProtocolVersion>().is_err());
        assert_eq!(
            "auto".parse::<VersionChoice>().unwrap(),
            VersionChoice::Auto
        );
    }
}
