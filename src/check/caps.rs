//! The capabilities without a list: `logging` (handshake era) answers
//! `logging/setLevel`, `completions` answers `completion/complete`.

use serde_json::{json, Value};

use super::checker::Checker;
use super::probe::Probe;
use super::report::Finding;
use crate::protocol::Era;

const RULE: &str =
    "server capabilities (basic/lifecycle): a declared capability's methods are answered";

/// Checks `logging` and `completions` against what they answer.
pub(super) async fn check(p: &Probe, c: &mut Checker, prompts: &[Value], templates: &[Value]) {
    if p.caps.logging.is_some() && p.era() == Era::Handshake {
        c.ran("capabilities.logging");
        let x = p.ask("logging/setLevel", json!({"level": "warning"})).await;
        if x.reply.is_err() {
            c.find(
                Finding::error(
                    "capabilities.logging",
                    "declares `logging` but logging/setLevel fails",
                )
                .sent(x.sent.clone())
                .received(x.received())
                .rule(RULE)
                .fix("answer logging/setLevel with {}, or stop declaring `logging`"),
            );
        }
    }
    if p.caps.completions.is_none() {
        return;
    }
    let target = prompts
        .iter()
        .find_map(|pr| {
            let arg = pr.pointer("/arguments/0/name")?.as_str()?;
            Some(json!({"ref": {"type": "ref/prompt", "name": pr.get("name")?}, "argument": {"name": arg, "value": ""}}))
        })
        .or_else(|| {
            templates.iter().find_map(|t| {
                let template = t.get("uriTemplate")?.as_str()?;
                let var = template.split('{').nth(1)?.split('}').next()?.trim_start_matches(['+', '#', '/', '?', '&', '.', ';']);
                let var = var.split(',').next()?.trim_end_matches('*');
                Some(json!({"ref": {"type": "ref/resource", "uri": template}, "argument": {"name": var, "value": ""}}))
            })
        });
    let Some(params) = target else {
        c.skip(
            "capabilities.completions",
            "no prompt argument or template variable to complete",
        );
        return;
    };
    c.ran("capabilities.completions");
    let x = p.ask("completion/complete", params).await;
    let ok = x
        .reply
        .as_ref()
        .is_ok_and(|r| r.pointer("/completion/values").is_some_and(Value::is_array));
    if !ok {
        c.find(
            Finding::error("capabilities.completions", "declares `completions` but completion/complete gives no values")
                .sent(x.sent.clone())
                .received(x.received())
                .rule(RULE)
                .fix("answer completion/complete with {\"completion\": {\"values\": [...]}} (an empty list is fine)"),
        );
    }
}
