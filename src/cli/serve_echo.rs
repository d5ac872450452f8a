//! `switchboard serve-echo` (hidden): the smallest MCP server we can write,
//! one `echo` tool over stdio, in both eras. Benches use it so that what they
//! measure is the client, not the server.

use std::io::{BufRead, BufWriter, Write};

use serde::Deserialize;
use serde_json::json;
use serde_json::value::RawValue;

#[derive(Deserialize)]
struct Request<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    method: Option<std::borrow::Cow<'a, str>>,
    /// Only what the echo server reads, in the same pass over the line.
    #[serde(borrow, default)]
    params: Option<Params<'a>>,
}

#[derive(Deserialize)]
struct Params<'a> {
    #[serde(borrow, default)]
    name: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default)]
    arguments: Option<EchoArguments<'a>>,
    #[serde(borrow, default, rename = "protocolVersion")]
    protocol_version: Option<std::borrow::Cow<'a, str>>,
    #[serde(borrow, default, rename = "_meta")]
    meta: Option<Meta<'a>>,
}

/// The one `_meta` entry read: a 2026-07-28 request's revision.
#[derive(Deserialize)]
struct Meta<'a> {
    #[serde(borrow, default, rename = "io.modelcontextprotocol/protocolVersion")]
    protocol_version: Option<std::borrow::Cow<'a, str>>,
}

/// The handshake revisions, newest first: `initialize` answers with the
/// client's when it is one of them, else with the first.
const HANDSHAKE_VERSIONS: [&str; 4] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

/// The per-request revision.
const MODERN_VERSION: &str = "2026-07-28";

#[derive(Deserialize)]
struct EchoArguments<'a> {
    #[serde(borrow, default)]
    text: Option<&'a RawValue>,
}

/// The start delay when the arguments are exactly `serve-echo` or
/// `serve-echo --start-delay-ms N`; anything else (help, a typo) is left to
/// the full command-line parser.
pub fn plain_invocation(mut args: impl Iterator<Item = std::ffi::OsString>) -> Option<u64> {
    if args.next()?.to_str()? != "serve-echo" {
        return None;
    }
    let delay = match args.next() {
        None => return Some(0),
        Some(flag) => match flag.to_str()?.strip_prefix("--start-delay-ms") {
            Some("") => args.next()?.to_str()?.parse().ok()?,
            Some(rest) => rest.strip_prefix('=')?.parse().ok()?,
            None => return None,
        },
    };
    args.next().is_none().then_some(delay)
}

/// Serves until stdin closes. Blocking I/O on purpose: it is a benchmark
/// peer, and a plain loop is the fastest server there is.
pub fn serve(start_delay_ms: u64) -> std::io::Result<()> {
    std::thread::sleep(std::time::Duration::from_millis(start_delay_ms));
    let stdin = std::io::stdin();
    let mut input = std::io::BufReader::with_capacity(64 * 1024, stdin.lock());
    let mut out = BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return out.flush();
        }
        let Ok(req) = serde_json::from_str::<Request<'_>>(&line) else {
            continue;
        };
        let (Some(id), Some(method)) = (req.id, req.method.as_deref()) else {
            continue; // notifications need no answer
        };
        let params = req.params.as_ref();
        if let Some(asked) = params
            .and_then(|p| p.meta.as_ref())
            .and_then(|m| m.protocol_version.as_deref())
            .filter(|v| *v != MODERN_VERSION)
        {
            let data = json!({"supported": [MODERN_VERSION], "requested": asked});
            let error = json!({"code": -32022, "message": format!("unsupported protocol version {asked}"), "data": data});
            reply_error(&mut out, &input, id, error)?;
            continue;
        }
        if method == "tools/call" {
            if let Some(other) = params
                .and_then(|p| p.name.as_deref())
                .filter(|n| *n != "echo")
            {
                let error = json!({"code": -32602, "message": format!("unknown tool: {other}")});
                reply_error(&mut out, &input, id, error)?;
                continue;
            }
            // The hot path: copy the text argument through without decoding it.
            let text = req
                .params
                .and_then(|p| p.arguments)
                .and_then(|a| a.text)
                .map(|t| t.get())
                .unwrap_or("\"\"");
            write!(
                out,
                r#"{{"jsonrpc":"2.0","id":{},"result":{{"content":[{{"type":"text","text":{text}}}]}}}}"#,
                id.get()
            )?;
            out.write_all(b"\n")?;
            if input.buffer().is_empty() {
                out.flush()?;
            }
            continue;
        }
        let result = match method {
            "initialize" => json!({
                "protocolVersion": params
                    .and_then(|p| p.protocol_version.as_deref())
                    .filter(|v| HANDSHAKE_VERSIONS.contains(v))
                    .unwrap_or(HANDSHAKE_VERSIONS[0]),
                "capabilities": {"tools": {}},
                "serverInfo": {"name": "switchboard-echo", "version": env!("CARGO_PKG_VERSION")},
            }),
            "server/discover" => json!({
                "resultType": "complete",
                "supportedVersions": ["2026-07-28"],
                "capabilities": {"tools": {}},
                "ttlMs": 0,
                "cacheScope": "public",
                "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "switchboard-echo", "version": env!("CARGO_PKG_VERSION")}},
            }),
            "ping" => json!({}),
            // 2026-07-28 requires the caching hints and resultType on a
            // list (strict clients such as fastmcp's refuse it without);
            // handshake-era clients ignore them.
            "tools/list" => json!({
                "resultType": "complete",
                "ttlMs": 0,
                "cacheScope": "public",
                "tools": [{
                    "name": "echo",
                    "description": "Echoes its text argument",
                    "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}},
                    "annotations": {"readOnlyHint": true, "idempotentHint": true, "openWorldHint": false},
                }],
            }),
            other => {
                let error =
                    json!({"code": -32601, "message": format!("method not found: {other}")});
                reply_error(&mut out, &input, id, error)?;
                continue;
            }
        };
        reply(
            &mut out,
            &input,
            &json!({"jsonrpc": "2.0", "id": id, "result": result}),
        )?;
    }
}

/// [`reply`] with the error `error` to the request `id`.
fn reply_error(
    out: &mut impl Write,
    input: &std::io::BufReader<std::io::StdinLock<'_>>,
    id: &RawValue,
    error: serde_json::Value,
) -> std::io::Result<()> {
    reply(
        out,
        input,
        &json!({"jsonrpc": "2.0", "id": id, "error": error}),
    )
}

/// Writes one message and a newline; flushes only when no more requests
/// are already waiting, so pipelined requests get their replies in one
/// write.
fn reply(
    out: &mut impl Write,
    input: &std::io::BufReader<std::io::StdinLock<'_>>,
    message: &serde_json::Value,
) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, message)?;
    out.write_all(b"\n")?;
    if input.buffer().is_empty() {
        out.flush()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::plain_invocation;

    fn plain(args: &[&str]) -> Option<u64> {
        plain_invocation(args.iter().map(std::ffi::OsString::from))
    }

    #[test]
    fn only_exact_invocations_skip_the_parser() {
        assert_eq!(plain(&["serve-echo"]), Some(0));
        assert_eq!(plain(&["serve-echo", "--start-delay-ms", "500"]), Some(500));
        assert_eq!(plain(&["serve-echo", "--start-delay-ms=20"]), Some(20));
        assert_eq!(plain(&["serve-echo", "--help"]), None);
        assert_eq!(plain(&["serve-echo", "--start-delay-ms"]), None);
        assert_eq!(plain(&["serve-echo", "--start-delay-ms", "x"]), None);
        assert_eq!(
            plain(&["serve-echo", "--start-delay-ms", "1", "extra"]),
            None
        );
        assert_eq!(plain(&["serve-echox"]), None);
        assert_eq!(plain(&["-v", "serve-echo"]), None);
        assert_eq!(plain(&[]), None);
    }
}
