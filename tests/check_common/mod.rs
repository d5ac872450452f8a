//! Running `switchboard check` in tests: the CLI with `--json` (bounded,
//! its stdio servers marked so none may outlive it), and what a report
//! says, as sets of check ids.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;

use crate::common;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// `switchboard --json check SOURCE [flags]`: its exit code and report.
/// A marker goes to a stdio server's environment (`--env`), so the test
/// can see that none is left running.
pub async fn check_json(source: &str, flags: &[&str], marker: Option<&str>) -> (i32, Value) {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.arg("--json");
    if let Some(marker) = marker {
        cmd.arg("--env")
            .arg(format!("{}={marker}", common::MARKER_VAR));
    }
    cmd.arg("check").arg(source).args(flags).kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(150), cmd.output())
        .await
        .expect("check finishes within 150 s")
        .expect("run switchboard check");
    let report = common::stdout_json(&out);
    (out.status.code().unwrap_or(-1), report)
}

fn ids(report: &Value, keep: impl Fn(&str) -> bool) -> BTreeSet<String> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| keep(f["severity"].as_str().unwrap_or("")))
        .map(|f| f["check"].as_str().unwrap_or("").to_owned())
        .collect()
}

/// The checks with an error or a warning.
pub fn failing(report: &Value) -> BTreeSet<String> {
    ids(report, |s| s != "note")
}

/// The checks with a note.
pub fn noted(report: &Value) -> BTreeSet<String> {
    ids(report, |s| s == "note")
}

/// A set of check ids.
pub fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

/// The era reports, as `era -> negotiated`.
pub fn eras(report: &Value) -> Vec<(String, Option<String>)> {
    report["eras"]
        .as_array()
        .expect("eras")
        .iter()
        .map(|e| {
            (
                e["era"].as_str().unwrap_or("").to_owned(),
                e["negotiated"].as_str().map(str::to_owned),
            )
        })
        .collect()
}
