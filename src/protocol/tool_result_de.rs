//! `CallToolResult` decoding without serde's `flatten` buffering.
//!
//! A derived `Deserialize` with a flattened `extra` map first copies the
//! whole result (the content array included) into an intermediate tree and
//! then decodes from that. `tools/call` is the hot path, so this visitor
//! decodes known fields straight from the input and keeps only unknown
//! ones as `Value`s.

use std::fmt;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::tools::CallToolResult;

impl<'de> Deserialize<'de> for CallToolResult {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ResultVisitor)
    }
}

struct ResultVisitor;

impl<'de> Visitor<'de> for ResultVisitor {
    type Value = CallToolResult;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a tools/call result object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<CallToolResult, A::Error> {
        let mut out = CallToolResult::default();
        let mut extra = Map::new();
        while let Some(key) = map.next_key::<super::key::KeyBuf<'de>>()? {
            match key.as_str() {
                "resultType" => out.result_type = map.next_value()?,
                "content" => out.content = map.next_value::<Option<_>>()?.unwrap_or_default(),
                // A present `null` stays `Some(Value::Null)`.
                "structuredContent" => out.structured_content = Some(map.next_value()?),
                "isError" => out.is_error = map.next_value()?,
                "_meta" => out.meta = map.next_value()?,
                _ => {
                    extra.insert(key.into_owned(), map.next_value::<Value>()?);
                }
            }
        }
        out.extra = extra;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::tools::CallToolResult;

    #[test]
    fn decodes_every_field_and_keeps_unknown_ones() {
        let v = json!({
            "resultType": "complete",
            "content": [{"type": "text", "text": "hi"}],
            "structuredContent": null,
            "isError": false,
            "_meta": {"k": 1},
            "vendor/extra": [1, 2]
        });
        let r: CallToolResult = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(r.structured_content, Some(serde_json::Value::Null));
        assert_eq!(r.is_error, Some(false));
        assert_eq!(r.extra["vendor/extra"], json!([1, 2]));
        assert_eq!(serde_json::to_value(&r).unwrap(), v);
        let bare: CallToolResult = serde_json::from_str(r#"{"content": null}"#).unwrap();
        assert!(bare.content.is_empty() && bare.structured_content.is_none());
        assert!(
            serde_json::from_str::<CallToolResult>(r#"{"content": [{"type": "nope"}]}"#).is_err()
        );
        assert!(serde_json::from_str::<CallToolResult>("[1]").is_err());
    }
}
