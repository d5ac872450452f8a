//! `x-mcp-header` (2026-07-28, Streamable HTTP): a tool's input schema may
//! mark properties whose values the client mirrors into `Mcp-Param-<Name>`
//! headers on `tools/call`, so gateways can route without reading bodies.
//!
//! The transport learns the annotations from the `tools/list` replies it
//! carries, drops tools whose annotations are invalid from those replies
//! (the spec's MUST, with a warning), and adds the headers on each call.

use std::collections::HashMap;
use std::sync::Mutex;

use bytes::Bytes;
use serde_json::{Map, Value};

use super::peek::encode_header_value;

/// One annotated property: the header suffix and the property path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParamHeader {
    pub(crate) name: String,
    pub(crate) path: Vec<String>,
}

/// Annotations per tool name, as last listed.
#[derive(Default)]
pub(crate) struct ParamHeaders(Mutex<HashMap<String, Vec<ParamHeader>>>);

const KEY: &str = "x-mcp-header";
/// JSON numbers that survive a double: ±(2^53 − 1).
const MAX_SAFE: i64 = (1 << 53) - 1;

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

/// The annotations of one input schema, or why they are invalid.
pub(crate) fn annotations(schema: &Value) -> Result<Vec<ParamHeader>, String> {
    let mut out = Vec::new();
    walk(schema, true, &mut Vec::new(), &mut out)?;
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
        Value::Object(map) => {
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
        }
        Value::Array(items) => {
            for item in items {
                walk(item, false, path, out)?;
            }
        }
        _ => {}
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

/// The header value for one argument, or `None` to omit the header.
fn header_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(encode_header_value(s)),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => n
            .as_i64()
            .filter(|i| (-MAX_SAFE..=MAX_SAFE).contains(i))
            .map(|i| i.to_string()),
        _ => None,
    }
}

impl ParamHeaders {
    /// Learns from a `tools/list` reply; returns the reply without the
    /// tools whose annotations are invalid (or `None` to keep it as is).
    pub(crate) fn learn(&self, frame: &[u8]) -> Option<Bytes> {
        // Most lists have no annotation: skip the parse, unless a tool
        // listed before had some (a new list may have taken them away).
        if memchr::memmem::find(frame, KEY.as_bytes()).is_none() && self.is_empty() {
            return None;
        }
        let mut reply: Value = serde_json::from_slice(frame).ok()?;
        let tools = reply.get_mut("result")?.get_mut("tools")?.as_array_mut()?;
        let mut dropped = false;
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        tools.retain(|tool| {
            let name = tool.get("name").and_then(Value::as_str).unwrap_or_default();
            let schema = tool.get("inputSchema").unwrap_or(&Value::Null);
            match annotations(schema) {
                Ok(found) if found.is_empty() => {
                    map.remove(name);
                    true
                }
                Ok(found) => {
                    map.insert(name.to_owned(), found);
                    true
                }
                Err(why) => {
                    tracing::warn!(tool = %name, "dropping a tool with an invalid {KEY}: {why}");
                    map.remove(name);
                    dropped = true;
                    false
                }
            }
        });
        drop(map);
        dropped
            .then(|| serde_json::to_vec(&reply).ok().map(Bytes::from))
            .flatten()
    }

    fn is_empty(&self) -> bool {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).is_empty()
    }

    /// The `Mcp-Param-*` headers for a call of `tool` (parsing the frame's
    /// arguments only when the tool has annotations).
    pub(crate) fn for_call(&self, tool: &str, frame: &[u8]) -> Vec<(String, String)> {
        let wanted = match self.0.lock().unwrap_or_else(|p| p.into_inner()).get(tool) {
            Some(w) if !w.is_empty() => w.clone(),
            _ => return Vec::new(),
        };
        let Ok(body) = serde_json::from_slice::<Value>(frame) else {
            return Vec::new();
        };
        let args = &body["params"]["arguments"];
        wanted
            .iter()
            .filter_map(|h| {
                let v = h.path.iter().try_fold(args, |v, k| v.get(k))?;
                Some((format!("mcp-param-{}", h.name), header_value(v)?))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(schema: Value) -> Result<Vec<String>, String> {
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
            assert!(annotations(&s).is_err(), "{s}");
        }
    }

    #[test]
    fn learns_drops_and_builds_headers() {
        let p = ParamHeaders::default();
        let reply = json!({"jsonrpc": "2.0", "id": 2, "result": {"tools": [
            {"name": "deploy", "inputSchema": {"type": "object", "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "count": {"type": "integer", "x-mcp-header": "Count"},
                "force": {"type": "boolean", "x-mcp-header": "Force"},
                "note": {"type": "string", "x-mcp-header": "Note"}}}},
            {"name": "broken", "inputSchema": {"properties": {"x": {"type": "number", "x-mcp-header": "X"}}}},
            {"name": "plain", "inputSchema": {"type": "object"}}]}});
        let kept = p.learn(reply.to_string().as_bytes()).expect("rewritten");
        let kept: Value = serde_json::from_slice(&kept).unwrap();
        let names: Vec<&str> = kept["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["deploy", "plain"]);
        let call = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {
            "name": "deploy",
            "arguments": {"region": "eu-west", "count": 3, "force": false, "note": null}}});
        let mut h = p.for_call("deploy", call.to_string().as_bytes());
        h.sort();
        assert_eq!(
            h,
            [
                ("mcp-param-Count".to_owned(), "3".to_owned()),
                ("mcp-param-Force".to_owned(), "false".to_owned()),
                ("mcp-param-Region".to_owned(), "eu-west".to_owned()),
            ]
        );
        assert!(p.for_call("plain", call.to_string().as_bytes()).is_empty());
    }
}
