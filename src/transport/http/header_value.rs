//! Header values per 2026-07-28 (`Mcp-Name`, `Mcp-Param-*`): visible ASCII
//! (inner spaces allowed) goes as is; anything else, and a plain value that
//! looks encoded, becomes `=?base64?<base64 of the UTF-8>?=`. Clients
//! encode; servers decode and compare with the body.

use std::borrow::Cow;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

const PREFIX: &str = "=?base64?";
const SUFFIX: &str = "?=";

/// Encodes one header value.
pub(crate) fn encode(value: &str) -> String {
    let visible = value.bytes().all(|b| (0x20..=0x7e).contains(&b));
    let padded = value.starts_with(' ') || value.ends_with(' ');
    let looks_encoded = value.starts_with(PREFIX) && value.ends_with(SUFFIX);
    let plain = !value.is_empty() && visible && !padded && !looks_encoded;
    if plain {
        value.to_owned()
    } else {
        format!("{PREFIX}{}{SUFFIX}", STANDARD.encode(value))
    }
}

/// Decodes one header value (already trimmed of surrounding whitespace):
/// the text inside `=?base64?...?=` (canonical, padded base64 of UTF-8),
/// or the value itself when it is not wrapped. `None` when the wrapped
/// text is not valid base64 or not UTF-8.
#[cfg_attr(not(feature = "http-server"), allow(dead_code))]
pub(crate) fn decode(value: &str) -> Option<Cow<'_, str>> {
    let Some(inner) = value
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.strip_suffix(SUFFIX))
    else {
        return Some(Cow::Borrowed(value));
    };
    let bytes = STANDARD.decode(inner).ok()?;
    String::from_utf8(bytes).ok().map(Cow::Owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_values_are_encoded_when_not_plain_ascii() {
        assert_eq!(encode("get-sum"), "get-sum");
        assert_eq!(encode("a b"), "a b");
        assert_eq!(encode("café"), "=?base64?Y2Fmw6k=?=");
        assert_eq!(encode(" x"), "=?base64?IHg=?=");
        assert_eq!(encode("=?base64?abc?="), "=?base64?PT9iYXNlNjQ/YWJjPz0=?=");
    }

    #[test]
    fn decoding_undoes_encoding_and_refuses_bad_base64() {
        for v in ["get-sum", "café", " x", "=?base64?abc?=", "日本"] {
            assert_eq!(decode(&encode(v)).as_deref(), Some(v));
        }
        assert_eq!(decode("=?base64?SGVsbG8=?=").as_deref(), Some("Hello"));
        // Literal when not wrapped on both ends.
        assert_eq!(decode("SGVsbG8=").as_deref(), Some("SGVsbG8="));
        assert_eq!(
            decode("=?base64?SGVsbG8=").as_deref(),
            Some("=?base64?SGVsbG8=")
        );
        // Missing padding, characters outside the alphabet, not UTF-8.
        assert_eq!(decode("=?base64?SGVsbG8?="), None);
        assert_eq!(decode("=?base64?SGVs!!!bG8=?="), None);
        assert_eq!(decode("=?base64?/w==?="), None);
    }
}
