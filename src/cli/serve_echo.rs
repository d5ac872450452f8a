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
    arguments: Option<EchoArguments<'a>>,
    #[serde(borrow, default, rename = "protocolVersion")]
    protocol_version: Option<std::borrow::Cow<'a, str>>,
}

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
        if method == "tools/call" {
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
        let params = req.params.as_ref();
        let result = match method {
            "initialize" => json!({
                "protocolVersion": params.and_then(|p| p.protocol_version.as_deref()).unwrap_or("2025-11-25"),
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
                }],
            }),
            other => {
                serde_json::to_writer(
                    &mut out,
                    &json!({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": format!("method not found: {other}")}}),
                )?;
                out.write_all(b"\n")?;
                if input.buffer().is_empty() {
                    out.flush()?;
                }
                continue;
            }
        };
        serde_json::to_writer(
            &mut out,
            &json!({"jsonrpc": "2.0", "id": id, "result": result}),
        )?;
        out.write_all(b"\n")?;
        // Flush only when no more requests are already waiting: pipelined
        // requests get their replies in one write.
        if input.buffer().is_empty() {
            out.flush()?;
        }
    }
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
