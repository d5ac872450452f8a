//! Each listed tool on its own: its name (what model APIs accept), its
//! schemas (valid JSON Schema, of type object), its annotations, and
//! names listed twice.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::checker::Checker;
use super::report::Finding;

/// The longest tool name model APIs accept (OpenAI, Anthropic).
pub(super) const MAX_NAME: usize = 64;
/// The most tools one model request takes (OpenAI).
const MAX_TOOLS: usize = 128;

/// The boolean hints of `ToolAnnotations`.
const HINTS: [&str; 4] = [
    "readOnlyHint",
    "destructiveHint",
    "idempotentHint",
    "openWorldHint",
];

fn name_of(tool: &Value) -> &str {
    tool.get("name").and_then(Value::as_str).unwrap_or("")
}

/// Runs the per-tool checks over `tools`.
pub(super) fn check(c: &mut Checker, tools: &[Value]) {
    for check in [
        "tools.name",
        "tools.unique",
        "tools.input-schema",
        "tools.output-schema",
        "tools.annotations",
        "tools.count",
    ] {
        c.ran(check);
    }
    if tools.len() > MAX_TOOLS {
        c.find(
            Finding::warning(
                "tools.count",
                format!(
                    "{} tools: model APIs take at most {MAX_TOOLS} per request",
                    tools.len()
                ),
            )
            .rule("OpenAI chat completions: at most 128 tools")
            .fix("split the server, or let hosts filter its tools"),
        );
    }
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for tool in tools {
        let name = name_of(tool);
        *seen.entry(name).or_default() += 1;
        check_name(c, tool, name);
        check_input(c, tool, name);
        check_output(c, tool, name);
        check_annotations(c, tool, name);
    }
    let bare: Vec<&str> = tools
        .iter()
        .filter(|t| t.get("annotations").is_none())
        .map(name_of)
        .collect();
    if !bare.is_empty() {
        c.find(
            Finding::note("tools.annotations", format!("{} of {} tools have no annotations: {}", bare.len(), tools.len(), bare.join(", ")))
                .rule("server/tools (ToolAnnotations): hints tell hosts whether a call may change anything")
                .fix("add annotations, at least readOnlyHint (true for tools that only read)"),
        );
    }
    let mut twice: Vec<(&str, usize)> = seen.into_iter().filter(|(_, n)| *n > 1).collect();
    twice.sort();
    for (name, n) in twice {
        c.find(
            Finding::error("tools.unique", format!("tool {name:?} is listed {n} times"))
                .subject(format!("tool {name:?}"))
                .sent(json!({"method": "tools/list"}))
                .received(json!({"tools": [{"name": name}, {"name": name}]}))
                .rule("server/tools: a tool's name is its unique identifier within the server")
                .fix("give each tool its own name"),
        );
    }
}

fn check_name(c: &mut Checker, tool: &Value, name: &str) {
    let bad: Vec<char> = name
        .chars()
        .filter(|ch| !(ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.')))
        .collect();
    let problem = if name.is_empty() {
        Some("has no name".to_owned())
    } else if name.chars().count() > MAX_NAME {
        Some(format!(
            "name has {} characters, over {MAX_NAME}",
            name.chars().count()
        ))
    } else if !bad.is_empty() {
        Some(format!(
            "name has characters outside [A-Za-z0-9_.-]: {:?}",
            bad.iter().collect::<String>()
        ))
    } else {
        None
    };
    if let Some(problem) = problem {
        c.find(
            Finding::warning("tools.name", format!("tool {name:?} {problem}"))
                .subject(format!("tool {name:?}"))
                .received(json!({"name": tool.get("name")}))
                .rule("server/tools (tool names): 1 to 128 characters of [A-Za-z0-9_.-]; model APIs accept at most 64")
                .fix("rename the tool: letters, digits, `_`, `-`, `.`, at most 64 characters"),
        );
    }
}

/// Why `schema` is not a usable object schema, if it is not.
fn schema_problem(schema: &Value) -> Option<String> {
    if !schema.is_object() {
        return Some(format!("is {}, not a JSON Schema object", kind(schema)));
    }
    if let Err(e) = jsonschema::validator_for(schema) {
        return Some(format!("does not compile: {e}"));
    }
    match schema.get("type") {
        Some(Value::String(t)) if t == "object" => None,
        Some(other) => Some(format!("has type {other}, not \"object\"")),
        None => Some("has no \"type\": \"object\"".to_owned()),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn check_input(c: &mut Checker, tool: &Value, name: &str) {
    let problem = match tool.get("inputSchema") {
        None => Some("has no inputSchema".to_owned()),
        Some(schema) => schema_problem(schema).map(|p| format!("inputSchema {p}")),
    };
    if let Some(problem) = problem {
        c.find(
            Finding::error("tools.input-schema", format!("tool {name:?}: {problem}"))
                .subject(format!("tool {name:?}"))
                .received(json!({"inputSchema": tool.get("inputSchema")}))
                .rule("server/tools: inputSchema is a JSON Schema object with \"type\": \"object\"")
                .fix("give the tool {\"type\": \"object\", \"properties\": {...}} (an empty tool: {\"type\": \"object\"})"),
        );
    }
}

fn check_output(c: &mut Checker, tool: &Value, name: &str) {
    let Some(schema) = tool.get("outputSchema") else {
        return;
    };
    if let Some(problem) = schema_problem(schema) {
        c.find(
            Finding::error("tools.output-schema", format!("tool {name:?}: outputSchema {problem}"))
                .subject(format!("tool {name:?}"))
                .received(json!({"outputSchema": schema}))
                .rule("server/tools (output schema): outputSchema is a JSON Schema with \"type\": \"object\"; clients validate structuredContent against it")
                .fix("make outputSchema an object schema that compiles, or leave it out"),
        );
    }
}

fn check_annotations(c: &mut Checker, tool: &Value, name: &str) {
    let finding = |message: String| {
        Finding::warning("tools.annotations", format!("tool {name:?}: {message}"))
            .subject(format!("tool {name:?}"))
            .received(json!({"annotations": tool.get("annotations")}))
            .rule("server/tools (ToolAnnotations): title a string, the hints booleans; destructiveHint and idempotentHint mean something only when readOnlyHint is false")
    };
    let Some(annotations) = tool.get("annotations") else {
        return;
    };
    let Some(map) = annotations.as_object() else {
        c.find(
            finding(format!(
                "annotations is {}, not an object",
                kind(annotations)
            ))
            .fix("send annotations as an object"),
        );
        return;
    };
    for hint in HINTS {
        if let Some(v) = map.get(hint).filter(|v| !v.is_boolean() && !v.is_null()) {
            c.find(
                finding(format!("{hint} is {}, not a boolean", kind(v)))
                    .fix(format!("send {hint} as true or false")),
            );
        }
    }
    if let Some(v) = map.get("title").filter(|v| !v.is_string() && !v.is_null()) {
        c.find(
            finding(format!("annotations.title is {}, not a string", kind(v)))
                .fix("send the title as a string"),
        );
    }
    let yes = |k: &str| map.get(k).and_then(Value::as_bool) == Some(true);
    if yes("readOnlyHint") && yes("destructiveHint") {
        c.find(
            finding("says it is read-only and destructive at once".to_owned())
                .fix("a read-only tool is not destructive: drop destructiveHint, or readOnlyHint"),
        );
    }
}

/// The tool's required arguments (from its inputSchema).
pub(super) fn required(tool: &Value) -> Vec<String> {
    tool.pointer("/inputSchema/required")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a tool may be called to see what it answers: it says it only
/// reads, or it needs no arguments and does not say it is destructive.
pub(super) fn safe_to_call(tool: &Value) -> bool {
    let hint = |k: &str| {
        tool.pointer(&format!("/annotations/{k}"))
            .and_then(Value::as_bool)
    };
    if hint("destructiveHint") == Some(true) && hint("readOnlyHint") != Some(true) {
        return false;
    }
    hint("readOnlyHint") == Some(true) || required(tool).is_empty()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn object_schemas_pass_others_say_why() {
        assert_eq!(super::schema_problem(&json!({"type": "object"})), None);
        assert!(super::schema_problem(&json!({"type": "string"}))
            .unwrap()
            .contains("not \"object\""));
        assert!(super::schema_problem(&json!({"type": 3}))
            .unwrap()
            .contains("compile"));
        assert!(super::schema_problem(&json!([]))
            .unwrap()
            .contains("an array"));
    }
}
