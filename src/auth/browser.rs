//! The interactive handler: opens the system browser on the authorization
//! URL and waits for the redirect on a loopback listener
//! (`http://127.0.0.1:PORT/callback`, RFC 8252 §7.3).
//!
//! The browser is started directly (`open` on macOS, `xdg-open`
//! elsewhere on Unix, `rundll32 url.dll,FileProtocolHandler` on Windows),
//! never through a shell, with the URL as one argument.

use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::future::BoxFuture;
use reqwest::Url;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::handler::AuthorizationHandler;
use crate::error::AuthErrorKind;
use crate::{Error, Result};

/// The largest request head read from the browser.
const HEAD_LIMIT: usize = 16 * 1024;
const PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Authorized</title></head><body><p>Authorization received. You can close this window and return to the application.</p></body></html>";

/// Opens the browser and listens on loopback for the redirect.
pub struct BrowserHandler {
    listener: Mutex<Option<std::net::TcpListener>>,
    addr: SocketAddr,
    path: String,
    timeout: Duration,
    open: bool,
}

impl BrowserHandler {
    /// Listens on `127.0.0.1` on a free port, path `/callback`; waits up
    /// to 5 minutes for the user.
    pub fn new() -> Result<Self> {
        Self::on_port(0)
    }

    /// Listens on `127.0.0.1:port` (a port registered with the
    /// authorization server; 0 picks a free one).
    pub fn on_port(port: u16) -> Result<Self> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        Ok(BrowserHandler {
            listener: Mutex::new(Some(listener)),
            addr,
            path: "/callback".into(),
            timeout: Duration::from_secs(300),
            open: true,
        })
    }

    /// How long to wait for the user to finish.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Prints the URL to stderr instead of opening a browser (for a
    /// machine without one: open it elsewhere and let the redirect reach
    /// this machine's loopback, e.g. over an SSH tunnel).
    pub fn print_only(mut self) -> Self {
        self.open = false;
        self
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    fn take_listener(&self) -> Result<std::net::TcpListener> {
        self.listener
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .ok_or_else(|| {
                Error::auth(
                    AuthErrorKind::Consent,
                    "another authorization is already waiting",
                )
            })
    }

    fn put_back(&self, l: std::net::TcpListener) {
        *self.listener.lock().unwrap_or_else(|p| p.into_inner()) = Some(l);
    }

    /// Waits for the redirect on the callback path carrying `state` (the
    /// authorization URL's). Other paths get 404; the callback path with
    /// another or no state gets 400 and the wait goes on, so a stray or
    /// forged hit cannot end (or hijack) the authorization.
    async fn wait(
        &self,
        listener: &tokio::net::TcpListener,
        state: Option<&str>,
    ) -> Result<String> {
        loop {
            let (mut stream, _) = listener.accept().await?;
            let mut buf = Vec::new();
            let mut chunk = [0u8; 2048];
            let head_read = async {
                loop {
                    let n = stream.read(&mut chunk).await?;
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.len() > HEAD_LIMIT {
                        break;
                    }
                }
                Ok::<_, std::io::Error>(())
            };
            if tokio::time::timeout(Duration::from_secs(10), head_read)
                .await
                .map_or(true, |r| r.is_err())
            {
                continue;
            }
            let head = String::from_utf8_lossy(&buf);
            let target = head
                .lines()
                .next()
                .and_then(|l| l.strip_prefix("GET "))
                .and_then(|l| l.split(' ').next())
                .unwrap_or("");
            let on_path = target.split('?').next() == Some(self.path.as_str());
            let ours =
                on_path && state.is_none_or(|want| state_of(target).as_deref() == Some(want));
            let (status, body) = if ours {
                ("200 OK", PAGE)
            } else if on_path {
                tracing::warn!("ignored a callback with the wrong state on the OAuth listener");
                ("400 Bad Request", WRONG_STATE)
            } else {
                ("404 Not Found", "not found")
            };
            let reply = format!(
                "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ =
                tokio::time::timeout(Duration::from_secs(5), stream.write_all(reply.as_bytes()))
                    .await;
            let _ = stream.shutdown().await;
            if ours {
                return Ok(format!("http://{}{target}", self.addr));
            }
        }
    }
}

/// What the callback page says to a hit that is not the awaited one.
const WRONG_STATE: &str =
    "This is not the authorization Switchboard is waiting for (its state does not match).";

/// The `state` query parameter of a URL or of a request target (`/path?...`).
fn state_of(target: &str) -> Option<String> {
    let query = target.split_once('?')?.1;
    url::form_urlencoded::parse(query.split('#').next().unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
}

impl std::fmt::Debug for BrowserHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrowserHandler")
            .field("addr", &self.addr)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// Starts the system browser on `url`, without a shell.
fn open_browser(url: &Url) -> Result<()> {
    let mut cmd = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        let mut c = std::process::Command::new("rundll32");
        c.arg("url.dll,FileProtocolHandler");
        c
    } else {
        std::process::Command::new("xdg-open")
    };
    cmd.arg(url.as_str())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    cmd.spawn().map(drop).map_err(|e| {
        Error::auth(
            AuthErrorKind::Consent,
            format!("could not open a browser: {e}"),
        )
    })
}

impl AuthorizationHandler for BrowserHandler {
    fn redirect_uri(&self) -> Option<String> {
        Some(format!("http://{}{}", self.addr, self.path))
    }

    fn authorize<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move {
            let std_listener = self.take_listener()?;
            let listener = match tokio::net::TcpListener::from_std(std_listener) {
                Ok(l) => l,
                Err(e) => return Err(e.into()),
            };
            if self.open {
                if let Err(e) = open_browser(url) {
                    tracing::warn!("{e}; open the authorization URL yourself");
                    eprintln!("Open this URL to authorize:\n{url}");
                }
            } else {
                eprintln!("Open this URL to authorize:\n{url}");
            }
            let state = state_of(url.as_str());
            let got =
                tokio::time::timeout(self.timeout, self.wait(&listener, state.as_deref())).await;
            if let Ok(std) = listener.into_std() {
                self.put_back(std);
            }
            got.map_err(|_| {
                Error::auth(
                    AuthErrorKind::Consent,
                    format!("no authorization redirect within {:?}", self.timeout),
                )
            })?
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn loopback_listener_receives_the_redirect() {
        let h = std::sync::Arc::new(
            BrowserHandler::new()
                .unwrap()
                .print_only()
                .timeout(Duration::from_secs(10)),
        );
        let redirect = h.redirect_uri().unwrap();
        assert!(redirect.starts_with("http://127.0.0.1:"), "{redirect}");
        let waiting = {
            let h = h.clone();
            tokio::spawn(async move {
                let url = Url::parse("https://as.example/authorize?client_id=c&state=xyz").unwrap();
                h.authorize(&url).await
            })
        };
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::new();
        // A stray request first: answered 404, the wait goes on.
        let stray = client
            .get(format!("http://{}/favicon.ico", h.local_addr()))
            .send()
            .await
            .unwrap();
        assert_eq!(stray.status(), 404);
        // A hit on the callback path with another state (or none) is not
        // the one awaited: 400, and the wait goes on.
        for forged in ["?code=evil&state=other", "?code=evil"] {
            let resp = client
                .get(format!("{redirect}{forged}"))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 400, "{forged}");
        }
        let resp = client
            .get(format!("{redirect}?code=abc&state=xyz"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp
            .text()
            .await
            .unwrap()
            .contains("Authorization received"));
        let got = waiting.await.unwrap().unwrap();
        assert_eq!(got, format!("{redirect}?code=abc&state=xyz"));
        // The listener is kept for the next authorization.
        assert!(h.listener.lock().unwrap().is_some());
    }
}
