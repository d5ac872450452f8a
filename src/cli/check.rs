//! `switchboard check SOURCE`: runs the battery of [`crate::check`] and
//! prints its report, grouped, each finding with what was sent, what
//! came back, the rule and the fix (coloured on a terminal); `--json`
//! prints the report object (schema `switchboard.check/1`). Exit 0 when
//! nothing is wrong, 1 when something is.

use std::time::Duration;

use crate::check::{self, CheckOptions, EraChoice, Finding, Outcome, Report, Severity};
use crate::{Error, Result, Source};

use super::args::Global;
use super::style::{paint, Paint};
use super::{output, EXIT_TOOL_ERROR};

/// Prints one line of the report: coloured by us, a server's text in it
/// escaped (`output::terminal_safe`) before it got here.
macro_rules! styled {
    ($($arg:tt)*) => { super::shutdown::write_stdout_styled(&format!($($arg)*)) };
}

/// The most characters of a message quoted on one line (`--json` has more).
const QUOTED: usize = 300;

/// The deadline of each request when `--timeout` is not given.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `check` against SOURCE and prints the report.
pub(super) async fn run(global: &Global, source: &str, era: &str) -> Result<u8> {
    let eras: EraChoice = era.parse()?;
    let server = resolve(global, source)?;
    let options = CheckOptions {
        eras,
        timeout: global.timeout.unwrap_or(DEFAULT_TIMEOUT),
        label: None,
    };
    let report = check::run(server, &options).await?;
    if global.json {
        output::json(&report);
    } else {
        print(&report, super::style::stdout_colour(global));
    }
    Ok(if report.failed() { EXIT_TOOL_ERROR } else { 0 })
}

/// The one server SOURCE names: a config file's entry (`--server NAME`,
/// or its only server), else as other commands read SOURCE.
fn resolve(global: &Global, source: &str) -> Result<Source> {
    if !crate::client::is_config_path(source) {
        return super::child_env::apply(super::source::server(source)?, global);
    }
    let path = std::path::Path::new(source.trim());
    super::source::existing_file(
        path,
        "SOURCE, read as a config file for its .json/.toml name",
    )?;
    let mut options = crate::config::LoadOptions::new().prompt(crate::config::terminal_prompt);
    if let Some(name) = &global.server {
        options = options.only(name.clone());
    }
    let config = crate::config::FleetConfig::load(path, &options)?;
    let entry = match &global.server {
        Some(name) => config.server(name),
        None => {
            let mut enabled = config.enabled();
            match (enabled.next(), enabled.next()) {
                (Some(one), None) => Some(one),
                _ => {
                    return Err(Error::invalid_argument(format!(
                        "{source} has several servers: pick one with --server NAME"
                    )))
                }
            }
        }
    };
    let entry = entry.ok_or_else(|| {
        Error::invalid_argument(format!(
            "{source} has no server {:?}",
            global.server.as_deref().unwrap_or("")
        ))
    })?;
    super::child_env::apply(entry.to_source()?, global)
}

fn mark(severity: Severity) -> (&'static str, Paint) {
    match severity {
        Severity::Error => ("✗", Paint::Red),
        Severity::Warning => ("!", Paint::Yellow),
        Severity::Note => ("·", Paint::Dim),
    }
}

/// Prints the report for a person: who, the eras, each group with its
/// findings, the figures, the totals.
pub(super) fn print(report: &Report, colour: bool) {
    let who = match (&report.server.name, &report.server.version) {
        (Some(n), Some(v)) => format!("{n} {v}"),
        (Some(n), None) => n.clone(),
        _ => "server".to_owned(),
    };
    styled!(
        "check {}  ({})",
        output::terminal_safe(&who),
        output::terminal_safe(&report.server.source)
    );
    for era in &report.eras {
        match &era.negotiated {
            Some(v) => styled!(
                "  {}  {} negotiated {v}",
                era.era,
                paint("✓", Paint::Green, colour)
            ),
            None => styled!(
                "  {}  {} not spoken",
                era.era,
                paint("-", Paint::Dim, colour)
            ),
        }
    }
    let mut groups: Vec<&str> = Vec::new();
    for run in &report.checks {
        let g = check::group_of(&run.check);
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    for group in groups {
        print_group(report, group, colour);
    }
    print_figures(report);
    let s = &report.summary;
    let verdict = if report.failed() {
        paint("✗", Paint::Red, colour)
    } else {
        paint("✓", Paint::Green, colour)
    };
    styled!(
        "\n{verdict} {} errors, {} warnings, {} notes; {} checks: {} passed, {} failed, {} skipped",
        s.errors,
        s.warnings,
        s.notes,
        s.checks,
        s.passed,
        s.failed,
        s.skipped
    );
}

fn print_group(report: &Report, group: &str, colour: bool) {
    let runs: Vec<_> = report
        .checks
        .iter()
        .filter(|r| check::group_of(&r.check) == group)
        .collect();
    let count = |o: Outcome| runs.iter().filter(|r| r.outcome == o).count();
    let findings: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.group() == group)
        .collect();
    let worst = findings.iter().map(|f| f.severity).max();
    let head = match worst {
        Some(s) if s > Severity::Note => {
            let (m, p) = mark(s);
            paint(m, p, colour).into_owned()
        }
        _ => paint("✓", Paint::Green, colour).into_owned(),
    };
    let skipped = match count(Outcome::Skip) {
        0 => String::new(),
        n => format!(", {n} skipped"),
    };
    styled!(
        "\n{head} {group:<12} {} passed, {} failed{skipped}",
        count(Outcome::Pass),
        count(Outcome::Fail)
    );
    for f in findings {
        print_finding(f, colour);
    }
}

fn print_finding(f: &Finding, colour: bool) {
    let (m, p) = mark(f.severity);
    let era = f
        .era
        .as_deref()
        .map(|e| format!(" [{e}]"))
        .unwrap_or_default();
    styled!(
        "  {} {} {}{era}: {}",
        paint(m, p, colour),
        paint(f.severity.as_str(), p, colour),
        f.check,
        output::terminal_safe(&f.message)
    );
    let line = |label: &str, text: String| {
        if !text.is_empty() {
            styled!(
                "      {} {}",
                paint(&format!("{label:<9}"), Paint::Dim, colour),
                output::terminal_safe(&text)
            );
        }
    };
    let quote = |v: &Option<serde_json::Value>| {
        let text = v.as_ref().map(|v| v.to_string()).unwrap_or_default();
        match text.char_indices().nth(QUOTED) {
            Some((at, _)) => format!("{}…", &text[..at]),
            None => text,
        }
    };
    if f.severity > Severity::Note {
        line("sent", quote(&f.sent));
        line("received", quote(&f.received));
        line("rule", f.rule.clone());
    }
    line("fix", f.fix.clone());
}

fn print_figures(report: &Report) {
    let f = &report.figures;
    let mut parts = Vec::new();
    if let Some(ms) = f.startup_ms {
        parts.push(format!("start-up {ms:.0} ms"));
    }
    if let Some(kib) = f.rss_kib {
        parts.push(format!("memory at rest {:.1} MiB", kib as f64 / 1024.0));
    }
    if let (Some(p50), Some(p99)) = (f.tools_list_p50_us, f.tools_list_p99_us) {
        parts.push(format!(
            "tools/list p50 {:.2} ms, p99 {:.2} ms",
            p50 as f64 / 1000.0,
            p99 as f64 / 1000.0
        ));
    }
    if let Some(ms) = f.burst_ms {
        parts.push(format!("32 concurrent calls {ms:.0} ms"));
    }
    if let Some(n) = f.stderr_lines {
        parts.push(format!("{n} stderr lines"));
    }
    if let Some(ms) = f.exit_ms {
        parts.push(format!("exit after stdin closed {ms:.0} ms"));
    }
    if !parts.is_empty() {
        styled!("\nfigures: {}", parts.join(" · "));
    }
}
