//! The smallest Streamable HTTP MCP server we can write: one `echo` tool at
//! `http://127.0.0.1:PORT/mcp`, in both eras (`server/discover` for
//! 2026-07-28 clients, `initialize` with a session id for handshake-era
//! ones). It answers every POST with one JSON body and keeps connections
//! alive, so an HTTP bench measures the clients, not the server
//! (`benches/compare.sh` runs Switchboard and the TypeScript SDK client
//! against it).
//!
//! ```text
//! cargo run --release --example http_echo_server -- 8931
//! switchboard bench http://127.0.0.1:8931/mcp --tool echo --args '{"text":"hi"}'
//! ```
//!
//! Prints `listening on http://127.0.0.1:PORT/mcp` once it accepts
//! connections (port 0 picks a free one).

use std::borrow::Cow;

use axum::body::Bytes;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Deserialize)]
struct Request<'a> {
    #[serde(borrow, default)]
    id: Option<&'a RawValue>,
    #[serde(borrow, default)]
    method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    params: Option<Params<'a>>,
}

#[derive(Deserialize)]
struct Params<'a> {
    #[serde(borrow, default)]
    arguments: Option<Arguments<'a>>,
    #[serde(borrow, default, rename = "protocolVersion")]
    protocol_version: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Arguments<'a> {
    #[serde(borrow, default)]
    text: Option<&'a RawValue>,
}

const SESSION: &str = "switchboard-echo-session";
const HANDSHAKE_VERSIONS: [&str; 4] = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"];

fn json(body: String) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

async fn handle(body: Bytes) -> Response {
    let Ok(req) = serde_json::from_slice::<Request<'_>>(&body) else {
        return (StatusCode::BAD_REQUEST, "not a JSON-RPC message").into_response();
    };
    let (Some(id), Some(method)) = (req.id, req.method.as_deref()) else {
        // A notification or a response: accepted, nothing to say.
        return StatusCode::ACCEPTED.into_response();
    };
    let id = id.get();
    let result: Cow<'static, str> = match method {
        "tools/call" => {
            let text = req
                .params
                .as_ref()
                .and_then(|p| p.arguments.as_ref())
                .and_then(|a| a.text)
                .map_or("\"\"", |t| t.get());
            return json(format!(
                r#"{{"jsonrpc":"2.0","id":{id},"result":{{"content":[{{"type":"text","text":{text}}}]}}}}"#
            ));
        }
        "initialize" => {
            let asked = req
                .params
                .as_ref()
                .and_then(|p| p.protocol_version.as_deref())
                .unwrap_or(HANDSHAKE_VERSIONS[0]);
            let version = HANDSHAKE_VERSIONS
                .iter()
                .find(|v| **v == asked)
                .unwrap_or(&HANDSHAKE_VERSIONS[0]);
            let mut response = json(format!(
                r#"{{"jsonrpc":"2.0","id":{id},"result":{{"protocolVersion":"{version}","capabilities":{{"tools":{{}}}},"serverInfo":{{"name":"switchboard-http-echo","version":"{}"}}}}}}"#,
                env!("CARGO_PKG_VERSION")
            ));
            response
                .headers_mut()
                .insert("mcp-session-id", HeaderValue::from_static(SESSION));
            return response;
        }
        "server/discover" => format!(
            r#"{{"resultType":"complete","supportedVersions":["2026-07-28"],"capabilities":{{"tools":{{}}}},"ttlMs":0,"cacheScope":"public","_meta":{{"io.modelcontextprotocol/serverInfo":{{"name":"switchboard-http-echo","version":"{}"}}}}}}"#,
            env!("CARGO_PKG_VERSION")
        )
        .into(),
        "ping" => "{}".into(),
        "tools/list" => r#"{"tools":[{"name":"echo","description":"Echoes its text argument","inputSchema":{"type":"object","properties":{"text":{"type":"string"}}}}]}"#.into(),
        other => {
            return json(format!(
                r#"{{"jsonrpc":"2.0","id":{id},"error":{{"code":-32601,"message":"method not found: {}"}}}}"#,
                other.escape_default()
            ))
        }
    };
    json(format!(
        r#"{{"jsonrpc":"2.0","id":{id},"result":{result}}}"#
    ))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    let port: u16 = match std::env::args().nth(1).map(|p| p.parse()) {
        None => 0,
        Some(Ok(port)) => port,
        Some(Err(e)) => {
            eprintln!("usage: http_echo_server [PORT]: {e}");
            std::process::exit(2);
        }
    };
    let app = Router::new().route(
        "/mcp",
        post(handle)
            .get(|| async { StatusCode::METHOD_NOT_ALLOWED })
            .delete(|| async { StatusCode::NO_CONTENT }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on http://{}/mcp", listener.local_addr()?);
    axum::serve(listener, app).await
}
