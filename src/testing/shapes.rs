//! Small JSON shapes for test handlers: tool results, resource contents,
//! and base64 for blobs.

use serde_json::{json, Map, Value};

use crate::protocol::{BlobResourceContents, ResourceContents, TextResourceContents};

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
pub(crate) fn contents(uri: &str, mime: Option<&str>, body: &ResourceBody) -> ResourceContents {
    let (uri, mime_type) = (uri.to_owned(), mime.map(str::to_owned));
    match body {
        ResourceBody::Text(text) => ResourceContents::Text(TextResourceContents {
            uri,
            mime_type,
            text: text.clone(),
            meta: None,
            extra: Map::new(),
        }),
        ResourceBody::Blob(bytes) => ResourceContents::Blob(BlobResourceContents {
            uri,
            mime_type,
            blob: base64(bytes),
            meta: None,
            extra: Map::new(),
        }),
    }
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
}
