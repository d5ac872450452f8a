//! A registered tool's arguments checked against its `inputSchema` before
//! its handler runs. Arguments that break the schema get a result with
//! `isError` naming what is wrong, so a model can correct itself (the
//! 2025-11-25 rule for input validation), and the handler never sees them.

use jsonschema::Validator;
use serde_json::Value;

use crate::protocol::{CallToolResult, JsonObject, Tool};

/// How many violations one error result lists.
const LISTED: usize = 3;

/// The check for one tool: none when its schema accepts any object (an
/// empty schema) or cannot be compiled (logged once, at registration).
pub(super) struct ArgumentCheck {
    tool: String,
    validator: Option<Validator>,
}

impl ArgumentCheck {
    pub(super) fn for_tool(tool: &Tool) -> ArgumentCheck {
        let schema = &tool.input_schema;
        let trivial = schema
            .iter()
            .all(|(k, v)| k == "type" && v == "object" || k == "$schema");
        let validator = if trivial {
            None
        } else {
            jsonschema::validator_for(&Value::Object(schema.clone()))
                .map_err(|e| {
                    tracing::warn!(tool = %tool.name, "unusable inputSchema, arguments not checked: {e}")
                })
                .ok()
        };
        ArgumentCheck {
            tool: tool.name.clone(),
            validator,
        }
    }

    /// The arguments back when they fit the schema; else the result to
    /// answer with.
    pub(super) fn check(&self, arguments: JsonObject) -> Result<JsonObject, Box<CallToolResult>> {
        let Some(validator) = &self.validator else {
            return Ok(arguments);
        };
        // The validator reads a Value: the object is moved in and out.
        let instance = Value::Object(arguments);
        if validator.is_valid(&instance) {
            return match instance {
                Value::Object(arguments) => Ok(arguments),
                _ => unreachable!("built as an object above"),
            };
        }
        let problems: Vec<String> = validator
            .iter_errors(&instance)
            .take(LISTED)
            .map(|e| {
                let at = e.instance_path.to_string();
                if at.is_empty() {
                    e.to_string()
                } else {
                    format!("{at}: {e}")
                }
            })
            .collect();
        Err(Box::new(CallToolResult::error(format!(
            "invalid arguments for tool {}: {}",
            self.tool,
            problems.join("; ")
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool(schema: Value) -> Tool {
        serde_json::from_value(json!({"name": "t", "inputSchema": schema})).unwrap()
    }

    fn args(v: Value) -> JsonObject {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn arguments_breaking_the_schema_get_an_error_result_naming_why() {
        let check = ArgumentCheck::for_tool(&tool(json!({
            "type": "object",
            "properties": {"text": {"type": "string"}, "n": {"type": "integer"}},
            "required": ["text"]
        })));
        let fine = args(json!({"text": "hi", "n": 2}));
        assert_eq!(check.check(fine.clone()).ok(), Some(fine));
        let missing = check.check(args(json!({}))).expect_err("refused");
        assert_eq!(missing.is_error, Some(true));
        assert!(
            missing.text().contains("\"text\" is a required property"),
            "{}",
            missing.text()
        );
        let wrong = check.check(args(json!({"text": 1}))).expect_err("refused");
        assert!(
            wrong
                .text()
                .starts_with("invalid arguments for tool t: /text:"),
            "{}",
            wrong.text()
        );
    }

    #[test]
    fn an_empty_or_broken_schema_checks_nothing() {
        assert!(ArgumentCheck::for_tool(&tool(json!({"type": "object"})))
            .validator
            .is_none());
        let broken =
            ArgumentCheck::for_tool(&tool(json!({"type": "object", "minProperties": "x"})));
        assert!(broken.check(args(json!({"a": 1}))).is_ok());
    }
}
