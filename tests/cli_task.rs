//! `switchboard call SOURCE TOOL ARGS --task` against the real tasks server
//! (PyPI `fastmcp-tasks` 4.1.4, `tests/peers/tasks_server.py` over stdio):
//! the status shows on stderr as it changes, the result on stdout; Ctrl-C
//! (SIGINT to our own child) cancels the task on the server, which writes
//! so, and the command exits 130.

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn source(events: &Path) -> String {
    format!(
        "{} {} --events {}",
        common::tasks_python().display(),
        common::peer_script("tasks_server.py").display(),
        events.display()
    )
}

fn start(events: &Path, args: &str) -> Child {
    Command::new(BIN)
        .args(["call", &source(events), "research", args, "--task"])
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start switchboard")
}

/// The lines of `child`'s stderr, as they come.
fn stderr_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let stderr = child.stderr.take().expect("its stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Reads lines until one satisfies `wanted`; every line read is returned.
fn until(
    rx: &mpsc::Receiver<String>,
    limit: Duration,
    wanted: impl Fn(&str) -> bool,
) -> Vec<String> {
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => {
                let done = wanted(&line);
                seen.push(line);
                if done {
                    return seen;
                }
            }
            Err(_) => panic!("no such line within {limit:?}; stderr so far: {seen:#?}"),
        }
    }
}

fn events(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_call_with_task_shows_its_status_and_prints_its_result() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.txt");
    let mut child = start(&log, r#"{"tag": "cli-ok", "steps": 3, "step_ms": 300}"#);
    let rx = stderr_lines(&mut child);
    let status = common::wait_exit(&mut child, Duration::from_secs(40));
    let stderr: Vec<String> = rx.try_iter().collect();
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    assert!(status.success(), "exit {status:?}; stderr: {stderr:#?}");
    assert!(stdout.contains("cli-ok: 3 steps"), "stdout: {stdout}");
    assert!(
        stderr.iter().any(|l| l.starts_with("task: ")),
        "{stderr:#?}"
    );
    assert!(
        stderr.iter().any(|l| l.contains(": working: step ")),
        "the live status with the tool's progress: {stderr:#?}"
    );
    assert!(
        stderr.iter().any(|l| l.ends_with(": completed")),
        "{stderr:#?}"
    );
}

#[test]
fn ctrl_c_cancels_the_task_on_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("events.txt");
    let mut child = start(
        &log,
        r#"{"tag": "cli-cancel", "steps": 60, "step_ms": 250}"#,
    );
    let rx = stderr_lines(&mut child);
    until(&rx, Duration::from_secs(30), |l| {
        l.contains(": working: step ")
    });
    // SAFETY: kill(2) on our own child's pid.
    let rc = unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    assert_eq!(rc, 0);
    let seen = until(&rx, Duration::from_secs(15), |l| l.contains(": cancelled"));
    let status = common::wait_exit(&mut child, Duration::from_secs(15));
    assert_eq!(status.code(), Some(130), "stderr: {seen:#?}");
    // The server's side: the tool body was cancelled, never finished.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !events(&log).contains(&"cancelled cli-cancel".to_owned()) {
        assert!(Instant::now() < deadline, "events: {:?}", events(&log));
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!events(&log).contains(&"done cli-cancel".to_owned()));
}
