//! What a check found: each [`Finding`] (what was sent, what came back,
//! the rule it breaks, how to fix it), the outcome of each check, and the
//! figures measured on the way. Serialized as the `--json` report
//! (schema `switchboard.check/1`, documented in the README).

use serde::Serialize;
use serde_json::Value;

/// The name of the JSON report's schema; bumped when a field changes meaning.
pub const SCHEMA: &str = "switchboard.check/1";

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; does not fail the check.
    Note,
    /// Breaks a SHOULD of the spec, or something model APIs refuse.
    Warning,
    /// Breaks a MUST of the spec: clients will fail.
    Error,
}

impl Severity {
    /// The word the report uses (`error`, `warning`, `note`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// One thing wrong (or worth a note) with the server.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The check that found it, `group.name` (e.g. `tools.name`).
    pub check: String,
    /// How bad it is.
    pub severity: Severity,
    /// The protocol revision it was found in (`None`: not era-specific).
    pub era: Option<String>,
    /// What it is about (`tool "x"`, `resource file:///a`), when it is one item.
    pub subject: Option<String>,
    /// What is wrong, in a sentence.
    pub message: String,
    /// What was sent (a JSON-RPC request, or an HTTP request described), if anything.
    pub sent: Option<Value>,
    /// What came back (a result, an error object, a status), if anything.
    pub received: Option<Value>,
    /// The spec rule it breaks, with where it is written.
    pub rule: String,
    /// How to fix it.
    pub fix: String,
}

impl Finding {
    /// A finding of `severity` from `check`, saying `message`; the rest
    /// is set with the methods below (all empty by default).
    pub fn new(check: &str, severity: Severity, message: impl Into<String>) -> Self {
        Finding {
            check: check.to_owned(),
            severity,
            era: None,
            subject: None,
            message: message.into(),
            sent: None,
            received: None,
            rule: String::new(),
            fix: String::new(),
        }
    }

    /// An [`Severity::Error`].
    pub fn error(check: &str, message: impl Into<String>) -> Self {
        Self::new(check, Severity::Error, message)
    }

    /// A [`Severity::Warning`].
    pub fn warning(check: &str, message: impl Into<String>) -> Self {
        Self::new(check, Severity::Warning, message)
    }

    /// A [`Severity::Note`].
    pub fn note(check: &str, message: impl Into<String>) -> Self {
        Self::new(check, Severity::Note, message)
    }

    /// What it is about.
    pub fn subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// What was sent.
    pub fn sent(mut self, sent: Value) -> Self {
        self.sent = Some(super::excerpt::value(sent));
        self
    }

    /// What came back.
    pub fn received(mut self, received: Value) -> Self {
        self.received = Some(super::excerpt::value(received));
        self
    }

    /// The rule it breaks.
    pub fn rule(mut self, rule: impl Into<String>) -> Self {
        self.rule = rule.into();
        self
    }

    /// How to fix it.
    pub fn fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = fix.into();
        self
    }

    /// The group of its check (`tools` of `tools.name`).
    pub fn group(&self) -> &str {
        group_of(&self.check)
    }
}

/// The group of a check id: what comes before the first `.`.
pub fn group_of(check: &str) -> &str {
    check.split('.').next().unwrap_or(check)
}

/// How one check ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Nothing wrong (notes aside).
    Pass,
    /// At least one error or warning.
    Fail,
    /// Not run (see the reason).
    Skip,
}

/// One check as run in one era.
#[derive(Debug, Clone, Serialize)]
pub struct CheckRun {
    /// `group.name`.
    pub check: String,
    /// The revision it ran in (`None`: not era-specific).
    pub era: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// Why it was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An era the server was checked in, and whether it spoke it.
#[derive(Debug, Clone, Serialize)]
pub struct EraReport {
    /// The revision asked for (`2026-07-28`, `2025-11-25`).
    pub era: String,
    /// The revision agreed, when the server spoke the era.
    pub negotiated: Option<String>,
    /// Why not, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Figures measured on the way (each `None` when not measured: not a
/// stdio server, or the step before it failed).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    /// From spawning a stdio server to its first reply, in milliseconds.
    pub startup_ms: Option<f64>,
    /// The resident memory of the server's process group at rest, in KiB.
    pub rss_kib: Option<u64>,
    /// `tools/list` round trips: median, in microseconds.
    pub tools_list_p50_us: Option<u64>,
    /// `tools/list` round trips: 99th percentile, in microseconds.
    pub tools_list_p99_us: Option<u64>,
    /// 32 concurrent calls, all answered, in milliseconds.
    pub burst_ms: Option<f64>,
    /// Lines the server wrote to stderr while checked.
    pub stderr_lines: Option<usize>,
    /// From closing a stdio server's stdin to its exit, in milliseconds.
    pub exit_ms: Option<f64>,
}

/// Who was checked.
#[derive(Debug, Clone, Serialize)]
pub struct ServerSummary {
    /// The source as given (secrets in a URL's query left out).
    pub source: String,
    /// `serverInfo.name`, when some era answered.
    pub name: Option<String>,
    /// `serverInfo.version`.
    pub version: Option<String>,
}

/// Counts over the report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Checks run (skipped ones included).
    pub checks: usize,
    /// Checks that passed.
    pub passed: usize,
    /// Checks that failed.
    pub failed: usize,
    /// Checks skipped.
    pub skipped: usize,
    /// Findings of each severity.
    pub errors: usize,
    /// See `errors`.
    pub warnings: usize,
    /// See `errors`.
    pub notes: usize,
}

/// The whole report of one `check`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// Who was checked.
    pub server: ServerSummary,
    /// The eras tried.
    pub eras: Vec<EraReport>,
    /// Counts.
    pub summary: Summary,
    /// Every check run, in order.
    pub checks: Vec<CheckRun>,
    /// Every finding, in the order found.
    pub findings: Vec<Finding>,
    /// Figures measured.
    pub figures: Figures,
}

impl Report {
    /// True when some finding is an error or a warning (the CLI exits 1).
    pub fn failed(&self) -> bool {
        self.findings.iter().any(|f| f.severity > Severity::Note)
    }

    /// The findings of one check.
    pub fn findings_of<'a>(&'a self, check: &'a str) -> impl Iterator<Item = &'a Finding> + 'a {
        self.findings.iter().filter(move |f| f.check == check)
    }

    pub(super) fn count(&mut self) {
        let mut s = Summary {
            checks: self.checks.len(),
            ..Summary::default()
        };
        for c in &self.checks {
            match c.outcome {
                Outcome::Pass => s.passed += 1,
                Outcome::Fail => s.failed += 1,
                Outcome::Skip => s.skipped += 1,
            }
        }
        for f in &self.findings {
            match f.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
                Severity::Note => s.notes += 1,
            }
        }
        self.summary = s;
    }
}
