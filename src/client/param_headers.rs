//! `x-mcp-header` on the client's side: the annotations of each listed
//! tool are checked once (`protocol::param_headers`), and a tool whose
//! annotations are invalid is dropped from the list with a warning (the
//! spec's MUST). Each call's headers go to the session in the frame's
//! metadata; the transport only sends them (and encodes the values). Only
//! for transports that send headers: non-HTTP clients MAY ignore it.

use crate::protocol::param_headers::{annotations, KEY};
pub(crate) use crate::protocol::param_headers::{for_call, ParamHeader};
use crate::protocol::Tool;

/// Checks the annotations of every tool of a `tools/list` result: keeps
/// the valid tools, each with its annotations (empty for most), and drops
/// the others with a warning.
pub(crate) fn learn(tools: Vec<Tool>) -> Vec<(Tool, Vec<ParamHeader>)> {
    tools
        .into_iter()
        .filter_map(|tool| match annotations(&tool.input_schema) {
            Ok(found) => Some((tool, found)),
            Err(why) => {
                tracing::warn!(tool = %tool.name, "dropping a tool with an invalid {KEY}: {why}");
                None
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn learns_drops_and_builds_headers() {
        let tools: Vec<Tool> = serde_json::from_value(json!([
            {"name": "deploy", "inputSchema": {"type": "object", "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "count": {"type": "integer", "x-mcp-header": "Count"},
                "force": {"type": "boolean", "x-mcp-header": "Force"},
                "note": {"type": "string", "x-mcp-header": "Note"}}}},
            {"name": "broken", "inputSchema": {"properties": {"x": {"type": "number", "x-mcp-header": "X"}}}},
            {"name": "plain", "inputSchema": {"type": "object"}}]))
        .unwrap();
        let kept = learn(tools);
        let names: Vec<&str> = kept.iter().map(|(t, _)| t.name.as_str()).collect();
        assert_eq!(names, ["deploy", "plain"]);
        let args = json!({"region": "eu-west", "count": 3, "force": false, "note": null});
        let mut h = for_call(&kept[0].1, &args);
        h.sort();
        assert_eq!(
            h,
            [
                ("mcp-param-Count".to_owned(), "3".to_owned()),
                ("mcp-param-Force".to_owned(), "false".to_owned()),
                ("mcp-param-Region".to_owned(), "eu-west".to_owned()),
            ]
        );
        assert!(for_call(&kept[1].1, &args).is_empty());
    }
}
