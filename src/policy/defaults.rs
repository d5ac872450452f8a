//! Defaults (SEP-1034) and the last check before an `accept`: every
//! property's `default` prefills the form, values from a rule, the user or
//! a filler override them, and the result must validate against the
//! requested schema, or no `accept` is sent.

use std::fmt;

use serde_json::Value;

use crate::protocol::{ElicitationSchema, JsonObject};

/// Every property's `default`, in the form's order.
pub fn prefill(schema: &ElicitationSchema) -> JsonObject {
    schema
        .properties
        .0
        .iter()
        .filter_map(|(name, field)| field.default.clone().map(|d| (name.clone(), d)))
        .collect()
}

/// `defaults` overridden by `values`, keeping only properties the form
/// declares (a rule's values may serve several forms; what this form did
/// not ask for is not sent).
pub fn compose(
    schema: &ElicitationSchema,
    defaults: &JsonObject,
    values: &JsonObject,
) -> JsonObject {
    let mut content = defaults.clone();
    for (name, value) in values {
        if schema.properties.get(name).is_some() {
            content.insert(name.clone(), value.clone());
        } else {
            tracing::debug!(field = %name, "dropping a value the form does not ask for");
        }
    }
    content
}

/// Required properties that `content` lacks.
pub fn missing_required(schema: &ElicitationSchema, content: &JsonObject) -> Vec<String> {
    schema
        .required
        .iter()
        .flatten()
        .filter(|name| !content.contains_key(name.as_str()))
        .cloned()
        .collect()
}

/// A value that does not fit its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldProblem {
    /// The property (empty when the problem is the whole content).
    pub field: String,
    /// What is wrong, from the validator.
    pub message: String,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "field {:?}: {}", self.field, self.message)
        }
    }
}

/// Validates `content` against the requested schema (JSON Schema, formats
/// checked), listing every field that does not fit.
pub fn validate_content(
    schema: &ElicitationSchema,
    content: &JsonObject,
) -> Result<(), Vec<FieldProblem>> {
    let whole = |message: String| {
        vec![FieldProblem {
            field: String::new(),
            message,
        }]
    };
    let schema = serde_json::to_value(schema).map_err(|e| whole(e.to_string()))?;
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .map_err(|e| whole(format!("the form's schema does not compile: {e}")))?;
    let instance = Value::Object(content.clone());
    let problems: Vec<FieldProblem> = validator
        .iter_errors(&instance)
        .map(|e| {
            let path = e.instance_path.as_str();
            let field = path
                .trim_start_matches('/')
                .split('/')
                .next()
                .unwrap_or_default()
                // JSON Pointer escapes.
                .replace("~1", "/")
                .replace("~0", "~");
            FieldProblem {
                field,
                message: e.to_string(),
            }
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}
