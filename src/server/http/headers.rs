//! The standard headers of a 2026-07-28 request (SEP-2243): `Mcp-Method`
//! on every request, `Mcp-Name` on `tools/call`, `prompts/get`,
//! `resources/read` and the tasks extension's `tasks/*` (its task id), and `MCP-Protocol-Version` equal to the body's
//! `_meta`. They let proxies route without reading bodies, so a server
//! must refuse a request whose headers say something its body does not:
//! HTTP 400 with -32020.

use std::borrow::Cow;

use axum::http::HeaderMap;
use serde::Deserialize;

use serde_json::Value;

use crate::protocol::param_headers;
use crate::protocol::version::meta as keys;
use crate::protocol::{codes, ErrorObject, Tool};
use crate::transport::http::header_value;

pub(crate) const SESSION_ID: &str = "mcp-session-id";
pub(crate) const PROTOCOL_VERSION: &str = "mcp-protocol-version";
pub(crate) const LAST_EVENT_ID: &str = "last-event-id";
const METHOD: &str = "mcp-method";
const NAME: &str = "mcp-name";

/// What the headers are compared with, read from the params.
#[derive(Deserialize, Default)]
struct Named<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    uri: Option<Cow<'a, str>>,
    #[serde(rename = "taskId", borrow, default)]
    task_id: Option<Cow<'a, str>>,
    #[serde(rename = "_meta", borrow, default)]
    meta: Option<VersionOnly<'a>>,
}

#[derive(Deserialize, Default)]
struct VersionOnly<'a> {
    #[serde(rename = "io.modelcontextprotocol/protocolVersion", borrow, default)]
    version: Option<Cow<'a, str>>,
}

/// A header's value, trimmed of the optional whitespace around it.
pub(crate) fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap_or("\u{fffd}").trim())
}

fn mismatch(message: String) -> ErrorObject {
    ErrorObject {
        code: codes::HEADER_MISMATCH,
        message,
        data: None,
    }
}

/// Checks a 2026-07-28 request's headers against its method and params.
/// Params that do not parse are left for the core to refuse (-32602).
pub(crate) fn check_modern(
    headers: &HeaderMap,
    method: &str,
    params: Option<&[u8]>,
) -> Result<(), ErrorObject> {
    match header(headers, METHOD) {
        Some(m) if m == method => {}
        Some(m) => {
            return Err(mismatch(format!(
                "the Mcp-Method header says {m:?} but the body's method is {method:?}"
            )))
        }
        None => return Err(mismatch("the Mcp-Method header is missing".into())),
    }
    let named: Named<'_> = params
        .and_then(|p| serde_json::from_slice(p).ok())
        .unwrap_or_default();
    let version = named.meta.as_ref().and_then(|m| m.version.as_deref());
    match (header(headers, PROTOCOL_VERSION), version) {
        (Some(h), Some(v)) if h != v => {
            return Err(mismatch(format!(
                "the MCP-Protocol-Version header says {h:?} but {} is {v:?}",
                keys::PROTOCOL_VERSION
            )))
        }
        (None, Some(_)) => {
            return Err(mismatch(
                "the MCP-Protocol-Version header is missing".into(),
            ))
        }
        _ => {}
    }
    let body_name = match method {
        "tools/call" | "prompts/get" => named.name.as_deref(),
        "resources/read" => named.uri.as_deref(),
        // The tasks extension (SEP-2663) names its task in `Mcp-Name`;
        // one that is there must match (its absence is tolerated: clients
        // of earlier drafts do not send it).
        "tasks/get" | "tasks/update" | "tasks/cancel" if header(headers, NAME).is_some() => {
            named.task_id.as_deref()
        }
        _ => return Ok(()),
    };
    let Some(body_name) = body_name else {
        return Ok(());
    };
    match header(headers, NAME) {
        None => Err(mismatch(format!(
            "the Mcp-Name header is missing (the body names {body_name:?})"
        ))),
        Some(h) => match header_value::decode(h) {
            Some(decoded) if decoded == body_name => Ok(()),
            Some(decoded) => Err(mismatch(format!(
                "the Mcp-Name header says {decoded:?} but the body names {body_name:?}"
            ))),
            None => Err(mismatch(format!(
                "the Mcp-Name header {h:?} is not valid =?base64?...?= text"
            ))),
        },
    }
}

/// Checks a 2026-07-28 `tools/call`'s `Mcp-Param-*` headers against the
/// arguments, for the parameters `tool` marks with `x-mcp-header`: an
/// argument that is there needs its header with the same value (plain, or
/// `=?base64?...?=`), a header needs its argument. A tool whose
/// annotations are invalid is not checked (its clients drop it).
pub(crate) fn check_params(
    headers: &HeaderMap,
    tool: &Tool,
    params: Option<&[u8]>,
) -> Result<(), ErrorObject> {
    let Ok(wanted) = param_headers::annotations(&tool.input_schema) else {
        return Ok(());
    };
    if wanted.is_empty() {
        return Ok(());
    }
    #[derive(Deserialize, Default)]
    struct Arguments {
        #[serde(default)]
        arguments: Value,
    }
    let arguments = params
        .and_then(|p| serde_json::from_slice::<Arguments>(p).ok())
        .unwrap_or_default()
        .arguments;
    for h in &wanted {
        let name = format!("mcp-param-{}", h.name);
        let value = h
            .path
            .iter()
            .try_fold(&arguments, |v, k| v.get(k))
            .and_then(param_headers::header_value);
        match (header(headers, &name), value) {
            (None, None) => {}
            (None, Some(_)) => {
                return Err(mismatch(format!(
                    "the Mcp-Param-{} header is missing (the body has its argument)",
                    h.name
                )))
            }
            (Some(sent), value) => match header_value::decode(sent) {
                Some(decoded) if Some(decoded.as_ref()) == value.as_deref() => {}
                Some(decoded) => {
                    return Err(mismatch(format!(
                        "the Mcp-Param-{} header says {decoded:?} but the argument is {value:?}",
                        h.name
                    )))
                }
                None => {
                    return Err(mismatch(format!(
                        "the Mcp-Param-{} header {sent:?} is not valid =?base64?...?= text",
                        h.name
                    )))
                }
            },
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    const CALL: &[u8] =
        br#"{"name":"echo","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}"#;

    #[test]
    fn matching_headers_pass_with_whitespace_and_any_name_case() {
        let h = headers(&[
            ("mcp-method", " tools/call "),
            ("MCP-Name", "  echo "),
            ("mcp-protocol-version", "2026-07-28"),
        ]);
        assert!(check_modern(&h, "tools/call", Some(CALL)).is_ok());
        let h = headers(&[
            ("mcp-method", "tools/call"),
            ("mcp-name", "=?base64?ZWNobw==?="),
            ("mcp-protocol-version", "2026-07-28"),
        ]);
        assert!(check_modern(&h, "tools/call", Some(CALL)).is_ok());
    }

    #[test]
    fn each_disagreement_is_a_header_mismatch() {
        let v = ("mcp-protocol-version", "2026-07-28");
        let cases = [
            headers(&[("mcp-name", "echo"), v]),
            headers(&[("mcp-method", "TOOLS/CALL"), ("mcp-name", "echo"), v]),
            headers(&[("mcp-method", "tools/call"), v]),
            headers(&[("mcp-method", "tools/call"), ("mcp-name", "other"), v]),
            headers(&[
                ("mcp-method", "tools/call"),
                ("mcp-name", "=?base64?ZWNobw?="),
                v,
            ]),
            headers(&[("mcp-method", "tools/call"), ("mcp-name", "echo")]),
            headers(&[
                ("mcp-method", "tools/call"),
                ("mcp-name", "echo"),
                ("mcp-protocol-version", "2025-11-25"),
            ]),
        ];
        for h in cases {
            let e = check_modern(&h, "tools/call", Some(CALL)).unwrap_err();
            assert_eq!(e.code, codes::HEADER_MISMATCH, "{h:?}: {}", e.message);
        }
    }

    #[test]
    fn param_headers_must_mirror_their_arguments() {
        let tool: Tool = serde_json::from_value(serde_json::json!({"name": "deploy",
            "inputSchema": {"type": "object", "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "count": {"type": "integer", "x-mcp-header": "Count"}}}}))
        .unwrap();
        let body = br#"{"name":"deploy","arguments":{"region":"Hello","count":3}}"#;
        let ok = [
            headers(&[("mcp-param-region", "Hello"), ("mcp-param-count", "3")]),
            headers(&[
                ("mcp-param-region", "=?base64?SGVsbG8=?="),
                ("mcp-param-count", " 3 "),
            ]),
        ];
        for h in ok {
            assert!(check_params(&h, &tool, Some(body)).is_ok(), "{h:?}");
        }
        let bad = [
            headers(&[("mcp-param-count", "3")]),
            headers(&[
                ("mcp-param-region", "=?base64?SGVsbG8?="),
                ("mcp-param-count", "3"),
            ]),
            headers(&[
                ("mcp-param-region", "=?base64?SGVs!!!bG8=?="),
                ("mcp-param-count", "3"),
            ]),
            headers(&[("mcp-param-region", "Bye"), ("mcp-param-count", "3")]),
        ];
        for h in bad {
            let e = check_params(&h, &tool, Some(body)).unwrap_err();
            assert_eq!(e.code, codes::HEADER_MISMATCH, "{h:?}");
        }
        // A header without its argument is a mismatch too.
        let e = check_params(
            &headers(&[("mcp-param-region", "x")]),
            &tool,
            Some(br#"{"name":"deploy","arguments":{}}"#),
        );
        assert!(e.is_err());
    }
}
