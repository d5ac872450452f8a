//! The `switchboard` command told to stop: SIGINT, SIGTERM and SIGHUP end
//! its stdio servers' process groups (even a server that ignores end of
//! input and SIGTERM) and exit 128 + the signal; a closed stdout (`| head`)
//! ends the command quietly. Real child processes throughout.

mod common;

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

/// A server whose command line carries `marker`, so this test can find it.
fn stubborn_server(marker: &str) -> String {
    let script = common::manifest_dir().join("tests/peers/fault_server.py");
    format!("python3 {} stubborn {marker}", script.display())
}

/// The servers (not switchboard itself) whose command line holds `marker`.
fn running(marker: &str) -> Vec<String> {
    common::processes_running(marker)
        .into_iter()
        .filter(|c| !c.contains(BIN))
        .collect()
}

fn wait_until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn send(child: &Child, signal: i32) {
    // SAFETY: kill has no memory-safety preconditions; the pid is our child's.
    let rc = unsafe { libc::kill(child.id() as i32, signal) };
    assert_eq!(rc, 0, "kill({}, {signal})", child.id());
}

#[test]
fn every_stop_signal_ends_the_servers_and_exits_128_plus_the_signal() {
    for (signal, code) in [
        (libc::SIGINT, 130),
        (libc::SIGTERM, 143),
        (libc::SIGHUP, 129),
    ] {
        let marker = common::marker("cli-signal");
        let mut child = Command::new(BIN)
            .args(["--timeout", "60", "call", &stubborn_server(&marker), "bad"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start switchboard");
        wait_until("the server started", Duration::from_secs(10), || {
            !running(&marker).is_empty()
        });
        // Let the call go out, so the command is waiting on the server.
        std::thread::sleep(Duration::from_millis(300));
        let sent = Instant::now();
        send(&child, signal);
        let status = common::wait_exit(&mut child, Duration::from_secs(10));
        let mut stderr = String::new();
        let _ = child
            .stderr
            .take()
            .map(|mut e| e.read_to_string(&mut stderr));
        assert_eq!(status.code(), Some(code), "signal {signal}: {stderr}");
        // SIGTERM is ignored by this server: SIGKILL follows the grace.
        assert!(
            sent.elapsed() < Duration::from_secs(5),
            "{:?}",
            sent.elapsed()
        );
        wait_until("the server is gone", Duration::from_secs(2), || {
            running(&marker).is_empty()
        });
    }
}

#[test]
fn ctrl_c_during_connect_leaves_no_server() {
    let marker = common::marker("cli-signal-connect");
    let script = common::manifest_dir().join("tests/peers/fault_server.py");
    // `mute` never answers initialize: the command is still connecting.
    let server = format!("python3 {} mute {marker}", script.display());
    let mut child = Command::new(BIN)
        .args(["--timeout", "60", "tools", &server])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start switchboard");
    wait_until("the server started", Duration::from_secs(10), || {
        !running(&marker).is_empty()
    });
    send(&child, libc::SIGINT);
    let status = common::wait_exit(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(130));
    wait_until("the server is gone", Duration::from_secs(2), || {
        running(&marker).is_empty()
    });
}

/// Runs `args` with stdout a pipe whose reader is already gone.
fn with_closed_stdout(args: &[&str]) -> (ExitStatus, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start switchboard");
    drop(child.stdout.take());
    let status = common::wait_exit(&mut child, Duration::from_secs(30));
    let mut stderr = String::new();
    let _ = child
        .stderr
        .take()
        .map(|mut e| e.read_to_string(&mut stderr));
    (status, stderr)
}

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    let server = format!("{BIN} serve-test");
    for args in [
        vec!["--json", "tools", server.as_str()],
        vec!["tools", server.as_str()],
        vec!["demo"],
    ] {
        let (status, stderr) = with_closed_stdout(&args);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(status.code(), Some(0), "{args:?}: {stderr}");
    }
}

#[test]
fn a_closed_stdout_leaves_no_server() {
    let marker = common::marker("cli-closed-stdout");
    let script = common::manifest_dir().join("tests/peers/fault_server.py");
    let server = format!("python3 {} stubborn {marker}", script.display());
    let (status, stderr) = with_closed_stdout(&["tools", &server]);
    assert_eq!(status.code(), Some(0), "{stderr}");
    wait_until("the server is gone", Duration::from_secs(2), || {
        running(&marker).is_empty()
    });
}
