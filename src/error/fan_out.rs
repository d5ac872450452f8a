//! A fan-out (a race, a quorum, a gathered read over several servers)
//! that could not reach what it needed, and how each of its legs ended.

use std::fmt;
use std::time::Duration;

use super::Error;

/// How one leg of a fan-out ended without a success.
#[derive(Debug)]
#[non_exhaustive]
pub enum LegEnd {
    /// The request failed: the error as the leg saw it.
    Failed(Error),
    /// The tool answered with `isError: true`; its text.
    ToolError(String),
    /// Still running when the outcome was settled (a race won, a quorum
    /// reached or out of reach): dropped, so the server was sent
    /// `notifications/cancelled`.
    Cancelled,
    /// Still running at the fan-out's deadline: dropped, so the server was
    /// sent `notifications/cancelled`.
    DeadlinePassed,
}

impl fmt::Display for LegEnd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LegEnd::Failed(e) => write!(f, "failed: {e}"),
            LegEnd::ToolError(text) => write!(f, "tool error: {text}"),
            LegEnd::Cancelled => f.write_str("cancelled"),
            LegEnd::DeadlinePassed => f.write_str("cut at the deadline"),
        }
    }
}

/// One server's leg that did not succeed.
#[derive(Debug)]
#[non_exhaustive]
pub struct LegReport {
    /// The server.
    pub server: String,
    /// How its leg ended.
    pub end: LegEnd,
}

impl LegReport {
    /// A report of `server`'s leg.
    pub fn new(server: impl Into<String>, end: LegEnd) -> Self {
        LegReport {
            server: server.into(),
            end,
        }
    }
}

/// Why a fan-out failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FanOutErrorKind {
    /// No server has the tool or lists the resource (or none was named).
    NoServers,
    /// Too many legs failed for the successes needed: known as soon as
    /// the legs still running could no longer make up the difference (or
    /// before any call, when fewer servers than needed take part).
    Unreachable,
    /// The deadline passed first.
    Deadline,
}

/// A fan-out that did not get the successes it needed: which servers
/// succeeded, and how every other leg ended.
#[derive(Debug)]
#[non_exhaustive]
pub struct FanOutError {
    /// What was fanned out: `race tools/call echo`, `quorum(2) resources/read ...`.
    pub what: String,
    /// Successes needed.
    pub needed: usize,
    /// The servers that succeeded (their results are dropped).
    pub succeeded: Vec<String>,
    /// Why it failed.
    pub kind: FanOutErrorKind,
    /// Every leg that did not succeed, in the order it ended (legs cut
    /// when the fan-out gave up come last).
    pub legs: Vec<LegReport>,
    /// How long the fan-out ran.
    pub elapsed: Duration,
}

impl fmt::Display for FanOutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let why = match self.kind {
            FanOutErrorKind::NoServers => "no server takes part",
            FanOutErrorKind::Unreachable => "too many legs failed",
            FanOutErrorKind::Deadline => "the deadline passed",
        };
        write!(
            f,
            "{}: {} of {} successes needed after {:?} ({why})",
            self.what,
            self.succeeded.len(),
            self.needed,
            self.elapsed
        )?;
        for leg in &self.legs {
            write!(f, "; {}: {}", leg.server, leg.end)?;
        }
        Ok(())
    }
}

impl std::error::Error for FanOutError {}
