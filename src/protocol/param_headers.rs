//! `x-mcp-header` (2026-07-28, Streamable HTTP): a tool's input schema may
//! mark properties whose values the client mirrors into `Mcp-Param-<Name>`
//! headers on `tools/call`, so gateways can route without reading bodies.
//!
//! Both sides read the annotations here: the client learns them from
//! `tools/list` (`client/param_headers.rs` drops tools whose annotations
//! are invalid, the spec's MUST) and mirrors each call's values; a server
//! on Streamable HTTP checks the headers it received against the body.

use serde_json::{Map, Value};

/// One annotated property: the header suffix and the property path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParamHeader {
    pub(crate) name: String,
    pub(crate) path: Vec<String>,
}

pub(crate) const KEY: &str = "x-mcp-header";
/// JSON numbers that survive a double: ±(2^53 − 1).
const MAX_SAFE: i64 = (1 << 53) - 1;

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// The annotations of one input schema, or why they are invalid.
pub(crate) fn annotations(schema: &Map<String, Value>) -> Result<Vec<ParamHeader>, String> {
    let mut out = Vec::new();
    walk_object(schema, true, &mut Vec::new(), &mut out)?;
    let mut seen: Vec<String> = Vec::new();
    for h in &out {
        let lower = h.name.to_ascii_lowercase();
        if seen.contains(&lower) {
            return Err(format!("header {:?} is declared twice", h.name));
        }
        seen.push(lower);
    }
    Ok(out)
}

/// `pure`: reached from the root through `properties` alone.
fn walk(
    node: &Value,
    pure: bool,
    path: &mut Vec<String>,
    out: &mut Vec<ParamHeader>,
) -> Result<(), String> {
    match node {
        Value::Object(map) => walk_object(map, pure, path, out)?,
        Value::Array(items) => {
            for item in items {
                walk(item, false, path, out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn walk_object(
    map: &Map<String, Value>,
    pure: bool,
    path: &mut Vec<String>,
    out: &mut Vec<ParamHeader>,
) -> Result<(), String> {
    if let Some(h) = map.get(KEY) {
        if !pure || path.is_empty() {
            return Err(format!(
                "{KEY} at {} is not on a property reached through `properties` alone",
                display(path)
            ));
        }
        out.push(ParamHeader {
            name: valid_name(h, path)?,
            path: path.clone(),
        });
        check_type(map, path)?;
    }
    for (key, child) in map {
        if key == "properties" {
            if let Value::Object(props) = child {
                for (name, prop) in props {
                    path.push(name.clone());
                    walk(prop, pure, path, out)?;
                    path.pop();
                }
                continue;
            }
        }
        if key != KEY {
            path.push(format!("<{key}>"));
            walk(child, false, path, out)?;
            path.pop();
        }
    }
    Ok(())
}

fn display(path: &[String]) -> String {
    if path.is_empty() {
        "the root".into()
    } else {
        path.join(".")
    }
}

fn valid_name(h: &Value, path: &[String]) -> Result<String, String> {
    let name = h
        .as_str()
        .ok_or_else(|| format!("{KEY} of {} is not a string", display(path)))?;
    if name.is_empty() || !name.chars().all(is_tchar) {
        return Err(format!(
            "{KEY} {name:?} of {} is not an HTTP header token",
            display(path)
        ));
    }
    Ok(name.to_owned())
}

fn check_type(prop: &Map<String, Value>, path: &[String]) -> Result<(), String> {
    match prop.get("type").and_then(Value::as_str) {
        Some("string" | "integer" | "boolean") => Ok(()),
        other => Err(format!(
            "{KEY} of {} is on a property of type {}, not string, integer or boolean",
            display(path),
            other.unwrap_or("(none)")
        )),
    }
}

/// The header value for one argument (raw: the transport encodes it), or
/// `None` to omit the header.
pub(crate) fn header_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => n
            .as_i64()
            .filter(|i| (-MAX_SAFE..=MAX_SAFE).contains(i))
            .map(|i| i.to_string()),
        _ => None,
    }
}

/// The `Mcp-Param-*` headers of one call: for each annotated property
/// present in `arguments` (and neither `null` nor of another type).
pub(crate) fn for_call(wanted: &[ParamHeader], arguments: &Value) -> Vec<(String, String)> {
    wanted
        .iter()
        .filter_map(|h| {
            let v = h.path.iter().try_fold(arguments, |v, k| v.get(k))?;
            Some((format!("mcp-param-{}", h.name), header_value(v)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(schema: Value) -> Result<Vec<String>, String> {
        let Value::Object(schema) = schema else {
            panic!("a schema is an object")
        };
        annotations(&schema).map(|v| {
            let mut n: Vec<String> = v.into_iter().map(|h| h.path.join(".")).collect();
            n.sort();
            n
        })
    }
    #[test]
    fn valid_annotations_along_properties_chains() {
        let s = json!({"type": "object", "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "opts": {"type": "object", "properties": {
                "dry": {"type": "boolean", "x-mcp-header": "Dry-Run"}}},
            "plain": {"type": "number"}}});
        assert_eq!(names(s).unwrap(), ["opts.dry", "region"]);
    }

    #[test]
    fn invalid_annotations_are_reported() {
        let bad = [
            json!({"properties": {"a": {"type": "string", "x-mcp-header": ""}}}),
            json!({"properties": {"a": {"type": "string", "x-mcp-header": "A B"}}}),
            json!({"properties": {"a": {"type": "string", "x-mcp-header": "X\r\n"}}}),
            json!({"properties": {"a": {"type": "number", "x-mcp-header": "A"}}}),
            json!({"properties": {"a": {"type": "object", "x-mcp-header": "A"}}}),
            json!({"properties": {"a": {"type": "string", "x-mcp-header": "A"},
                                  "b": {"type": "string", "x-mcp-header": "a"}}}),
            json!({"properties": {"a": {"type": "array", "items": {"type": "string", "x-mcp-header": "A"}}}}),
            json!({"anyOf": [{"properties": {"a": {"type": "string", "x-mcp-header": "A"}}}]}),
            json!({"x-mcp-header": "Root"}),
        ];
        for s in bad {
            assert!(names(s.clone()).is_err(), "{s}");
        }
    }
}
