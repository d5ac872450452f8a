//! Who may call `switchboard gateway` over HTTP: static bearer tokens
//! (from the environment or a file) and JWT access tokens of an issuer
//! (`tests/peers/jwt_issuer.py`, signing with PyJWT), checked against the
//! keys its metadata publishes; the protected resource metadata that
//! tells an OAuth client where to get a token; and everything refused
//! with 401 and a `WWW-Authenticate` challenge.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::gateway::GatewayProcess;
use serde_json::{json, Value};
use switchboard::transport::HttpConfig;
use switchboard::{Client, Source};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn servers() -> Value {
    json!({"demo": {"command": BIN, "args": ["serve-test"]}})
}

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

/// A `tools/list` POST with `authorization` (if any): the status, the
/// `WWW-Authenticate` header and the body.
async fn list(url: &str, authorization: Option<&str>) -> (u16, String, String) {
    let mut req = http()
        .post(url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2026-07-28")
        .header("mcp-method", "tools/list");
    if let Some(a) = authorization {
        req = req.header("authorization", a);
    }
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}}}});
    let res = req.body(body.to_string()).send().await.expect("POST");
    let status = res.status().as_u16();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, challenge, res.text().await.unwrap_or_default())
}

/// Switchboard's own client with a bearer token: its tool names.
async fn tools_with(url: &str, token: &str) -> switchboard::Result<Vec<String>> {
    let source =
        Source::Http(HttpConfig::new(url).header("Authorization", format!("Bearer {token}")));
    let client = Client::builder(source)
        .timeout(Duration::from_secs(10))
        .connect_timeout(Duration::from_secs(10))
        .connect()
        .await?;
    let names = client
        .list_tools()
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect();
    client.close().await?;
    Ok(names)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_tokens_from_the_environment_or_a_file_let_clients_in_and_no_one_else() {
    common::within(Duration::from_secs(60), async {
        let gw = GatewayProcess::start(
            servers(),
            &[],
            &[("SWITCHBOARD_GATEWAY_TOKENS", "tok-a, tok-b")],
        );
        let (status, challenge, body) = list(&gw.url, None).await;
        assert_eq!(status, 401, "{body}");
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        let (status, challenge, _) = list(&gw.url, Some("Bearer tok-c")).await;
        assert_eq!(status, 401);
        assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
        let (status, _, _) = list(&gw.url, Some("Basic dG9rLWE=")).await;
        assert_eq!(status, 401, "only bearer tokens count");
        let (status, _, body) = list(&gw.url, Some("bearer tok-a")).await;
        assert_eq!(status, 200, "{body}");
        let tools = tools_with(&gw.url, "tok-b")
            .await
            .expect("tok-b lets the client in");
        assert!(tools.iter().any(|t| t == "demo_echo"), "{tools:?}");
        // Health stays open for probes.
        let base = gw.url.trim_end_matches("/mcp");
        let health = http().get(format!("{base}/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200);

        // A token file: one per line, comments allowed; one that others
        // may read is refused before anything starts.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("tokens");
        std::fs::write(&file, "# the ops team\nfile-token  # rotated monthly\n").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let out = Command::new(BIN)
            .arg("gateway")
            .arg(dir.path().join("missing.json"))
            .arg("--token-file")
            .arg(&file)
            .args(["--listen", "127.0.0.1:0"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(stderr.contains("other users may read it"), "{stderr}");
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let file_gw =
            GatewayProcess::start(servers(), &["--token-file", file.to_str().unwrap()], &[]);
        assert!(tools_with(&file_gw.url, "file-token").await.is_ok());
        assert!(tools_with(&file_gw.url, "# the ops team").await.is_err());
        assert!(tools_with(&file_gw.url, "tok-a").await.is_err());
    })
    .await
}

/// The issuer peer; killed when dropped.
struct Issuer {
    child: Child,
    url: String,
}

impl Drop for Issuer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn issuer() -> Issuer {
    let mut child = Command::new(common::python())
        .arg(common::peer_script("jwt_issuer.py"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the issuer (bash .ci/install-peers.sh installs its Python)");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let mut issuer = Issuer {
        child,
        url: String::new(),
    };
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the issuer did not listen within 20 s");
    issuer.url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    issuer
}

async fn mint(issuer: &Issuer, query: &str) -> String {
    http()
        .get(format!("{}/mint?{query}", issuer.url))
        .send()
        .await
        .expect("mint a token")
        .text()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwt_access_tokens_of_the_issuer_for_this_gateway_let_clients_in() {
    common::within(Duration::from_secs(60), async {
        let issuer = issuer();
        let gw = GatewayProcess::start(servers(), &["--jwt-issuer", &issuer.url], &[]);
        let base = gw.url.trim_end_matches("/mcp").to_owned();

        // The metadata names the resource and its issuer; the challenge
        // points to it.
        let prm: Value = http()
            .get(format!("{base}/.well-known/oauth-protected-resource/mcp"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(prm["resource"], gw.url.as_str(), "{prm}");
        assert_eq!(prm["authorization_servers"], json!([issuer.url]), "{prm}");
        let (status, challenge, _) = list(&gw.url, None).await;
        assert_eq!(status, 401);
        assert!(
            challenge.contains(&format!(
                "resource_metadata=\"{base}/.well-known/oauth-protected-resource/mcp\""
            )),
            "{challenge}"
        );

        let aud = urlencode(&gw.url);
        for alg in ["RS256", "ES256"] {
            let token = mint(&issuer, &format!("alg={alg}&aud={aud}")).await;
            let tools = tools_with(&gw.url, &token)
                .await
                .unwrap_or_else(|e| panic!("{alg}: {e}"));
            assert!(tools.iter().any(|t| t == "demo_echo"), "{alg}: {tools:?}");
        }
        for (query, why) in [
            (format!("alg=RS256&aud={aud}&exp=-600"), "expired"),
            (
                "alg=RS256&aud=https%3A%2F%2Fother.example%2Fmcp".to_owned(),
                "audience",
            ),
            (
                format!("alg=RS256&aud={aud}&iss=http%3A%2F%2F127.0.0.1%3A1"),
                "issued by",
            ),
            (format!("alg=RS256&aud={aud}&rogue=1"), "signature"),
            (format!("alg=RS256&aud={aud}&kid=nobody"), "no key"),
            (format!("alg=none&aud={aud}"), "algorithm none"),
        ] {
            let token = mint(&issuer, &query).await;
            let (status, challenge, body) = list(&gw.url, Some(&format!("Bearer {token}"))).await;
            assert_eq!(status, 401, "{query}: {body}");
            assert!(challenge.contains("invalid_token"), "{query}: {challenge}");
            assert!(body.contains(why), "{query}: {body}");
            assert!(!body.contains(&token), "the token is never echoed");
        }
    })
    .await
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
