//! Tools that may safely be called (they only read, or need no arguments
//! and do not say they destroy anything) are called, and a tool with an
//! outputSchema must answer `structuredContent` that matches it.

use serde_json::{json, Map, Value};

use super::checker::Checker;
use super::probe::Probe;
use super::report::Finding;
use super::tools::{required, safe_to_call};

/// At most this many tools are called.
const MAX_CALLS: usize = 16;

const RULE: &str = "server/tools (structured content): a tool with an outputSchema MUST return \
     structuredContent that conforms to it";

/// Arguments a tool's inputSchema accepts, made up from each required
/// property's default, enum, examples or type.
pub(super) fn arguments_for(tool: &Value) -> Value {
    let mut args = Map::new();
    for name in required(tool) {
        let prop = tool
            .pointer(&format!(
                "/inputSchema/properties/{}",
                name.replace('~', "~0").replace('/', "~1")
            ))
            .cloned()
            .unwrap_or(Value::Null);
        args.insert(name, example(&prop));
    }
    Value::Object(args)
}

fn example(schema: &Value) -> Value {
    if let Some(v) = schema.get("default") {
        return v.clone();
    }
    if let Some(v) = schema.get("const") {
        return v.clone();
    }
    for key in ["enum", "examples"] {
        if let Some(v) = schema
            .get(key)
            .and_then(Value::as_array)
            .and_then(|a| a.first())
        {
            return v.clone();
        }
    }
    let ty = match schema.get("type") {
        Some(Value::Array(types)) => types.first().and_then(Value::as_str).unwrap_or("string"),
        Some(Value::String(t)) => t.as_str(),
        _ => "string",
    };
    match ty {
        "integer" | "number" => json!(schema.get("minimum").cloned().unwrap_or(json!(1))),
        "boolean" => json!(false),
        "array" => json!([]),
        "object" => json!({}),
        "null" => Value::Null,
        _ => json!("test"),
    }
}

/// Calls each safe tool with an outputSchema and validates its answer.
pub(super) async fn check(p: &Probe, c: &mut Checker, tools: &[Value]) {
    let callable: Vec<&Value> = tools
        .iter()
        .filter(|t| t.get("outputSchema").is_some_and(Value::is_object) && safe_to_call(t))
        .take(MAX_CALLS)
        .collect();
    if callable.is_empty() {
        c.skip(
            "tools.structured",
            "no tool with an outputSchema is safe to call",
        );
        return;
    }
    c.ran("tools.structured");
    for tool in callable {
        one(p, c, tool).await;
    }
}

async fn one(p: &Probe, c: &mut Checker, tool: &Value) {
    let name = tool.get("name").and_then(Value::as_str).unwrap_or("");
    let Some(Ok(validator)) = tool.get("outputSchema").map(jsonschema::validator_for) else {
        return; // tools.output-schema reports it
    };
    let x = p
        .ask(
            "tools/call",
            json!({"name": name, "arguments": arguments_for(tool)}),
        )
        .await;
    if let Err(crate::Error::OutputValidation { message, .. }) = &x.reply {
        c.find(
            Finding::error(
                "tools.structured",
                format!("tool {name:?}: structuredContent {message}"),
            )
            .subject(format!("tool {name:?}"))
            .sent(x.sent.clone())
            .received(x.received())
            .rule(RULE)
            .fix(
                "make the result match outputSchema, or change the schema to what the tool returns",
            ),
        );
        return;
    }
    let Ok(result) = &x.reply else {
        c.find(
            Finding::note(
                "tools.structured",
                format!("tool {name:?} could not be called with made-up arguments"),
            )
            .subject(format!("tool {name:?}"))
            .sent(x.sent.clone())
            .received(x.received()),
        );
        return;
    };
    if result.get("isError").and_then(Value::as_bool) == Some(true) {
        return; // an error result need not match the schema
    }
    let finding = |message: String| {
        Finding::error("tools.structured", format!("tool {name:?}: {message}"))
            .subject(format!("tool {name:?}"))
            .sent(x.sent.clone())
            .received(x.received())
            .rule(RULE)
    };
    match result.get("structuredContent") {
        None | Some(Value::Null) => c.find(
            finding("has an outputSchema but answered no structuredContent".into())
                .fix("return structuredContent (the object the schema describes) with the content"),
        ),
        Some(structured) => {
            let errors: Vec<String> = validator
                .iter_errors(structured)
                .take(3)
                .map(|e| format!("{} (at {})", e, e.instance_path))
                .collect();
            if !errors.is_empty() {
                c.find(
                    finding(format!("structuredContent does not match its outputSchema: {}", errors.join("; ")))
                        .fix("make the result match outputSchema, or change the schema to what the tool returns"),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn made_up_arguments_follow_the_schema() {
        let tool = json!({"inputSchema": {"type": "object", "required": ["a", "b", "c"], "properties": {
            "a": {"type": "integer"}, "b": {"enum": ["x", "y"]}, "c": {"type": "string", "default": "d"}}}});
        assert_eq!(
            super::arguments_for(&tool),
            json!({"a": 1, "b": "x", "c": "d"})
        );
    }
}
