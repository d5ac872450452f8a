//! OAuth against an MCP server and authorization server written here
//! (127.0.0.1 only), for what the conformance suite does not exercise:
//! refresh tokens (kept when the server does not rotate them, with the
//! client secret from registration), refreshing a token about to expire
//! before a request, and a file store that lets a second client start
//! without authorizing again.

mod common;
mod http_common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_common::fake::{self, Reply, Req};
use serde_json::{json, Value};
use switchboard::auth::{FileTokenStore, HeadlessHandler, OAuthConfig};
use switchboard::{Client, Source};

#[derive(Default)]
struct Seen {
    base: String,
    authorizes: usize,
    registrations: usize,
    /// (grant_type, refresh_token, client_secret) of each token request.
    grants: Vec<(String, Option<String>, Option<String>)>,
    issued: usize,
    valid: Option<String>,
    /// The next token issued expires in 5 s (then 3600 s again).
    short_next: bool,
}

type Shared = Arc<Mutex<Seen>>;

fn query(path: &str) -> HashMap<String, String> {
    let q = path.split_once('?').map(|(_, q)| q).unwrap_or("");
    url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect()
}

fn issue(s: &mut Seen, refresh: bool) -> Reply {
    s.issued += 1;
    let token = format!("at-{}", s.issued);
    s.valid = Some(token.clone());
    let expires_in = if std::mem::take(&mut s.short_next) {
        5
    } else {
        3600
    };
    let mut body = json!({"access_token": token, "token_type": "Bearer", "expires_in": expires_in});
    if !refresh {
        body["refresh_token"] = json!("rt-1");
    }
    Reply::json(200, body.to_string())
}

fn mcp(s: &mut Seen, req: &Req) -> Reply {
    let bearer = req
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "))
        .map(str::to_owned);
    if bearer.is_none() || bearer != s.valid {
        return Reply::Json {
            status: 401,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                (
                    "www-authenticate".into(),
                    format!(
                        r#"Bearer error="invalid_token", resource_metadata="{}/.well-known/oauth-protected-resource/mcp""#,
                        s.base
                    ),
                ),
            ],
            body: r#"{"error":"invalid_token"}"#.into(),
        };
    }
    let body = req.json();
    let Some(id) = body.get("id").cloned() else {
        return Reply::status(202, "text/plain", "");
    };
    let result = match body["method"].as_str().unwrap_or_default() {
        "server/discover" => {
            return Reply::json(
                400,
                r#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"},"id":null}"#,
            )
        }
        "initialize" => json!({"protocolVersion": "2025-11-25", "capabilities": {"tools": {}},
                               "serverInfo": {"name": "oauth-fake", "version": "1.0.0"}}),
        "tools/list" => {
            json!({"tools": [{"name": "whoami", "inputSchema": {"type": "object"}}]})
        }
        "tools/call" => json!({"content": [{"type": "text", "text": bearer.unwrap_or_default()}]}),
        _ => json!({}),
    };
    Reply::json(
        200,
        json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string(),
    )
}

fn handle(seen: &Shared, req: Req) -> Reply {
    let mut s = seen.lock().unwrap();
    let base = s.base.clone();
    let path = req.path.split('?').next().unwrap_or("").to_owned();
    match (req.method.as_str(), path.as_str()) {
        ("GET", "/.well-known/oauth-protected-resource/mcp") => Reply::json(
            200,
            json!({"resource": format!("{base}/mcp"), "authorization_servers": [base]}).to_string(),
        ),
        ("GET", "/.well-known/oauth-authorization-server") => Reply::json(
            200,
            json!({
                "issuer": base,
                "authorization_endpoint": format!("{base}/authorize"),
                "token_endpoint": format!("{base}/token"),
                "registration_endpoint": format!("{base}/register"),
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
                "authorization_response_iss_parameter_supported": true,
            })
            .to_string(),
        ),
        ("POST", "/register") => {
            s.registrations += 1;
            Reply::json(
                201,
                json!({"client_id": "cid", "client_secret": "csecret"}).to_string(),
            )
        }
        ("GET", "/authorize") => {
            s.authorizes += 1;
            let q = query(&req.path);
            let mut to = url::Url::parse(&q["redirect_uri"]).unwrap();
            to.query_pairs_mut()
                .append_pair("code", "code-1")
                .append_pair("state", &q["state"])
                .append_pair("iss", &base);
            Reply::Json {
                status: 302,
                headers: vec![("location".into(), to.to_string())],
                body: String::new(),
            }
        }
        ("POST", "/token") => {
            let form: HashMap<String, String> = url::form_urlencoded::parse(&req.body)
                .into_owned()
                .collect();
            let grant = form.get("grant_type").cloned().unwrap_or_default();
            s.grants.push((
                grant.clone(),
                form.get("refresh_token").cloned(),
                form.get("client_secret").cloned(),
            ));
            match grant.as_str() {
                "authorization_code" if form.contains_key("code_verifier") => issue(&mut s, false),
                "refresh_token"
                    if form.get("refresh_token").map(String::as_str) == Some("rt-1") =>
                {
                    issue(&mut s, true)
                }
                _ => Reply::json(400, r#"{"error":"invalid_grant"}"#),
            }
        }
        ("POST", "/mcp") => mcp(&mut s, &req),
        _ => Reply::status(404, "text/plain", "not found"),
    }
}

async fn start() -> (Shared, String) {
    let seen: Shared = Arc::default();
    let s = seen.clone();
    let port = fake::serve(Arc::new(move |req| handle(&s, req))).await;
    seen.lock().unwrap().base = format!("http://127.0.0.1:{port}");
    (seen, format!("http://127.0.0.1:{port}/mcp"))
}

async fn connect(url: &str, store: Arc<FileTokenStore>) -> Client {
    let oauth = OAuthConfig::new()
        .handler(Arc::new(HeadlessHandler::new().unwrap()))
        .redirect_uri("http://127.0.0.1:9/callback")
        .store(store)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    Client::builder(Source::http_with_auth(url, Arc::new(oauth)))
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(10))
        .connect()
        .await
        .expect("connect with OAuth")
}

async fn whoami(client: &Client) -> String {
    client
        .call_tool("whoami", json!({}))
        .await
        .expect("whoami")
        .text()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refresh_keeps_the_refresh_token_and_a_file_store_survives_restarts() {
    common::bounded(async {
        let (seen, url) = start().await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        let store = Arc::new(FileTokenStore::new(&path));
        let client = connect(&url, store.clone()).await;
        assert_eq!(whoami(&client).await, "at-1");

        // The server forgets the token: the client refreshes (the
        // response has no refresh token: the old one is kept), twice.
        for expected in ["at-2", "at-3"] {
            seen.lock().unwrap().valid = Some("revoked".into());
            // The next token issued is the one the server accepts.
            let next = {
                let s = seen.lock().unwrap();
                format!("at-{}", s.issued + 1)
            };
            assert_eq!(next, expected);
            assert_eq!(whoami(&client).await, expected);
        }
        // A token about to expire is refreshed before it is sent: at-4
        // expires in 5 s, so the retry goes out with at-5.
        {
            let mut s = seen.lock().unwrap();
            s.valid = Some("revoked".into());
            s.short_next = true;
        }
        assert_eq!(whoami(&client).await, "at-5", "refreshed before sending");
        assert_eq!(whoami(&client).await, "at-5", "no refresh needed");
        {
            let s = seen.lock().unwrap();
            assert_eq!(s.authorizes, 1);
            assert_eq!(s.registrations, 1);
            assert_eq!(s.grants[0].0, "authorization_code");
            for (grant, rt, secret) in &s.grants[1..] {
                assert_eq!(grant, "refresh_token");
                assert_eq!(rt.as_deref(), Some("rt-1"));
                assert_eq!(secret.as_deref(), Some("csecret"), "client_secret_post");
            }
        }
        client.close().await.unwrap();

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // A new client with the same store: no new authorization.
        let again = connect(&url, Arc::new(FileTokenStore::new(&path))).await;
        assert_eq!(whoami(&again).await, "at-5");
        assert_eq!(seen.lock().unwrap().authorizes, 1);
        assert_eq!(seen.lock().unwrap().registrations, 1);
        again.close().await.unwrap();
        let saved = std::fs::read_to_string(&path).unwrap();
        let v: Value = serde_json::from_str(&saved).unwrap();
        assert_eq!(v["entries"][0]["issuer"], json!(seen.lock().unwrap().base));
    })
    .await;
}
