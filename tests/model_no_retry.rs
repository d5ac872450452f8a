//! One model call is one HTTP request, whatever the endpoint does: a
//! counting endpoint on 127.0.0.1 (a fault injector, the only fake here)
//! answers 500, 429, or drops the connection, and each costs exactly one
//! request and ends in a typed `Error::Model` carrying the status and body.
//! async-openai's default client would retry each of these with backoff.
//! The same endpoint shows what headers are sent: no `Authorization`
//! without a key, and never `OPENAI_ORG_ID`/`OPENAI_PROJECT_ID` from the
//! environment.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use switchboard::model::{ChatMessage, ChatRequest, ModelClient, ModelEndpoint, ModelError};
use switchboard::Error;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// What the endpoint does with each request.
#[derive(Clone, Copy)]
enum Fault {
    Status(u16, &'static str),
    Drop,
}

/// A counting endpoint: every request it read, headers included.
struct Counting {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Counting {
    async fn start(fault: Fault) -> Counting {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/v1", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let Some(head) = read_request(&mut socket).await else {
                        return;
                    };
                    log.lock().unwrap().push(head);
                    if let Fault::Status(status, body) = fault {
                        let reply = format!(
                            "HTTP/1.1 {status} X\r\ncontent-type: text/plain\r\nretry-after: 0\r\n\
                             content-length: {}\r\nconnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = socket.write_all(reply.as_bytes()).await;
                    }
                    // Fault::Drop: the socket closes with no answer.
                });
            }
        });
        Counting { url, seen }
    }

    fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

/// Reads one request (head and `content-length` body); returns the head.
async fn read_request(socket: &mut tokio::net::TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let head = text[..end].to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return Some(head);
            }
        }
    }
}

fn request() -> ChatRequest {
    ChatRequest::new("m").message(ChatMessage::user("hi"))
}

async fn call(url: &str, stream: bool) -> (ModelError, Duration) {
    let client = ModelClient::new(
        ModelEndpoint::new(url, "m")
            .api_key("sk-count")
            .timeout(Duration::from_secs(10)),
    )
    .unwrap();
    let started = Instant::now();
    let result = if stream {
        client.chat_stream(&request(), |_| {}).await
    } else {
        client.chat(&request()).await
    };
    (
        result.expect_err("the endpoint only fails"),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_500_a_429_and_a_dropped_connection_each_cost_one_request() {
    let cases = [
        (Fault::Status(500, "upstream exploded"), Some(500)),
        (Fault::Status(429, "slow down: rate limited"), Some(429)),
        (Fault::Drop, None),
    ];
    for stream in [false, true] {
        for (fault, status) in cases {
            let server = Counting::start(fault).await;
            let (err, took) = call(&server.url, stream).await;
            // Give a retry (were there one) time to arrive.
            tokio::time::sleep(Duration::from_millis(600)).await;
            let n = server.count();
            eprintln!(
                "stream={stream} fault={:?}: {n} request(s), {took:?}, {err}",
                status
            );
            assert_eq!(n, 1, "exactly one request (stream={stream}): {err}");
            assert!(took < Duration::from_secs(2), "failed at once: {took:?}");
            let err = Error::from(err);
            match (status, &err) {
                (Some(want), Error::Model(ModelError::Http { status, body })) => {
                    assert_eq!(*status, want);
                    let Fault::Status(_, text) = fault else {
                        unreachable!()
                    };
                    assert_eq!(body, text, "the body is kept");
                }
                (None, Error::Model(ModelError::Connect { .. } | ModelError::Malformed { .. })) => {
                }
                other => panic!("unexpected error {other:?}"),
            }
        }
    }
}

#[tokio::test]
async fn no_key_sends_no_authorization_and_the_environment_adds_no_headers() {
    // Set before any client exists; the crate's own config would read them.
    std::env::set_var("OPENAI_ORG_ID", "org-leak");
    std::env::set_var("OPENAI_PROJECT_ID", "proj-leak");
    let server = Counting::start(Fault::Status(400, "{\"error\":\"no\"}")).await;
    let client = ModelClient::new(ModelEndpoint::new(&server.url, "m")).unwrap();
    let err = client.chat(&request()).await.unwrap_err();
    assert!(
        matches!(err, ModelError::Http { status: 400, .. }),
        "{err:?}"
    );
    let keyed = ModelClient::new(ModelEndpoint::new(&server.url, "m").api_key("sk-x")).unwrap();
    let _ = keyed.chat(&request()).await;
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2);
    assert!(
        seen[0].starts_with("post /v1/chat/completions "),
        "{}",
        seen[0]
    );
    assert!(!seen[0].contains("authorization"), "{}", seen[0]);
    assert!(
        seen[1].contains("authorization: bearer sk-x"),
        "{}",
        seen[1]
    );
    for head in &seen {
        assert!(!head.contains("openai-organization"), "{head}");
        assert!(!head.contains("openai-project"), "{head}");
        assert!(!head.contains("leak"), "{head}");
    }
}

#[tokio::test]
async fn a_refused_connection_fails_at_once() {
    // A port nobody listens on: nothing can count the attempts, but a retry
    // with backoff would show in the time taken.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    for stream in [false, true] {
        let (err, took) = call(&format!("http://127.0.0.1:{port}/v1"), stream).await;
        eprintln!("stream={stream} refused: {took:?}, {err}");
        assert!(matches!(err, ModelError::Connect { .. }), "{err:?}");
        assert!(took < Duration::from_millis(500), "no retry: {took:?}");
    }
}
