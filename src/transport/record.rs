//! Recording a session: every frame both ways, with its time, written as
//! JSON lines while the session runs (each line flushed, so a session
//! that ends abruptly still leaves a valid file), secrets redacted
//! (`redact.rs`). [`Source::record`] wraps any source; a replay
//! (`replay.rs`) serves the recording back.
//!
//! The file: a header line `{"switchboard": "recording", "version": 1,
//! "source": "..."}`, then one line per event: `{"t_ms": 1.2, "dir":
//! "send" | "recv", "frame": {...}}` (a frame that is not JSON as
//! `"raw": "..."`), `{"t_ms", "event": "connect"}` when a connection
//! starts and `{"t_ms", "event": "closed", "reason"}` when it ends.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use super::redact::{is_secret_key, Secrets, REDACTED};
use super::{Frame, Inbound, InboundSink, Outbound, Source, Transport, TransportHandle};
use crate::Result;

/// Capacity of the channel between the session and the recorded transport.
const CHANNEL_CAPACITY: usize = 64;

/// A source whose sessions are recorded to a file (see [`Source::record`]).
#[derive(Clone)]
pub struct Recording {
    pub(crate) inner: Box<Source>,
    path: PathBuf,
    secrets: Secrets,
    log: Arc<Mutex<Option<Log>>>,
}

struct Log {
    file: File,
    started: Instant,
}

impl Recording {
    pub(super) fn new(inner: Source, path: PathBuf) -> Self {
        Recording {
            secrets: secrets_of(&inner),
            inner: Box::new(inner),
            path,
            log: Arc::new(Mutex::new(None)),
        }
    }

    /// Where the recording goes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The same recording around another inner source (the client sets
    /// the inner source's deadlines before starting it).
    pub(crate) fn map_inner(mut self, f: impl FnOnce(Source) -> Source) -> Self {
        self.inner = Box::new(f(*self.inner));
        self
    }

    /// Opens the file on the first connection (truncating it); later
    /// connections (a restart) append to it.
    fn open(&self) -> Result<()> {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        if log.is_none() {
            let mut file = File::create(&self.path)?;
            let header = json!({"switchboard": "recording", "version": 1, "source": describe(&self.inner, &self.secrets)});
            writeln!(file, "{header}")?;
            *log = Some(Log {
                file,
                started: Instant::now(),
            });
        }
        Ok(())
    }

    fn write(&self, mut line: Value) {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        let Some(log) = log.as_mut() else { return };
        let ms = log.started.elapsed().as_secs_f64() * 1000.0;
        line["t_ms"] = json!((ms * 1000.0).round() / 1000.0);
        if let Err(e) = writeln!(log.file, "{line}") {
            tracing::warn!(path = %self.path.display(), "cannot write the recording: {e}");
        }
    }

    fn frame(&self, dir: &str, bytes: &[u8]) {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(mut frame) => {
                self.secrets.value(&mut frame);
                self.write(json!({"dir": dir, "frame": frame}));
            }
            Err(_) => {
                let raw = self.secrets.text(&String::from_utf8_lossy(bytes));
                self.write(json!({"dir": dir, "raw": raw}));
            }
        }
    }

    pub(super) fn into_transport(self, max_message_size: usize) -> Result<Box<dyn Transport>> {
        self.open()?;
        let inner = self.inner.clone().into_transport(max_message_size)?;
        Ok(Box::new(RecordingTransport {
            inner,
            recording: self,
        }))
    }
}

/// What the recording's header says the source was: a command line
/// (secret-looking arguments redacted, environment names only) or a URL
/// without its query.
fn describe(source: &Source, secrets: &Secrets) -> String {
    match source {
        Source::Stdio(cfg) => {
            let mut words = vec![cfg.program.clone()];
            let mut hide_next = false;
            for arg in &cfg.args {
                let flag = arg.trim_start_matches('-');
                let word = if hide_next {
                    REDACTED.to_owned()
                } else {
                    match flag.split_once('=') {
                        Some((k, _)) if arg.starts_with('-') && is_secret_key(k) => {
                            format!("{}={REDACTED}", &arg[..arg.len() - flag.len() + k.len()])
                        }
                        _ => secrets.text(arg),
                    }
                };
                hide_next = arg.starts_with('-') && !arg.contains('=') && is_secret_key(flag);
                words.push(word);
            }
            let env: Vec<&str> = cfg.env.iter().map(|(k, _)| k.as_str()).collect();
            if env.is_empty() {
                words.join(" ")
            } else {
                format!("{} (env: {})", words.join(" "), env.join(", "))
            }
        }
        Source::Http(cfg) => cfg.redacted_url(),
        other => format!("{other:?}"),
    }
}

/// The values a source was given that must not reach a recording.
fn secrets_of(source: &Source) -> Secrets {
    let mut secrets = Secrets::default();
    match source {
        Source::Stdio(cfg) => cfg.env.iter().for_each(|(_, v)| secrets.add(v)),
        Source::Http(cfg) => {
            for (_, v) in &cfg.headers {
                secrets.add(v);
                if let Some((_, token)) = v.split_once(' ') {
                    secrets.add(token);
                }
            }
            if let Ok(url) = url::Url::parse(&cfg.url) {
                url.query_pairs().for_each(|(_, v)| secrets.add(&v));
                if let Some(p) = url.password() {
                    secrets.add(p);
                }
            }
        }
        _ => {}
    }
    secrets
}

struct RecordingTransport {
    inner: Box<dyn Transport>,
    recording: Recording,
}

struct RecordingSink {
    inner: Arc<dyn InboundSink>,
    recording: Recording,
}

impl InboundSink for RecordingSink {
    fn deliver(&self, event: Inbound) {
        match &event {
            Inbound::Frame(bytes) => self.recording.frame("recv", bytes),
            Inbound::Closed(closed) => self.recording.write(
                json!({"event": "closed", "reason": self.recording.secrets.text(&closed.reason)}),
            ),
            _ => {}
        }
        self.inner.deliver(event);
    }
}

impl Transport for RecordingTransport {
    fn start(
        self: Box<Self>,
        sink: Arc<dyn InboundSink>,
    ) -> BoxFuture<'static, Result<TransportHandle>> {
        Box::pin(async move {
            let recording = self.recording;
            recording.write(json!({"event": "connect"}));
            let sink = Arc::new(RecordingSink {
                inner: sink,
                recording: recording.clone(),
            });
            let handle = self.inner.start(sink).await?;
            let inner = handle.outbound;
            let outbound = if inner.wants_meta() {
                let (tx, mut rx) = mpsc::channel::<Frame>(CHANNEL_CAPACITY);
                tokio::spawn(async move {
                    while let Some(frame) = rx.recv().await {
                        recording.frame("send", frame.bytes());
                        if inner.send(frame).await.is_err() {
                            break;
                        }
                    }
                });
                Outbound::frames(tx)
            } else {
                let (tx, mut rx) = mpsc::channel::<Bytes>(CHANNEL_CAPACITY);
                tokio::spawn(async move {
                    while let Some(bytes) = rx.recv().await {
                        recording.frame("send", &bytes);
                        if inner.send(bytes).await.is_err() {
                            break;
                        }
                    }
                });
                Outbound::channel(tx)
            };
            Ok(TransportHandle {
                outbound,
                control: handle.control,
            })
        })
    }
}
