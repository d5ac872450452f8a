//! `check`: a battery of tests against any MCP server, saying what is
//! wrong with it, with what was sent, what came back, the spec rule and
//! the fix. What the `switchboard check` command runs.
//!
//! ```no_run
//! # async fn example() -> switchboard::Result<()> {
//! use switchboard::check::{self, CheckOptions};
//! let report = check::run("python3 server.py", &CheckOptions::default()).await?;
//! for finding in &report.findings {
//!     println!("{} {}: {}", finding.severity.as_str(), finding.check, finding.message);
//! }
//! assert!(!report.failed());
//! # Ok(()) }
//! ```
//!
//! The groups, each a file: `negotiation` (each era the server claims,
//! the version fallback), `capabilities`/`pagination` (lists.rs),
//! `tools` (names, schemas, annotations; calls.rs: `structuredContent`
//! against `outputSchema` for tools safe to call), `resources` and
//! `prompts`, `errors` (unknown tool, bad arguments, unknown method,
//! `ping`, cancellation), `load` (latency, a burst of 32), `stdio`
//! (hygiene over a raw connection) and `http` (raw requests).

mod calls;
mod caps;
mod checker;
mod eras;
mod errors;
mod excerpt;
mod http;
mod lines;
mod lists;
mod load;
mod probe;
mod prompts;
mod raw;
mod report;
mod resources;
mod stdio;
mod tools;

use std::time::Duration;

pub use report::{
    group_of, CheckRun, EraReport, Figures, Finding, Outcome, Report, ServerSummary, Severity,
    Summary, SCHEMA,
};

use crate::client::IntoSource;
use crate::protocol::{Era, ProtocolVersion};
use crate::transport::Source;
use crate::Result;

/// Which eras to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EraChoice {
    /// Every era the server speaks (a server that speaks neither fails).
    #[default]
    Auto,
    /// Both eras: one the server does not speak is an error.
    Both,
    /// Only this revision's era.
    Exact(ProtocolVersion),
}

impl std::str::FromStr for EraChoice {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(EraChoice::Auto),
            "both" => Ok(EraChoice::Both),
            other => other
                .parse::<ProtocolVersion>()
                .map(EraChoice::Exact)
                .map_err(|e| crate::Error::invalid_argument(format!("--era: {e}; or auto, both"))),
        }
    }
}

/// How to check.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Which eras (default [`EraChoice::Auto`]).
    pub eras: EraChoice,
    /// The deadline of each request, and of connecting (default 10 s).
    pub timeout: Duration,
    /// How the report names the server (default: the source, a URL's
    /// query left out).
    pub label: Option<String>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            eras: EraChoice::Auto,
            timeout: Duration::from_secs(10),
            label: None,
        }
    }
}

/// Checks the server `source` names and reports what is wrong. Fails
/// only when `source` cannot be a source; a server that cannot be
/// reached is a finding.
pub async fn run(source: impl IntoSource, options: &CheckOptions) -> Result<Report> {
    let source = source.into_source()?;
    let mut c = checker::Checker::default();
    let mut figures = Figures::default();
    let spoken = eras::check(&source, options, &mut c, &mut figures).await;
    c.era(None);
    let speaks = |era: Era| {
        spoken.eras.iter().any(|e| {
            e.negotiated
                .as_deref()
                .and_then(ProtocolVersion::parse)
                .is_some_and(|v| v.era() == era)
        })
    };
    let (handshake, modern) = (speaks(Era::Handshake), speaks(Era::Modern));
    if handshake || modern {
        match &source {
            Source::Stdio(cfg) => {
                stdio::check(
                    cfg,
                    (handshake, modern),
                    options.timeout,
                    &mut c,
                    &mut figures,
                )
                .await
            }
            Source::Http(cfg) => http::check(cfg, handshake, modern, options.timeout, &mut c).await,
            _ => {}
        }
    }
    let mut report = Report {
        schema: SCHEMA,
        server: ServerSummary {
            source: options.label.clone().unwrap_or_else(|| label(&source)),
            name: spoken.name,
            version: spoken.version,
        },
        eras: spoken.eras,
        summary: Summary::default(),
        checks: c.runs,
        findings: c.findings,
        figures,
    };
    report.count();
    Ok(report)
}

fn label(source: &Source) -> String {
    match source {
        Source::Stdio(cfg) => cfg.command_line(),
        Source::Http(cfg) => cfg.redacted_url(),
        other => format!("{other:?}").to_ascii_lowercase(),
    }
}
