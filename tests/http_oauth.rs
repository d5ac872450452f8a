//! OAuth against an MCP server and authorization server written here
//! (127.0.0.1 only), for what the conformance suite does not exercise:
//! refresh tokens (kept when the server does not rotate them, with the
//! client secret from registration), refreshing a token about to expire
//! before a request, a file store that lets a second client start
//! without authorizing again; the handshake-era GET stream refused until
//! the client authorizes (and again when its token is revoked), and the
//! `Last-Event-ID` resumption refused for a revoked token; a legacy
//! HTTP+SSE server behind the same authorization server (through the API
//! and a config file), and refusals no renewal fixes; a DPoP server that
//! rotates its nonce on every successful response.

mod common;
mod http_common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_common::fake::{self, Reply, Req};
use serde_json::{json, Value};
use switchboard::auth::{FileTokenStore, HeadlessHandler, MemoryTokenStore, OAuthConfig};
use switchboard::config::FleetConfig;
use switchboard::{Client, Source};
use tokio::sync::mpsc;

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
    /// POST /mcp needs no token (only the GET stream does).
    open_post: bool,
    /// Every token is refused with this status (401 or 403), if set.
    refuse_all: Option<u16>,
    /// The GET stream is refused whatever the token (POSTs as usual).
    refuse_get: bool,
    /// GET requests to /mcp or /sse, and how many were refused.
    gets: usize,
    get_refusals: usize,
    /// POSTs refused for their token.
    post_refusals: usize,
    /// The open server-to-client event stream (GET /mcp or /sse).
    stream: Option<mpsc::UnboundedSender<String>>,
    streams_opened: usize,
    /// DPoP: the authorization server binds tokens to the client's key,
    /// and the MCP server wants proofs with its current nonce, which it
    /// rotates on every successful response.
    dpop: bool,
    nonce: usize,
    /// `use_dpop_nonce` refusals.
    nonce_refusals: usize,
    /// A `tools/call` is answered with an event stream that breaks before
    /// the reply, and the token is revoked: the reply waits for a GET
    /// with `Last-Event-ID` (kept here: the call's id).
    break_calls: bool,
    pending_call: Option<Value>,
    resumes: usize,
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
    let token_type = if s.dpop { "DPoP" } else { "Bearer" };
    let mut body =
        json!({"access_token": token, "token_type": token_type, "expires_in": expires_in});
    if !refresh {
        body["refresh_token"] = json!("rt-1");
    }
    Reply::json(200, body.to_string())
}

/// The claims of a JWT (no signature check: the tests look at what the
/// client put in its DPoP proofs).
fn jwt_claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap_or_default();
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in payload.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return Value::Null,
        };
        bits = (bits << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    serde_json::from_slice(&out).unwrap_or_default()
}

/// A 401 (or the status of `refuse_all`) naming the resource at `path`.
fn unauthorized(s: &Seen, path: &str) -> Reply {
    let status = s.refuse_all.unwrap_or(401);
    let error = if status == 403 {
        "forbidden"
    } else {
        "invalid_token"
    };
    Reply::Json {
        status,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            (
                "www-authenticate".into(),
                format!(
                    r#"Bearer error="{error}", resource_metadata="{}/.well-known/oauth-protected-resource{path}""#,
                    s.base
                ),
            ),
        ],
        body: format!(r#"{{"error":"{error}"}}"#),
    }
}

/// The request's token if the server takes it, else the refusal. With
/// DPoP, the proof must carry the current nonce (else `use_dpop_nonce`).
fn check_token(s: &mut Seen, req: &Req, path: &str) -> Result<String, Reply> {
    let scheme = if s.dpop { "DPoP " } else { "Bearer " };
    let token = req
        .header("authorization")
        .and_then(|a| a.strip_prefix(scheme))
        .map(str::to_owned);
    match token {
        Some(t) if s.refuse_all.is_none() && Some(&t) == s.valid.as_ref() => {
            if s.dpop {
                let proof = jwt_claims(req.header("dpop").unwrap_or_default());
                let nonce = format!("n-{}", s.nonce);
                if proof["htm"] != req.method.as_str() || proof["nonce"] != nonce.as_str() {
                    s.nonce_refusals += 1;
                    return Err(Reply::Json {
                        status: 401,
                        headers: vec![
                            ("content-type".into(), "application/json".into()),
                            (
                                "www-authenticate".into(),
                                r#"DPoP error="use_dpop_nonce", algs="ES256""#.into(),
                            ),
                            ("dpop-nonce".into(), nonce),
                        ],
                        body: r#"{"error":"use_dpop_nonce"}"#.into(),
                    });
                }
            }
            Ok(t)
        }
        _ => Err(unauthorized(s, path)),
    }
}

/// The reply to one JSON-RPC message (`None` for a notification).
fn mcp_reply(body: &Value, token: &str, version: &str) -> Option<Value> {
    let id = body.get("id").cloned()?;
    let result = match body["method"].as_str().unwrap_or_default() {
        "initialize" => json!({"protocolVersion": version, "capabilities": {"tools": {}},
                               "serverInfo": {"name": "oauth-fake", "version": "1.0.0"}}),
        "tools/list" => {
            json!({"tools": [{"name": "whoami", "inputSchema": {"type": "object"}}]})
        }
        "tools/call" => json!({"content": [{"type": "text", "text": token}]}),
        _ => json!({}),
    };
    Some(json!({"jsonrpc": "2.0", "id": id, "result": result}))
}

/// Adds the next `DPoP-Nonce` to a successful reply (the nonce rotates).
fn rotate_nonce(s: &mut Seen, reply: Reply) -> Reply {
    if !s.dpop {
        return reply;
    }
    s.nonce += 1;
    match reply {
        Reply::Json {
            status,
            mut headers,
            body,
        } => {
            headers.push(("dpop-nonce".into(), format!("n-{}", s.nonce)));
            Reply::Json {
                status,
                headers,
                body,
            }
        }
        other => other,
    }
}

fn mcp(s: &mut Seen, req: &Req) -> Reply {
    let token = if s.open_post {
        String::new()
    } else {
        match check_token(s, req, "/mcp") {
            Ok(t) => t,
            Err(refusal) => {
                s.post_refusals += 1;
                return refusal;
            }
        }
    };
    let body = req.json();
    if body["method"] == "server/discover" {
        return Reply::json(
            400,
            r#"{"jsonrpc":"2.0","error":{"code":-32000,"message":"Bad Request: No valid session ID provided"},"id":null}"#,
        );
    }
    if s.break_calls && body["method"] == "tools/call" {
        s.pending_call = body.get("id").cloned();
        s.valid = Some("revoked".into());
        let note = json!({"jsonrpc": "2.0", "method": "notifications/message",
                          "params": {"level": "info", "data": "working"}});
        return Reply::Sse {
            headers: vec![],
            chunks: vec![format!("id: e1\nretry: 100\ndata: {note}\n\n")],
            end: fake::End::Drop,
        };
    }
    let reply = match mcp_reply(&body, &token, "2025-11-25") {
        Some(r) => Reply::json(200, r.to_string()),
        None => Reply::status(202, "text/plain", ""),
    };
    rotate_nonce(s, reply)
}

/// Opens the server-to-client event stream (after `first`, if any).
fn open_stream(s: &mut Seen, first: Option<String>) -> Reply {
    let (tx, rx) = mpsc::unbounded_channel();
    if let Some(f) = first {
        let _ = tx.send(f);
    }
    s.stream = Some(tx);
    s.streams_opened += 1;
    Reply::SseChannel(rx)
}

/// The handshake-era GET stream: a token is needed (none with DPoP,
/// where the test wants POSTs alone).
fn mcp_get(s: &mut Seen, req: &Req) -> Reply {
    if s.dpop {
        return Reply::status(405, "text/plain", "");
    }
    s.gets += 1;
    if s.refuse_get {
        s.get_refusals += 1;
        return unauthorized(s, "/mcp");
    }
    let token = match check_token(s, req, "/mcp") {
        Ok(t) => t,
        Err(refusal) => {
            s.get_refusals += 1;
            return refusal;
        }
    };
    if req.header("last-event-id") == Some("e1") {
        s.resumes += 1;
        let id = s.pending_call.take().unwrap_or(Value::Null);
        let reply = json!({"jsonrpc": "2.0", "id": id,
                           "result": {"content": [{"type": "text", "text": token}]}});
        return Reply::Sse {
            headers: vec![],
            chunks: vec![format!("id: e2\ndata: {reply}\n\n")],
            end: fake::End::Finish,
        };
    }
    // Reconnect quickly after the stream ends.
    open_stream(s, Some("retry: 200\n\n".into()))
}

/// Legacy HTTP+SSE: GET /sse opens the stream, whose first event names
/// the endpoint; replies to POST /messages come on the stream.
fn sse_get(s: &mut Seen, req: &Req) -> Reply {
    s.gets += 1;
    if let Err(refusal) = check_token(s, req, "/sse") {
        s.get_refusals += 1;
        return refusal;
    }
    open_stream(
        s,
        Some("event: endpoint\ndata: /messages?session=s1\n\n".into()),
    )
}

fn sse_post(s: &mut Seen, req: &Req) -> Reply {
    let token = match check_token(s, req, "/sse") {
        Ok(t) => t,
        Err(refusal) => {
            s.post_refusals += 1;
            return refusal;
        }
    };
    if let (Some(reply), Some(tx)) = (mcp_reply(&req.json(), &token, "2024-11-05"), &s.stream) {
        let _ = tx.send(format!("event: message\ndata: {reply}\n\n"));
    }
    Reply::status(202, "text/plain", "Accepted")
}

fn handle(seen: &Shared, req: Req) -> Reply {
    let mut s = seen.lock().unwrap();
    let base = s.base.clone();
    let path = req.path.split('?').next().unwrap_or("").to_owned();
    match (req.method.as_str(), path.as_str()) {
        (
            "GET",
            "/.well-known/oauth-protected-resource/mcp"
            | "/.well-known/oauth-protected-resource/sse",
        ) => {
            let resource = path.trim_start_matches("/.well-known/oauth-protected-resource");
            Reply::json(
                200,
                json!({"resource": format!("{base}{resource}"), "authorization_servers": [base]})
                    .to_string(),
            )
        }
        ("GET", "/.well-known/oauth-authorization-server") => {
            let mut meta = json!({
                "issuer": base,
                "authorization_endpoint": format!("{base}/authorize"),
                "token_endpoint": format!("{base}/token"),
                "registration_endpoint": format!("{base}/register"),
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
                "authorization_response_iss_parameter_supported": true,
            });
            if s.dpop {
                meta["dpop_signing_alg_values_supported"] = json!(["ES256"]);
            }
            Reply::json(200, meta.to_string())
        }
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
                "client_credentials"
                    if form.get("client_secret").map(String::as_str) == Some("csecret") =>
                {
                    issue(&mut s, true)
                }
                "refresh_token"
                    if form.get("refresh_token").map(String::as_str) == Some("rt-1") =>
                {
                    issue(&mut s, true)
                }
                _ => Reply::json(400, r#"{"error":"invalid_grant"}"#),
            }
        }
        ("POST", "/mcp") => mcp(&mut s, &req),
        ("GET", "/mcp") => mcp_get(&mut s, &req),
        ("GET", "/sse") => sse_get(&mut s, &req),
        ("POST", "/messages") => sse_post(&mut s, &req),
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

/// An OAuth provider that authorizes headlessly (each test its own store).
fn oauth() -> Arc<switchboard::auth::OAuth> {
    Arc::new(
        OAuthConfig::new()
            .handler(Arc::new(HeadlessHandler::new().unwrap()))
            .redirect_uri("http://127.0.0.1:9/callback")
            .store(Arc::new(MemoryTokenStore::new()))
            .timeout(Duration::from_secs(5))
            .dpop(true)
            .build()
            .unwrap(),
    )
}

type Notes = Arc<Mutex<Vec<String>>>;

/// Connects to `url` with [`oauth`], recording the notifications.
async fn connect_noting(source: Source) -> switchboard::Result<(Client, Notes)> {
    let notes: Notes = Arc::default();
    let n = notes.clone();
    let client = Client::builder(source)
        .timeout(Duration::from_secs(5))
        .connect_timeout(Duration::from_secs(10))
        .on_notification(move |m| n.lock().unwrap().push(m.method.clone()))
        .connect()
        .await?;
    Ok((client, notes))
}

/// Waits (bounded) until `done` holds.
async fn until(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{what}: not within 5 s");
}

/// Sends a `tools/list_changed` on the open stream and waits for it.
async fn notify_and_expect(seen: &Shared, notes: &Notes) {
    let before = notes.lock().unwrap().len();
    let tx = seen.lock().unwrap().stream.clone().expect("an open stream");
    let note = json!({"jsonrpc": "2.0", "method": "notifications/tools/list_changed"});
    tx.send(format!("data: {note}\n\n")).unwrap();
    until("the notification on the GET stream", || {
        notes.lock().unwrap().len() > before
    })
    .await;
    assert_eq!(
        notes.lock().unwrap().last().map(String::as_str),
        Some("notifications/tools/list_changed")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_get_stream_authorizes_on_401_and_again_when_its_token_is_revoked() {
    common::bounded(async {
        let (seen, url) = start().await;
        // Only the GET stream is protected: the 401 that makes the client
        // authorize comes on it, not on a POST.
        seen.lock().unwrap().open_post = true;
        let (client, notes) = connect_noting(Source::http_with_auth(&url, oauth()))
            .await
            .expect("connect");
        until("the GET stream opened with a token", || {
            seen.lock().unwrap().streams_opened == 1
        })
        .await;
        {
            let s = seen.lock().unwrap();
            assert_eq!((s.gets, s.get_refusals), (2, 1));
            assert_eq!(s.authorizes, 1);
        }
        notify_and_expect(&seen, &notes).await;

        // The token is revoked and the stream ends: the reconnecting GET
        // is refused, the client refreshes, the stream opens again.
        {
            let mut s = seen.lock().unwrap();
            s.valid = Some("revoked".into());
            s.stream = None;
        }
        until("the GET stream reopened", || {
            seen.lock().unwrap().streams_opened == 2
        })
        .await;
        {
            let s = seen.lock().unwrap();
            assert_eq!((s.gets, s.get_refusals), (4, 2));
            assert_eq!(s.authorizes, 1, "a refresh, not a new authorization");
            assert_eq!(s.grants.last().unwrap().0, "refresh_token");
        }
        notify_and_expect(&seen, &notes).await;
        assert_eq!(client.list_tools().await.unwrap().len(), 1);
        client.close().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_get_refused_for_a_revoked_token_refreshes_and_gets_the_reply() {
    common::bounded(async {
        let (seen, url) = start().await;
        let (client, _notes) = connect_noting(Source::http_with_auth(&url, oauth()))
            .await
            .expect("connect");
        until("the GET stream opened", || {
            seen.lock().unwrap().streams_opened == 1
        })
        .await;
        seen.lock().unwrap().break_calls = true;
        // The call's stream breaks after event e1 and the token is
        // revoked: the GET with Last-Event-ID is refused, the client
        // refreshes, resumes with the new token and gets the reply.
        assert_eq!(whoami(&client).await, "at-2");
        {
            let s = seen.lock().unwrap();
            assert_eq!(s.resumes, 1);
            assert_eq!(s.get_refusals, 1);
            assert_eq!(s.authorizes, 1);
            assert_eq!(s.grants.last().unwrap().0, "refresh_token");
        }
        client.close().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_get_stream_refused_whatever_the_token_ends_without_spinning() {
    common::bounded(async {
        let (seen, url) = start().await;
        {
            let mut s = seen.lock().unwrap();
            s.open_post = true;
            s.refuse_all = Some(401);
        }
        let (client, _notes) = connect_noting(Source::http_with_auth(&url, oauth()))
            .await
            .expect("connect: POSTs need no token");
        // A token, then two refreshes: the fourth refusal ends the stream.
        until("the GET stream given up", || seen.lock().unwrap().gets == 4).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        {
            let s = seen.lock().unwrap();
            assert_eq!((s.gets, s.get_refusals, s.streams_opened), (4, 4, 0));
            assert_eq!(s.grants.len(), 3, "{:?}", s.grants);
        }
        // The session itself goes on.
        assert_eq!(client.list_tools().await.unwrap().len(), 1);
        client.close().await.unwrap();
    })
    .await;
}

/// A GET stream that ended on a refusal no renewal fixed opens again once
/// a request succeeds with other credentials, and not before.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_get_stream_reopens_when_credentials_change() {
    common::bounded(async {
        let (seen, url) = start().await;
        seen.lock().unwrap().refuse_get = true;
        let (client, notes) = connect_noting(Source::http_with_auth(&url, oauth()))
            .await
            .expect("connect");
        // A token, then renewals: the fourth refusal ends the stream.
        until("the GET stream given up", || seen.lock().unwrap().gets == 4).await;
        // Requests with the credentials the stream was refused with do
        // not open it again.
        assert_eq!(client.list_tools().await.unwrap().len(), 1);
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            seen.lock().unwrap().gets,
            4,
            "reopened with refused credentials"
        );

        // The server accepts the stream from now on, and the token is
        // revoked: the next POST is refused, the client refreshes, and the
        // POST that succeeds with the new token opens the stream again.
        {
            let mut s = seen.lock().unwrap();
            s.refuse_get = false;
            s.valid = Some("revoked".into());
        }
        assert_eq!(client.list_tools().await.unwrap().len(), 1);
        until("the GET stream reopened", || {
            seen.lock().unwrap().streams_opened == 1
        })
        .await;
        notify_and_expect(&seen, &notes).await;
        {
            let s = seen.lock().unwrap();
            assert_eq!((s.gets, s.get_refusals), (5, 4));
        }
        client.close().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_sse_behind_oauth_lists_and_calls_tools() {
    common::bounded(async {
        let (seen, url) = start().await;
        let sse = url.replace("/mcp", "/sse");
        let (client, _notes) = connect_noting(Source::http_with_auth(&sse, oauth()))
            .await
            .expect("connect over legacy SSE with OAuth");
        assert_eq!(
            client.protocol_version(),
            Some(switchboard::ProtocolVersion::V2024_11_05)
        );
        {
            let s = seen.lock().unwrap();
            assert_eq!((s.gets, s.get_refusals), (2, 1), "the GET authorized");
            assert_eq!(s.authorizes, 1);
        }
        let tools = client.list_tools().await.unwrap();
        assert_eq!(tools[0].name, "whoami");
        assert_eq!(whoami(&client).await, "at-1", "POSTs carry the token");
        // Revoked mid-session: the refused POST refreshes and goes again.
        seen.lock().unwrap().valid = Some("revoked".into());
        assert_eq!(whoami(&client).await, "at-2");
        {
            let s = seen.lock().unwrap();
            assert_eq!(s.post_refusals, 1);
            assert_eq!(s.grants.last().unwrap().0, "refresh_token");
        }
        client.close().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_sse_with_oauth_from_a_config_file() {
    common::bounded(async {
        let (seen, url) = start().await;
        let sse = url.replace("/mcp", "/sse");
        let config = json!({"mcpServers": {"legacy": {
            "url": sse,
            "transport": "sse",
            "timeout": 5,
            "auth": {"type": "oauth", "grant": "client_credentials",
                     "client_id": "cid", "client_secret": "csecret", "timeout": 5},
        }}});
        let fleet = FleetConfig::from_json_str(&config.to_string()).unwrap();
        let client = fleet
            .server("legacy")
            .unwrap()
            .client_builder()
            .unwrap()
            .connect()
            .await
            .expect("connect from the config file");
        assert_eq!(whoami(&client).await, "at-1");
        {
            let s = seen.lock().unwrap();
            assert_eq!(s.grants[0].0, "client_credentials");
            assert_eq!(s.get_refusals, 1);
        }
        client.close().await.unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn legacy_sse_refusals_no_renewal_fixes_fail_connect_with_an_auth_error() {
    common::bounded(async {
        for status in [401, 403] {
            let (seen, url) = start().await;
            seen.lock().unwrap().refuse_all = Some(status);
            let sse = url.replace("/mcp", "/sse");
            let started = std::time::Instant::now();
            let Err(err) = connect_noting(Source::http_with_auth(&sse, oauth())).await else {
                panic!("{status}: connected although every token is refused");
            };
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "{:?}",
                started.elapsed()
            );
            assert_eq!(
                err.as_auth().map(|a| a.kind),
                Some(switchboard::AuthErrorKind::Refused),
                "{status}: {err:?}"
            );
            assert!(err.to_string().contains(&status.to_string()), "{err}");
            let s = seen.lock().unwrap();
            if status == 401 {
                // A token, two refreshes, then the provider is not asked
                // again.
                assert_eq!((s.gets, s.grants.len()), (4, 3), "{:?}", s.grants);
            } else {
                // A 403 that asks for no scope is not the provider's to fix.
                assert_eq!((s.gets, s.grants.len()), (1, 0));
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dpop_nonce_rotated_on_success_costs_no_extra_round_trip() {
    common::bounded(async {
        let (seen, url) = start().await;
        seen.lock().unwrap().dpop = true;
        let (client, _notes) = connect_noting(Source::http_with_auth(&url, oauth()))
            .await
            .expect("connect with DPoP");
        for _ in 0..3 {
            assert_eq!(whoami(&client).await, "at-1");
        }
        assert_eq!(client.list_tools().await.unwrap().len(), 1);
        {
            let s = seen.lock().unwrap();
            // One use_dpop_nonce: the first proof had no nonce to carry;
            // every later one carried the nonce the previous response
            // handed out.
            assert_eq!(s.nonce_refusals, 1);
            assert!(s.nonce >= 6, "{} successful requests", s.nonce);
            assert_eq!(s.post_refusals, 2, "the missing token, then the nonce");
        }
        client.close().await.unwrap();
    })
    .await;
}
