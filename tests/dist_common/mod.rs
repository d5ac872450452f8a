//! Shared by the distributed tests (`tests/dist_*.rs`): a cluster of one
//! real nats-server, an OpenAI-compatible model endpoint whose answers
//! depend only on the request (so any worker may ask any turn), a stdio
//! MCP server whose tools count their executions, and real worker
//! processes of the built binary.
//!
//! Prompts (the last user message: a conversation's earlier ones come
//! first) say what the model does: `PLAN <tool> <tag> <sleep_ms>` calls
//! `fx_<tool>` once with that tag, then answers `done <tag>: <result>`;
//! anything else is answered at once with `ok`. A trailing `DELAY <ms>`
//! makes every turn take that long.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use switchboard::dist::{self, EventKind, RunEvent};

use crate::common;
use crate::common::nats::NatsServer;

pub mod proxy;

pub const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// The model: counts requests per (tag, turn), and keeps every request.
#[derive(Clone, Default)]
pub struct Model {
    asked: Arc<Mutex<HashMap<(String, usize), u32>>>,
    requests: Arc<Mutex<Vec<Value>>>,
}

impl Model {
    /// Every request's `messages`, in the order they came.
    pub fn requests(&self) -> Vec<Value> {
        self.requests.lock().unwrap().clone()
    }

    /// How many times turn `turn` (0-based) of the run tagged `tag` was asked.
    pub fn asked(&self, tag: &str, turn: usize) -> u32 {
        self.asked
            .lock()
            .unwrap()
            .get(&(tag.to_owned(), turn))
            .copied()
            .unwrap_or(0)
    }
}

async fn complete(State(model): State<Model>, Json(body): Json<Value>) -> Json<Value> {
    let messages = body["messages"].as_array().cloned().unwrap_or_default();
    model
        .requests
        .lock()
        .unwrap()
        .push(Value::Array(messages.clone()));
    let prompt = messages
        .iter()
        .rev()
        .find(|m| m["role"] == "user")
        .and_then(|m| m["content"].as_str())
        .unwrap_or("")
        .to_owned();
    let results: Vec<String> = messages
        .iter()
        .filter(|m| m["role"] == "tool")
        .map(|m| m["content"].as_str().unwrap_or("").to_owned())
        .collect();
    let words: Vec<&str> = prompt.split_whitespace().collect();
    let usage = json!({"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15});
    // `... DELAY <ms>` at the end: every turn takes that long (an I/O-bound model).
    let words = match words.as_slice() {
        [rest @ .., "DELAY", ms] => {
            let ms = ms.parse::<u64>().unwrap_or(0);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            rest.to_vec()
        }
        _ => words,
    };
    let message = match words.as_slice() {
        ["PLAN", tool, tag, sleep_ms] => {
            *model
                .asked
                .lock()
                .unwrap()
                .entry(((*tag).to_owned(), results.len()))
                .or_insert(0) += 1;
            if results.is_empty() {
                let args = json!({"tag": tag, "sleep_ms": sleep_ms.parse::<u64>().unwrap_or(0)});
                json!({"role": "assistant", "content": null, "tool_calls": [{
                    "id": format!("call_{tag}"), "type": "function",
                    "function": {"name": format!("fx_{tool}"), "arguments": args.to_string()}}]})
            } else {
                json!({"role": "assistant", "content": format!("done {tag}: {}", results.join("; "))})
            }
        }
        _ => json!({"role": "assistant", "content": "ok"}),
    };
    let finish = if message["tool_calls"].is_array() {
        "tool_calls"
    } else {
        "stop"
    };
    Json(json!({
        "id": "chatcmpl-dist", "object": "chat.completion", "created": 1_700_000_000,
        "model": "dist-model",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }))
}

/// One cluster: nats-server, the model endpoint, a definition pushed.
pub struct Cluster {
    pub nats: NatsServer,
    pub model: Model,
    pub dir: tempfile::TempDir,
    pub effects: PathBuf,
    pub definition: PathBuf,
    model_url: String,
    model_task: tokio::task::JoinHandle<()>,
    workers: Vec<(String, Child)>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for (_, w) in &mut self.workers {
            let _ = w.kill();
            let _ = w.wait();
        }
        self.model_task.abort();
    }
}

/// One line of the effects log.
#[derive(Debug, Clone)]
pub struct Effect {
    pub tool: String,
    pub tag: String,
    pub key: String,
    /// Calls in flight in that server process when this one started.
    pub inflight: u64,
}

impl Cluster {
    /// Starts nats-server and the model, runs `dist init` with `init_args`
    /// and pushes the agent `fx`.
    pub async fn start(init_args: &[&str]) -> Cluster {
        let nats = NatsServer::start();
        eprintln!(
            "nats-server JetStream-healthy in {:.1} ms",
            nats.started_in.as_secs_f64() * 1000.0
        );
        let model = Model::default();
        let app = Router::new()
            .route("/v1/chat/completions", post(complete))
            .with_state(model.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let model_task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        let dir = tempfile::tempdir().unwrap();
        let effects = dir.path().join("effects.jsonl");
        let definition = dir.path().join("fx.toml");
        let script = common::manifest_dir().join("tests/dist_common/effect_server.py");
        std::fs::write(
            &definition,
            format!(
                r#"name = "fx"
system_prompt = "Do as planned."

[model]
model = "dist-model"
base_url = "http://127.0.0.1:{port}/v1"
api_key_env = "SB_DIST_TEST_KEY"

[servers.fx]
command = "{python}"
args = ["{script}", "{effects}"]
"#,
                python = common::python().display(),
                script = script.display(),
                effects = effects.display(),
            ),
        )
        .unwrap();
        let c = Cluster {
            nats,
            model,
            dir,
            effects,
            definition,
            model_url: format!("http://127.0.0.1:{port}/v1"),
            model_task,
            workers: Vec::new(),
        };
        let mut args = vec!["dist", "init"];
        args.extend_from_slice(init_args);
        let out = c.cli(&args).await;
        assert!(
            out.status.success(),
            "dist init: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let def = c.definition.display().to_string();
        let out = c.cli(&["agents", "push", &def]).await;
        assert!(
            out.status.success(),
            "agents push: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "fx@1");
        c
    }

    /// Stores another definition (TOML) under its name.
    pub async fn push(&self, toml: &str) -> (String, u64) {
        self.client()
            .await
            .push_agent(toml)
            .await
            .expect("push a definition")
    }

    /// A definition of `name` with the planner model (no network, answers
    /// at once) over the effect server.
    pub fn planner_definition(&self, name: &str) -> String {
        let script = common::manifest_dir().join("tests/dist_common/effect_server.py");
        format!(
            "name = \"{name}\"\n[model]\nprovider = \"planner\"\n[servers.fx]\ncommand = \"{}\"\nargs = [\"{}\", \"{}\"]\n",
            common::python().display(),
            script.display(),
            self.effects.display()
        )
    }

    /// Runs the CLI against this cluster's NATS; waits up to 60 s.
    pub async fn cli(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = tokio::process::Command::new(BIN);
        cmd.args(args)
            .env("SWITCHBOARD_NATS", self.nats.url())
            .env("SB_DIST_TEST_KEY", "sk-test")
            .stdin(Stdio::null())
            .kill_on_drop(true);
        common::within(Duration::from_secs(60), cmd.output())
            .await
            .expect("run the switchboard binary")
    }

    /// Starts a worker process with this id and slots.
    pub fn worker(&mut self, id: &str, concurrency: usize) {
        self.worker_with(id, concurrency, &[]);
    }

    /// SIGTERM to worker `id` (its own PID).
    pub fn terminate_worker(&mut self, id: &str) {
        let (_, child) = self
            .workers
            .iter_mut()
            .find(|(w, _)| w == id)
            .expect("a worker with this id");
        let pid = i32::try_from(child.id()).expect("a pid");
        // SAFETY: kill(2) on our own child's PID; no memory is touched.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
    }

    /// Waits (deadline `limit`, polled every 20 ms) for worker `id` to exit.
    pub async fn wait_worker(&mut self, id: &str, limit: Duration) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            let (_, child) = self
                .workers
                .iter_mut()
                .find(|(w, _)| w == id)
                .expect("a worker with this id");
            if let Some(status) = child.try_wait().expect("wait") {
                return status;
            }
            assert!(
                started.elapsed() < limit,
                "worker {id} still running after {limit:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Starts worker `id` and waits until it ran a quick run (its agent
    /// built), asserting that it did: call it while the other workers'
    /// slots are busy.
    pub async fn warm_worker(&mut self, id: &str, concurrency: usize) {
        self.worker(id, concurrency);
        let d = self.client().await;
        let warm = d.submit("fx", "PLAN read warm 0").await.expect("submit");
        all_events(&d, warm.id(), Duration::from_secs(60)).await;
        let record = warm.record().await.expect("a record");
        assert_eq!(
            record.worker.as_deref(),
            Some(id),
            "the warm-up ran on {id}"
        );
    }

    /// Starts a worker process with more flags.
    pub fn worker_with(&mut self, id: &str, concurrency: usize, extra: &[&str]) {
        let log = std::fs::File::create(self.dir.path().join(format!("{id}.log"))).unwrap();
        let child = Command::new(BIN)
            .args([
                "worker",
                "--id",
                id,
                "--concurrency",
                &concurrency.to_string(),
            ])
            .args(extra)
            .env("SWITCHBOARD_NATS", self.nats.url())
            .env("SB_DIST_TEST_KEY", "sk-test")
            .env("RUST_LOG", "switchboard=debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start a worker");
        self.workers.push((id.to_owned(), child));
    }

    /// `kill -9` of worker `id` (its own PID), waited for.
    pub fn kill_worker(&mut self, id: &str) {
        let (_, child) = self
            .workers
            .iter_mut()
            .find(|(w, _)| w == id)
            .expect("a worker with this id");
        let _ = child.kill();
        let _ = child.wait();
    }

    /// A worker's log (stderr).
    pub fn worker_log(&self, id: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{id}.log"))).unwrap_or_default()
    }

    /// A library client.
    pub async fn client(&self) -> dist::Client {
        dist::Client::connect(&self.nats.url())
            .await
            .expect("connect")
    }

    /// Every execution the effect tools counted.
    pub fn effects(&self) -> Vec<Effect> {
        let text = std::fs::read_to_string(&self.effects).unwrap_or_default();
        text.lines()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .map(|v| Effect {
                tool: v["tool"].as_str().unwrap_or("").to_owned(),
                tag: v["tag"].as_str().unwrap_or("").to_owned(),
                key: v["key"].as_str().unwrap_or("").to_owned(),
                inflight: v["inflight"].as_u64().unwrap_or(0),
            })
            .collect()
    }

    /// How many `notifications/cancelled` the effect servers received.
    pub fn cancellations(&self) -> usize {
        let mut path = self.effects.clone().into_os_string();
        path.push(".cancelled");
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .count()
    }

    /// Executions of the run tagged `tag`.
    pub fn executions(&self, tag: &str) -> usize {
        self.effects().iter().filter(|e| e.tag == tag).count()
    }

    pub fn definition_path(&self) -> &Path {
        &self.definition
    }

    pub fn model_url(&self) -> &str {
        &self.model_url
    }
}

/// Every event of `run` up to the final one (deadline `limit`).
pub async fn all_events(d: &dist::Client, run: &str, limit: Duration) -> Vec<RunEvent> {
    let mut out = Vec::new();
    common::within(limit, d.run(run).follow(0, |e| out.push(e.clone())))
        .await
        .expect("follow the run");
    out
}

/// Waits (deadline `limit`) for the first event of `run` that `pick` takes.
pub async fn wait_event(
    d: &dist::Client,
    run: &str,
    limit: Duration,
    mut pick: impl FnMut(&RunEvent) -> bool,
) -> RunEvent {
    let mut events = d.run(run).events_from(0).await.expect("events");
    common::within(limit, async {
        // Bounded by the deadline; each event is looked at once.
        loop {
            let e = events
                .next()
                .await
                .expect("the event stream ended")
                .expect("an event");
            if pick(&e) {
                return e;
            }
        }
    })
    .await
}

/// The number of final events of `run` in the stream (read to the end).
pub async fn final_events(d: &dist::Client, run: &str) -> usize {
    let mut events = d.run(run).events_from(0).await.expect("events");
    let mut n = 0;
    // Bounded: stops at the first gap of 300 ms once the history is read.
    while let Ok(Some(e)) = tokio::time::timeout(Duration::from_millis(300), events.next()).await {
        if matches!(e.expect("an event").event.kind, EventKind::Finished { .. }) {
            n += 1;
        }
    }
    n
}

/// Milliseconds since `t`.
pub fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

/// Every final event in the event stream, by run (the whole stream read
/// to its end once; deadline `limit`).
pub async fn finals(d: &dist::Client, limit: Duration) -> HashMap<String, Vec<dist::Event>> {
    use async_nats::jetstream::consumer::pull::OrderedConfig;
    use futures_util::StreamExt;
    let mut out: HashMap<String, Vec<dist::Event>> = HashMap::new();
    let stream = d
        .jetstream()
        .get_stream("SB_EVENTS")
        .await
        .expect("SB_EVENTS");
    if stream.get_info().await.expect("stream info").state.messages == 0 {
        return out;
    }
    let consumer = stream
        .create_consumer(OrderedConfig {
            filter_subject: "sb.v1.run.*.ev".into(),
            ..Default::default()
        })
        .await
        .expect("an ordered consumer");
    let mut messages = consumer.messages().await.expect("messages");
    common::within(limit, async {
        // Bounded by the stream's length: stops at the last message.
        while let Some(m) = messages.next().await {
            let m = m.expect("an event");
            let e: dist::Event = serde_json::from_slice(&m.payload).expect("an event payload");
            if matches!(e.kind, EventKind::Finished { .. }) {
                out.entry(e.run_id.clone()).or_default().push(e);
            }
            if m.info().expect("info").pending == 0 {
                break;
            }
        }
    })
    .await;
    out
}

/// Waits (deadline `limit`) until `n` final events were published, counted
/// on a core subscription opened before the runs were submitted.
pub async fn count_finals(sub: &mut async_nats::Subscriber, n: usize, limit: Duration) {
    use futures_util::StreamExt;
    let mut seen = 0;
    common::within(limit, async {
        while seen < n {
            let m = sub.next().await.expect("events");
            if m.payload.windows(17).any(|w| w == b"\"kind\":\"finished\"") {
                seen += 1;
            }
        }
    })
    .await;
}
