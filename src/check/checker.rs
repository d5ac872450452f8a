//! Collects what the checks find: each check registers itself (so the
//! report lists passes and skips too) and adds its findings.

use super::report::{CheckRun, Finding, Outcome, Severity};

/// Findings and check outcomes of one run, tagged with the era being checked.
#[derive(Debug, Default)]
pub(super) struct Checker {
    era: Option<String>,
    pub(super) runs: Vec<CheckRun>,
    pub(super) findings: Vec<Finding>,
}

impl Checker {
    /// From now on, checks and findings are of this era (`None`: of none).
    pub(super) fn era(&mut self, era: Option<&str>) {
        self.era = era.map(str::to_owned);
    }

    fn run_of(&mut self, check: &str) -> &mut CheckRun {
        let era = self.era.clone();
        let at = self
            .runs
            .iter()
            .position(|r| r.check == check && r.era == era);
        match at {
            Some(i) => &mut self.runs[i],
            None => {
                self.runs.push(CheckRun {
                    check: check.to_owned(),
                    era,
                    outcome: Outcome::Pass,
                    reason: None,
                });
                let last = self.runs.len() - 1;
                &mut self.runs[last]
            }
        }
    }

    /// `check` ran (passes unless a finding says otherwise).
    pub(super) fn ran(&mut self, check: &str) {
        self.run_of(check);
    }

    /// `check` could not run, for `reason`.
    pub(super) fn skip(&mut self, check: &str, reason: impl Into<String>) {
        let run = self.run_of(check);
        if run.outcome == Outcome::Pass {
            run.outcome = Outcome::Skip;
            run.reason = Some(reason.into());
        }
    }

    /// Adds a finding (its check fails unless it is a note).
    pub(super) fn find(&mut self, mut finding: Finding) {
        finding.era = self.era.clone();
        let run = self.run_of(&finding.check);
        if finding.severity > Severity::Note {
            run.outcome = Outcome::Fail;
            run.reason = None;
        }
        self.findings.push(finding);
    }
}
