//! Small JSON shapes shared by the methods: results, resource contents,
//! pagination with opaque cursors, and base64 for blobs.

use serde_json::{json, Value};

use crate::protocol::codes;
use crate::protocol::ErrorObject;

use super::builder::ResourceBody;

/// A `CallToolResult` with one text block.
pub fn text_result(text: impl Into<String>) -> Value {
    json!({"content": [{"type": "text", "text": text.into()}]})
}

/// A `CallToolResult` carrying `value` as `structuredContent`, with its JSON
/// text as the content block (as the spec recommends).
pub fn structured_result(value: Value) -> Value {
    json!({"content": [{"type": "text", "text": value.to_string()}], "structuredContent": value})
}

/// A `CallToolResult` with `isError: true` and one text block.
pub fn error_result(text: impl Into<String>) -> Value {
    json!({"content": [{"type": "text", "text": text.into()}], "isError": true})
}

/// What a tool handler returned, as a `CallToolResult`: objects with
/// `content` pass through; strings become text; other values become their
/// JSON text plus `structuredContent` (objects only, in the handshake era).
pub(crate) fn tool_result(value: Value, modern: bool) -> Value {
    match value {
        Value::Object(ref obj) if obj.contains_key("content") => value,
        Value::String(s) => text_result(s),
        Value::Object(_) => structured_result(value),
        other if modern => structured_result(other),
        other => text_result(other.to_string()),
    }
}

/// One entry of `contents` for `resources/read`.
pub(crate) fn contents(uri: &str, mime: Option<&str>, body: &ResourceBody) -> Value {
    let mut v = match body {
        ResourceBody::Text(text) => json!({"uri": uri, "text": text}),
        ResourceBody::Blob(bytes) => json!({"uri": uri, "blob": base64(bytes)}),
    };
    if let (Some(m), Some(obj)) = (mime, v.as_object_mut()) {
        obj.insert("mimeType".into(), json!(m));
    }
    v
}

const CURSOR_PREFIX: &str = "sb1.";

/// One page of `items` from `cursor`, and the cursor of the next page.
pub(crate) fn paginate(
    items: Vec<Value>,
    cursor: Option<&Value>,
    page_size: Option<usize>,
) -> Result<(Vec<Value>, Option<String>), ErrorObject> {
    let start = match cursor {
        None | Some(Value::Null) => 0,
        Some(Value::String(c)) => c
            .strip_prefix(CURSOR_PREFIX)
            .and_then(|hex| usize::from_str_radix(hex, 16).ok())
            .filter(|&n| n <= items.len())
            .ok_or_else(|| ErrorObject {
                code: codes::INVALID_PARAMS,
                message: "invalid cursor".into(),
                data: None,
            })?,
        Some(_) => {
            return Err(ErrorObject {
                code: codes::INVALID_PARAMS,
                message: "cursor must be a string".into(),
                data: None,
            })
        }
    };
    let Some(size) = page_size else {
        return Ok((items.into_iter().skip(start).collect(), None));
    };
    let end = start.saturating_add(size).min(items.len());
    let next = (end < items.len()).then(|| format!("{CURSOR_PREFIX}{end:x}"));
    Ok((items[start..end].to_vec(), next))
}

/// Standard base64 with padding.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn pages_follow_cursors_and_reject_forged_ones() {
        let items: Vec<Value> = (0..5).map(|i| json!(i)).collect();
        let (p1, c1) = paginate(items.clone(), None, Some(2)).unwrap();
        assert_eq!(p1, vec![json!(0), json!(1)]);
        let (p2, c2) = paginate(items.clone(), Some(&json!(c1.unwrap())), Some(2)).unwrap();
        assert_eq!(p2, vec![json!(2), json!(3)]);
        let (p3, c3) = paginate(items.clone(), Some(&json!(c2.unwrap())), Some(2)).unwrap();
        assert_eq!((p3, c3), (vec![json!(4)], None));
        assert!(paginate(items.clone(), Some(&json!("bogus")), Some(2)).is_err());
        assert!(paginate(items, Some(&json!("")), Some(2)).is_err());
    }
}
