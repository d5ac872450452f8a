//! Prompts: every prompt renders with the arguments it lists.

use serde_json::{json, Map, Value};

use super::checker::Checker;
use super::probe::Probe;
use super::report::Finding;

/// At most this many prompts are rendered.
const MAX_PROMPTS: usize = 16;

/// Renders each listed prompt with every argument it lists filled in.
pub(super) async fn check(p: &Probe, c: &mut Checker, prompts: &[Value]) {
    if prompts.is_empty() {
        c.skip("prompts.arguments", "no prompts listed");
        return;
    }
    c.ran("prompts.arguments");
    for prompt in prompts.iter().take(MAX_PROMPTS) {
        one(p, c, prompt).await;
    }
}

/// Renders `prompt` with every listed argument; refused, with only the
/// required ones: a server that takes those but not its own optional
/// arguments refuses what it lists (made-up values refused both times
/// are only a note).
async fn one(p: &Probe, c: &mut Checker, prompt: &Value) {
    let name = prompt.get("name").and_then(Value::as_str).unwrap_or("");
    let mut all = Map::new();
    let mut required = Map::new();
    for arg in prompt
        .get("arguments")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(a) = arg.get("name").and_then(Value::as_str) {
            let value = json!(value_for(p, name, a).await);
            if arg.get("required").and_then(Value::as_bool) == Some(true) {
                required.insert(a.to_owned(), value.clone());
            }
            all.insert(a.to_owned(), value);
        }
    }
    let optional = all.len() > required.len();
    let x = p
        .ask("prompts/get", json!({"name": name, "arguments": all}))
        .await;
    let subject = format!("prompt {name:?}");
    let finding = match &x.reply {
        Ok(r) if r.get("messages").is_some_and(Value::is_array) => return,
        Ok(_) => Finding::error(
            "prompts.arguments",
            format!("prompt {name:?} answered no messages"),
        )
        .fix("answer prompts/get with {\"messages\": [...]}"),
        Err(_) if optional => {
            let fewer = p
                .ask("prompts/get", json!({"name": name, "arguments": required}))
                .await;
            if fewer.reply.is_err() {
                Finding::note(
                    "prompts.arguments",
                    format!("prompt {name:?} refuses made-up values (\"test\") for its arguments"),
                )
            } else {
                Finding::error("prompts.arguments", format!("prompt {name:?} renders with its required arguments but refuses its optional ones"))
                    .fix("accept every argument the prompt lists")
            }
        }
        Err(_) => Finding::note(
            "prompts.arguments",
            format!("prompt {name:?} refuses made-up values (\"test\") for its arguments"),
        ),
    };
    c.find(
        finding
            .subject(subject)
            .sent(x.sent.clone())
            .received(x.received())
            .rule(
                "server/prompts: prompts/get renders a listed prompt with the arguments it lists",
            ),
    );
}

/// A value for a prompt argument: the server's first completion when it
/// offers completions, else `test`.
async fn value_for(p: &Probe, prompt: &str, argument: &str) -> String {
    if p.caps.completions.is_none() {
        return "test".into();
    }
    let x = p
        .ask(
            "completion/complete",
            json!({"ref": {"type": "ref/prompt", "name": prompt}, "argument": {"name": argument, "value": ""}}),
        )
        .await;
    x.reply
        .ok()
        .and_then(|r| {
            r.pointer("/completion/values/0")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "test".into())
}
