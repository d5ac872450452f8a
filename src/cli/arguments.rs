//! Arguments from the command line: a JSON object, then `--arg KEY=VALUE`
//! pairs. A pair's value is typed by what it is for: a tool's
//! `inputSchema` says whether `42` is the number or the text (a string
//! property keeps the text as it is); a prompt's arguments are always
//! text (MCP prompt arguments are strings). Without a schema, a value that
//! parses as JSON is that JSON, else the text.

use serde_json::{Map, Value};

use crate::protocol::JsonObject;
use crate::{Error, Result};

/// What the `--arg` values are for.
#[derive(Clone, Copy)]
pub enum ArgTypes<'a> {
    /// A tool with this `inputSchema` (`None`: not known).
    Tool(Option<&'a JsonObject>),
    /// A prompt: every value is a string.
    Prompt,
}

/// The arguments object from `json_args` and `pairs`.
pub fn parse(
    json_args: Option<&str>,
    pairs: &[String],
    types: ArgTypes<'_>,
) -> Result<Map<String, Value>> {
    let mut args = match json_args {
        None => Map::new(),
        Some(text) => match serde_json::from_str(text) {
            Ok(Value::Object(map)) => map,
            Ok(_) => return Err(Error::invalid_argument("arguments must be a JSON object")),
            Err(e) => {
                return Err(Error::invalid_argument(format!(
                    "arguments are not valid JSON: {e}"
                )))
            }
        },
    };
    for pair in pairs {
        let (key, text) = pair.split_once('=').ok_or_else(|| {
            Error::invalid_argument(format!("--arg {pair:?}: expected KEY=VALUE"))
        })?;
        let as_text = match types {
            ArgTypes::Prompt => true,
            ArgTypes::Tool(schema) => schema.is_some_and(|s| wants_string(s, key)),
        };
        let value = if as_text {
            Value::String(text.to_owned())
        } else {
            serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
        };
        args.insert(key.to_owned(), value);
    }
    Ok(args)
}

/// True when the schema's property `key` takes a string and nothing a
/// JSON reading of the text could be instead (`"type": "string"`, or a
/// type list whose only non-null member is `"string"`).
fn wants_string(schema: &JsonObject, key: &str) -> bool {
    let Some(ty) = schema
        .get("properties")
        .and_then(|p| p.get(key))
        .and_then(|p| p.get("type"))
    else {
        return false;
    };
    match ty {
        Value::String(t) => t == "string",
        Value::Array(types) => {
            let mut kinds = types
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null");
            kinds.next() == Some("string") && kinds.next().is_none()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema(v: Value) -> JsonObject {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn the_schema_types_each_pair() {
        let s = schema(json!({"type": "object", "properties": {
            "name": {"type": "string"}, "n": {"type": "integer"},
            "maybe": {"type": ["string", "null"]}, "either": {"type": ["string", "number"]}}}));
        let pairs: Vec<String> = ["name=42", "n=42", "maybe=true", "either=7", "free=[1]"]
            .map(String::from)
            .to_vec();
        let args = parse(None, &pairs, ArgTypes::Tool(Some(&s))).unwrap();
        assert_eq!(
            Value::Object(args),
            json!({"name": "42", "n": 42, "maybe": "true", "either": 7, "free": [1]})
        );
        let args = parse(Some(r#"{"a": 1}"#), &["b=2".into()], ArgTypes::Prompt).unwrap();
        assert_eq!(Value::Object(args), json!({"a": 1, "b": "2"}));
        let args = parse(None, &["x=1".into()], ArgTypes::Tool(None)).unwrap();
        assert_eq!(Value::Object(args), json!({"x": 1}));
    }
}
