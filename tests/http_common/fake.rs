//! A tiny HTTP/1.1 server on 127.0.0.1 for fault tests: each request goes
//! to a handler that picks the reply, including misbehaviour (a stream
//! dropped mid-response, a stall, garbage). One request per connection;
//! event streams use chunked encoding so a dropped stream looks broken to
//! the client, not finished.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// One request as the handler sees it.
#[derive(Debug, Clone)]
pub struct Req {
    pub method: String,
    pub path: String,
    /// Lowercased names.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_default()
    }
}

/// How a stream ends.
pub enum End {
    /// Cleanly (the terminating chunk).
    Finish,
    /// The connection is cut without the terminating chunk.
    Drop,
    /// Never: the server goes silent.
    Stall,
    /// Silent until the client closes the connection, which sets the flag.
    UntilClientCloses(Arc<AtomicBool>),
}

/// What to answer.
pub enum Reply {
    Json {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    Sse {
        headers: Vec<(String, String)>,
        chunks: Vec<String>,
        end: End,
    },
    /// An event stream fed from a channel until it closes.
    SseChannel(mpsc::UnboundedReceiver<String>),
    /// No answer at all.
    Stall,
}

impl Reply {
    pub fn json(status: u16, body: impl Into<String>) -> Reply {
        Reply::Json {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into(),
        }
    }
    pub fn status(status: u16, content_type: &str, body: impl Into<String>) -> Reply {
        Reply::Json {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
        }
    }
}

pub type Handler = Arc<dyn Fn(Req) -> Reply + Send + Sync>;

/// Starts the server; returns its port. It runs until the runtime ends.
pub async fn serve(handler: Handler) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let h = handler.clone();
            tokio::spawn(async move {
                let _ = connection(sock, h).await;
            });
        }
    });
    port
}

async fn read_request(sock: &mut TcpStream) -> std::io::Result<Option<Req>> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 4096];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let n = sock.read(&mut tmp).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&tmp[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or_default();
    let mut parts = first.split(' ');
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end + 4..].to_vec();
    while body.len() < len {
        let n = sock.read(&mut tmp).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&tmp[..n]);
    }
    Ok(Some(Req {
        method,
        path,
        headers,
        body,
    }))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        _ => "Status",
    }
}

async fn chunk(sock: &mut TcpStream, data: &str) -> std::io::Result<()> {
    sock.write_all(format!("{:x}\r\n{data}\r\n", data.len()).as_bytes())
        .await?;
    sock.flush().await
}

async fn sse_head(sock: &mut TcpStream, headers: &[(String, String)]) -> std::io::Result<()> {
    let mut head = String::from(
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n",
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    sock.write_all(head.as_bytes()).await?;
    sock.flush().await
}

async fn connection(mut sock: TcpStream, handler: Handler) -> std::io::Result<()> {
    let Some(req) = read_request(&mut sock).await? else {
        return Ok(());
    };
    match handler(req) {
        Reply::Json {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} {}\r\ncontent-length: {}\r\nconnection: close\r\n",
                reason(status),
                body.len()
            );
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            sock.write_all(head.as_bytes()).await?;
            sock.write_all(body.as_bytes()).await?;
            sock.flush().await?;
        }
        Reply::Sse {
            headers,
            chunks,
            end,
        } => {
            sse_head(&mut sock, &headers).await?;
            for c in chunks {
                chunk(&mut sock, &c).await?;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            match end {
                End::Finish => {
                    sock.write_all(b"0\r\n\r\n").await?;
                    sock.flush().await?;
                }
                End::Drop => {}
                End::Stall => tokio::time::sleep(Duration::from_secs(3600)).await,
                End::UntilClientCloses(flag) => {
                    // The request was read whole: the next read ends only
                    // when the client hangs up.
                    let mut byte = [0u8; 1];
                    let _ = sock.read(&mut byte).await;
                    flag.store(true, Ordering::SeqCst);
                }
            }
        }
        Reply::SseChannel(mut rx) => {
            sse_head(&mut sock, &[]).await?;
            while let Some(c) = rx.recv().await {
                chunk(&mut sock, &c).await?;
            }
            sock.write_all(b"0\r\n\r\n").await?;
        }
        Reply::Stall => tokio::time::sleep(Duration::from_secs(3600)).await,
    }
    Ok(())
}
