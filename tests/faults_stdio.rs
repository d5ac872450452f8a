//! Bad behaviour from real child processes (`tests/peers/fault_server.py`):
//! garbage on stdout, oversized lines, replies to ids nobody asked for,
//! silence, crashes, servers that will not die. Every fault must end in a
//! precise error within its deadline, leave no process behind, and leave
//! this process able to talk to a good server afterwards.

mod common;

use std::time::{Duration, Instant};

use serde_json::json;
use switchboard::protocol::Era;
use switchboard::transport::StdioConfig;
use switchboard::{Client, Error, ProtocolVersion};

const SHORT: Duration = Duration::from_millis(1500);

async fn connect(mode: &str, marker: &str) -> Client {
    connect_with(mode, marker, |b| b).await
}

async fn connect_with(
    mode: &str,
    marker: &str,
    tweak: impl FnOnce(switchboard::ClientBuilder) -> switchboard::ClientBuilder,
) -> Client {
    let client = tweak(common::script("fault_server.py", &[mode], marker))
        .connect()
        .await
        .unwrap_or_else(|e| panic!("connect to fault_server.py {mode}: {e}"));
    // -32601 to server/discover: the handshake era at the newest revision.
    assert_eq!(client.era(), Some(Era::Handshake));
    assert_eq!(
        client.protocol_version(),
        Some(ProtocolVersion::V2025_11_25)
    );
    assert_eq!(
        client.server_info().map(|i| i.name.clone()),
        Some(format!("fault-server-{mode}"))
    );
    client
}

/// After a fault, this process still talks to a good server normally.
async fn assert_healthy() {
    let marker = common::marker("fault-healthy");
    let client = connect("good", &marker).await;
    let out = client
        .call_tool("ok", json!({"n": 1}))
        .await
        .expect("good server answers");
    assert_eq!(out.text(), r#"ok: {"n": 1}"#);
    let bad_is_good = client
        .call_tool("bad", json!({"n": 2}))
        .await
        .expect("`bad` is fine in good mode");
    assert_eq!(bad_is_good.text(), r#"ok: {"n": 2}"#);
    client.close().await.expect("close");
    common::assert_no_process(&marker, Duration::from_secs(5)).await;
}

fn cancelled_lines(client: &Client) -> usize {
    client
        .stderr_tail()
        .iter()
        .filter(|l| l.starts_with("fault_server: cancelled request"))
        .count()
}

async fn close_and_reap(client: Client, marker: &str) {
    client.close().await.expect("close");
    drop(client);
    common::assert_no_process(marker, Duration::from_secs(6)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_lines_are_ignored_and_explained_on_timeout() {
    common::bounded(async {
        let marker = common::marker("fault-garbage");
        let client = connect_with("garbage", &marker, |b| b.timeout(SHORT)).await;

        // Garbage followed by the real answer: the answer still counts.
        let out = client
            .call_tool("noisy", ())
            .await
            .expect("garbage before a good reply is skipped");
        assert_eq!(out.text(), "noisy but fine");

        // Garbage and no answer: a timeout whose hint says what we saw.
        let started = Instant::now();
        let err = client
            .call_tool("bad", ())
            .await
            .expect_err("no reply must time out");
        let elapsed = started.elapsed();
        match &err {
            Error::Timeout {
                method,
                elapsed: reported,
                hint,
            } => {
                assert_eq!(method, "tools/call");
                assert!(*reported >= SHORT, "reported {reported:?}");
                let hint = hint.as_deref().expect("a hint about the garbage");
                assert!(hint.contains("non-JSON-RPC"), "hint: {hint}");
            }
            other => panic!("expected Timeout, got {other:?}"),
        }
        assert!(elapsed >= SHORT, "timed out early: {elapsed:?}");
        assert!(
            elapsed < SHORT + Duration::from_secs(1),
            "late: {elapsed:?}"
        );

        // The connection is still usable.
        let out = client.call_tool("ok", json!({"after": "garbage"})).await;
        assert_eq!(
            out.expect("ok after garbage").text(),
            r#"ok: {"after": "garbage"}"#
        );

        close_and_reap(client, &marker).await;
        assert_healthy().await;
    })
    .await
}

/// 100k garbage lines cost a few warnings and one summary on the command's
/// stderr, not a line each.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_flood_is_logged_in_a_few_lines() {
    common::bounded(async {
        let marker = common::marker("fault-garbage-flood");
        let server = format!(
            "python3 {} garbage_flood",
            common::peer_script("fault_server.py").display()
        );
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_switchboard"))
            .args(["call", &server, "bad", r#"{"lines": 100000}"#])
            .env(common::MARKER_VAR, &marker)
            .env_remove("SWITCHBOARD_LOG")
            .kill_on_drop(true)
            .output()
            .await
            .expect("run switchboard");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stdout}\n{stderr}");
        assert!(stdout.contains(r#"ok: {"lines": 100000}"#), "{stdout}");
        let lines: Vec<&str> = stderr.lines().collect();
        assert!(
            lines.len() <= 10 && stderr.len() < 4096,
            "{} stderr lines, {} bytes; first: {:?}",
            lines.len(),
            stderr.len(),
            &lines[..lines.len().min(8)]
        );
        assert!(
            lines
                .iter()
                .any(|l| l.contains("more messages that are not JSON-RPC")),
            "a summary of what was not logged: {lines:?}"
        );
        common::assert_no_process(&marker, Duration::from_secs(5)).await;
    })
    .await
}

/// A list under the page cap can still be too big: 60 pages of 2,000
/// tools pass the 100,000-item cap, 10 pages of 600 KB the byte cap (4
/// times a 1 MiB message limit). Each fails with the list and the cap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_past_its_item_or_byte_cap_fails_with_which_cap() {
    common::bounded(async {
        let default_size = switchboard::transport::DEFAULT_MAX_MESSAGE_SIZE;
        for (args, max_message, limit, cap) in [
            (
                ["60", "2000", "1"],
                default_size,
                switchboard::ListLimit::Items,
                100_000,
            ),
            (
                ["10", "100", "6000"],
                1 << 20,
                switchboard::ListLimit::Bytes,
                4 << 20,
            ),
        ] {
            let marker = common::marker("fault-many-pages");
            let mut all = vec!["many_pages"];
            all.extend(args);
            let client = common::script("fault_server.py", &all, &marker)
                .max_message_size(max_message)
                .connect()
                .await
                .expect("connect");
            match client.list_tools().await {
                Err(Error::ListTooLarge {
                    method,
                    limit: l,
                    cap: c,
                }) => {
                    assert_eq!((method.as_str(), l, c), ("tools/list", limit, cap));
                }
                other => panic!(
                    "expected ListTooLarge {limit}, got {:?}",
                    other.map(|t| t.len())
                ),
            }
            client.ping().await.expect("usable after");
            close_and_reap(client, &marker).await;
        }
    })
    .await
}

/// A reply with the right id whose result is not JSON fails that call at
/// once with a decode error that names the method, not by timing out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_result_fails_its_call_at_once() {
    common::bounded(async {
        let marker = common::marker("fault-broken-result");
        let client = connect_with("broken_result", &marker, |b| b.timeout(SHORT)).await;
        let started = Instant::now();
        let err = client
            .call_tool("bad", ())
            .await
            .expect_err("a broken result is an error");
        assert!(
            matches!(&err, Error::InvalidMessage(m) if m.starts_with("tools/call result")),
            "{err:?}"
        );
        assert!(started.elapsed() < SHORT / 2, "{:?}", started.elapsed());
        let out = client.call_tool("ok", json!({"after": "broken"})).await;
        assert_eq!(
            out.expect("ok after a broken result").text(),
            r#"ok: {"after": "broken"}"#
        );
        close_and_reap(client, &marker).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_reply_is_message_too_large_quickly() {
    common::bounded(async {
        let marker = common::marker("fault-oversized");
        let limit = 64 * 1024;
        let client = connect_with("oversized", &marker, |b| {
            b.max_message_size(limit).timeout(Duration::from_secs(10))
        })
        .await;

        let started = Instant::now();
        let err = client
            .call_tool("bad", ())
            .await
            .expect_err("a 1 MiB reply over a 64 KiB limit");
        let elapsed = started.elapsed();
        match err {
            Error::MessageTooLarge { size, limit: l } => {
                assert_eq!(l, limit);
                // What had arrived when it passed the limit.
                assert!(size > limit, "size {size}");
            }
            other => panic!("expected MessageTooLarge, got {other:?}"),
        }
        assert!(
            elapsed < Duration::from_secs(2),
            "must fail at once, not at the deadline: {elapsed:?}"
        );

        // The id after the result (as the TypeScript SDK writes it) is
        // found in the line's tail.
        let started = Instant::now();
        let err = client
            .call_tool("bad", json!({"id_last": true}))
            .await
            .expect_err("a 1 MiB reply, id last");
        assert!(matches!(err, Error::MessageTooLarge { .. }), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(2));

        // The oversized line was discarded; the stream is still in sync.
        let out = client.call_tool("ok", json!({"x": 1})).await;
        assert_eq!(out.expect("ok after oversized").text(), r#"ok: {"x": 1}"#);

        close_and_reap(client, &marker).await;
        assert_healthy().await;
    })
    .await
}

/// A reply line that never ends fails its call with `MessageTooLarge` as
/// soon as it passes the limit, not at the call's deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_reply_line_fails_at_the_size_limit() {
    common::bounded(async {
        let marker = common::marker("fault-endless");
        let limit = 64 * 1024;
        let client = connect_with("endless", &marker, |b| {
            b.max_message_size(limit).timeout(Duration::from_secs(10))
        })
        .await;
        let started = Instant::now();
        let err = client
            .call_tool("bad", ())
            .await
            .expect_err("a reply over the limit");
        let elapsed = started.elapsed();
        match err {
            Error::MessageTooLarge { size, limit: l } => {
                assert_eq!(l, limit);
                assert!(size > limit, "size {size}");
            }
            other => panic!("expected MessageTooLarge, got {other:?}"),
        }
        assert!(
            elapsed < Duration::from_secs(3),
            "must fail at the limit, not at the deadline: {elapsed:?}"
        );
        close_and_reap(client, &marker).await;
    })
    .await
}

/// An oversized notification whose params carry `"id"` equal to the call
/// in flight is not that call's reply: the call gets its real reply.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_notification_with_a_nested_id_fails_no_call() {
    common::bounded(async {
        let marker = common::marker("fault-nested-id");
        let client = connect_with("nested_id", &marker, |b| {
            b.max_message_size(64 * 1024)
                .timeout(Duration::from_secs(5))
        })
        .await;
        let out = client
            .call_tool("bad", json!({"n": 1}))
            .await
            .expect("the real reply after the oversized notification");
        assert_eq!(out.text(), r#"ok: {"n": 1}"#);
        close_and_reap(client, &marker).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reply_with_unknown_id_times_out_with_hint() {
    common::bounded(async {
        let marker = common::marker("fault-unknown-id");
        let client = connect_with("unknown_id", &marker, |b| b.timeout(SHORT)).await;

        let started = Instant::now();
        let err = client.call_tool("bad", ()).await.expect_err("timeout");
        let elapsed = started.elapsed();
        match &err {
            Error::Timeout { method, hint, .. } => {
                assert_eq!(method, "tools/call");
                let hint = hint.as_deref().expect("a hint about the stray reply");
                assert!(
                    hint.contains("ids nobody asked for") || hint.contains("unknown id"),
                    "hint should mention unknown ids: {hint}"
                );
            }
            other => panic!("expected Timeout, got {other:?}"),
        }
        assert!(elapsed >= SHORT, "timed out early: {elapsed:?}");
        assert!(
            elapsed < SHORT + Duration::from_secs(1),
            "late: {elapsed:?}"
        );
        // The message names the hint too (what a user sees in a log).
        assert!(err.to_string().contains("nobody asked for"), "{err}");

        client.ping().await.expect("ping after the stray reply");
        close_and_reap(client, &marker).await;
        assert_healthy().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_server_times_out_without_a_misleading_hint() {
    common::bounded(async {
        let marker = common::marker("fault-silent");
        let client = connect_with("silent", &marker, |b| b.timeout(SHORT)).await;

        let started = Instant::now();
        let err = client.call_tool("bad", ()).await.expect_err("timeout");
        let elapsed = started.elapsed();
        match &err {
            Error::Timeout { method, hint, .. } => {
                assert_eq!(method, "tools/call");
                assert_eq!(hint.as_deref(), None, "nothing odd was seen");
            }
            other => panic!("expected Timeout, got {other:?}"),
        }
        assert!(elapsed >= SHORT, "timed out early: {elapsed:?}");
        assert!(
            elapsed < SHORT + Duration::from_secs(1),
            "late: {elapsed:?}"
        );

        // A per-call deadline overrides the client's.
        let started = Instant::now();
        let err = client
            .call_tool_with(
                "bad",
                (),
                switchboard::CallOptions::new().timeout(Duration::from_millis(300)),
            )
            .await
            .expect_err("per-call timeout");
        assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
        let elapsed = started.elapsed();
        assert!(
            elapsed >= Duration::from_millis(300) && elapsed < Duration::from_millis(1300),
            "{elapsed:?}"
        );

        assert!(
            !client.is_closed(),
            "a timeout does not close the connection"
        );

        // A timed-out call tells the server to stop: notifications/cancelled.
        common::eventually(
            "notifications/cancelled reached the server",
            Duration::from_secs(3),
            || {
                let n = cancelled_lines(&client);
                async move { (n > 0).then_some(()) }
            },
        )
        .await;
        let cancelled_before = cancelled_lines(&client);

        // So does a call whose future the caller drops.
        let dropped =
            tokio::time::timeout(Duration::from_millis(200), client.call_tool("bad", ())).await;
        assert!(dropped.is_err(), "the call cannot have finished");
        common::eventually(
            "cancelled after the caller gave up",
            Duration::from_secs(3),
            || {
                let n = cancelled_lines(&client);
                async move { (n > cancelled_before).then_some(()) }
            },
        )
        .await;
        client.ping().await.expect("still usable");

        close_and_reap(client, &marker).await;
        assert_healthy().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_mid_call_is_connection_closed_with_stderr() {
    common::bounded(async {
        let marker = common::marker("fault-exit");
        let client = connect_with("exit", &marker, |b| b.timeout(Duration::from_secs(10))).await;

        let started = Instant::now();
        let err = client
            .call_tool("bad", ())
            .await
            .expect_err("the server died");
        let elapsed = started.elapsed();
        assert!(
            elapsed < Duration::from_secs(3),
            "must fail when the process dies, not at the deadline: {elapsed:?}"
        );
        assert!(err.is_connection_lost(), "{err:?}");
        match &err {
            Error::ConnectionClosed {
                reason,
                stderr_tail,
            } => {
                assert!(
                    stderr_tail
                        .iter()
                        .any(|l| l
                            .contains("fault_server: fatal: simulated crash during tools/call")),
                    "stderr tail: {stderr_tail:?}"
                );
                assert!(reason.contains("exit status: 3"), "reason: {reason}");
            }
            other => panic!("expected ConnectionClosed, got {other:?}"),
        }
        assert!(
            err.to_string().contains("simulated crash"),
            "the message shows the stderr tail: {err}"
        );

        assert!(client.is_closed());
        let again = client.call_tool("ok", ()).await.expect_err("closed");
        assert!(again.is_connection_lost(), "{again:?}");
        close_and_reap(client, &marker).await;
        assert_healthy().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_kills_a_server_that_ignores_sigterm_and_eof() {
    common::bounded(async {
        let marker = common::marker("fault-stubborn");
        let client = connect("stubborn", &marker).await;
        common::wait_for_processes(&marker, 1, Duration::from_secs(2)).await;

        // A call in flight when we close.
        let in_flight = {
            let c = client.clone();
            tokio::spawn(async move { c.call_tool("bad", ()).await })
        };
        tokio::time::sleep(Duration::from_millis(100)).await;

        let started = Instant::now();
        client.close().await.expect("close");
        let took = started.elapsed();
        assert!(took < Duration::from_millis(5500), "close took {took:?}");
        common::assert_no_process(&marker, Duration::from_secs(1)).await;

        let outcome = tokio::time::timeout(Duration::from_secs(2), in_flight)
            .await
            .expect("the in-flight call ends with the close")
            .expect("task");
        let err = outcome.expect_err("closed under the call");
        assert!(err.is_connection_lost(), "{err:?}");
        assert!(client.is_closed());

        assert_healthy().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_last_client_kills_the_process_group() {
    common::bounded(async {
        let marker = common::marker("fault-drop");
        let client = connect("spawner", &marker).await;
        // The script and its grandchild `sleep 300` (same group).
        let procs = common::wait_for_processes(&marker, 2, Duration::from_secs(3)).await;
        assert!(
            procs.iter().any(|(_, cmd)| cmd.starts_with("sleep 300")),
            "{procs:?}"
        );
        let clone = client.clone();
        let out = clone.call_tool("ok", json!({"k": "v"})).await.expect("ok");
        assert_eq!(out.text(), r#"ok: {"k": "v"}"#);

        drop(client);
        // One clone left: still connected.
        clone
            .ping()
            .await
            .expect("a clone keeps the connection open");
        assert_eq!(common::processes_with_marker(&marker).len(), 2);
        drop(clone);

        common::assert_no_process(&marker, Duration::from_secs(5)).await;
        assert_healthy().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_a_client_of_a_stubborn_server_still_kills_it() {
    common::bounded(async {
        let marker = common::marker("fault-drop-stubborn");
        let client = connect("stubborn", &marker).await;
        common::wait_for_processes(&marker, 1, Duration::from_secs(2)).await;
        drop(client);
        common::assert_no_process(&marker, Duration::from_secs(7)).await;
        assert_healthy().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_dying_at_startup_fails_connect_with_its_stderr() {
    common::bounded(async {
        let marker = common::marker("fault-startup");
        let src = switchboard::Source::stdio(
            "python3",
            [
                "-c",
                "import sys; sys.stderr.write('fault: cannot start: missing config file\\n'); sys.exit(2)",
            ],
        );
        let started = Instant::now();
        let err = common::tune(src, &marker)
            .connect()
            .await
            .expect_err("the server exits before answering");
        let elapsed = started.elapsed();
        assert!(
            elapsed < Duration::from_secs(3),
            "must not wait for the connect deadline: {elapsed:?}"
        );
        let tail = match &err {
            Error::Connect { stderr_tail, .. } | Error::ConnectionClosed { stderr_tail, .. } => {
                stderr_tail.clone()
            }
            other => panic!("expected Connect or ConnectionClosed, got {other:?}"),
        };
        assert!(
            tail.iter()
                .any(|l| l.contains("fault: cannot start: missing config file")),
            "stderr tail: {tail:?} ({err})"
        );
        common::assert_no_process(&marker, Duration::from_secs(3)).await;
        assert_healthy().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_program_is_a_connect_error() {
    common::bounded(async {
        let started = Instant::now();
        let err = Client::builder(switchboard::Source::stdio(
            "/nonexistent/switchboard-no-such-server",
            ["--flag"],
        ))
        .connect()
        .await
        .expect_err("no such program");
        assert!(started.elapsed() < Duration::from_secs(2));
        match &err {
            Error::Connect { message, .. } => assert!(
                message.contains("/nonexistent/switchboard-no-such-server"),
                "{message}"
            ),
            other => panic!("expected Connect, got {other:?}"),
        }
        assert_healthy().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_working_directory_is_named_as_such() {
    common::bounded(async {
        let err = Client::builder(
            StdioConfig::new("python3", ["-c", "pass"]).cwd("/nonexistent/switchboard-no-such-dir"),
        )
        .connect()
        .await
        .expect_err("no such directory");
        match &err {
            Error::Connect { message, .. } => assert!(
                message.contains(
                    "working directory /nonexistent/switchboard-no-such-dir does not exist"
                ),
                "{message}"
            ),
            other => panic!("expected Connect, got {other:?}"),
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_program_that_is_not_an_mcp_server_fails_connect_at_once() {
    common::bounded(async {
        // `yes` writes non-JSON lines forever: it is never going to answer.
        let started = Instant::now();
        let err = Client::builder("yes this is not MCP")
            .connect_timeout(Duration::from_secs(20))
            .connect()
            .await
            .expect_err("yes is not an MCP server");
        let elapsed = started.elapsed();
        // Well inside the 20 s connect deadline it would otherwise wait out
        // (3 s was too tight with several builds sharing 2 cores: 3.2-5 s).
        assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
        match &err {
            Error::Connect { message, .. } => assert!(
                message.contains("not an MCP server") && message.contains("this is not MCP"),
                "{message}"
            ),
            other => panic!("expected Connect, got {other:?}"),
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mute_server_fails_connect_at_the_connect_deadline() {
    common::bounded(async {
        let marker = common::marker("fault-mute");
        let connect_limit = Duration::from_secs(2);
        let started = Instant::now();
        let err = common::script("fault_server.py", &["mute"], &marker)
            .connect_timeout(connect_limit)
            .probe_timeout(Duration::from_millis(800))
            .connect()
            .await
            .expect_err("nothing ever answers");
        let elapsed = started.elapsed();
        assert!(
            matches!(&err, Error::Timeout { method, .. } if method == Error::CONNECT),
            "{err:?}"
        );
        assert!(
            elapsed >= Duration::from_millis(800)
                && elapsed < connect_limit + Duration::from_secs(1),
            "{elapsed:?}"
        );
        // The failed connection does not leave its process behind.
        common::assert_no_process(&marker, Duration::from_secs(6)).await;
        assert_healthy().await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn structured_output_that_breaks_its_schema_is_rejected() {
    common::bounded(async {
        #[derive(Debug, serde::Deserialize, PartialEq)]
        struct Sum {
            sum: i64,
        }
        let marker = common::marker("fault-typed");
        let client = connect("good", &marker).await;

        // Not listed first: the client fetches the schema on its own.
        let out = client
            .call_tool("typed", json!({}))
            .await
            .expect("valid structured output");
        assert_eq!(out.data::<Sum>().expect("decode"), Sum { sum: 3 });

        match client.call_tool("typed", json!({"lie": true})).await {
            Err(Error::OutputValidation { tool, message }) => {
                assert_eq!(tool, "typed");
                assert!(message.contains("outputSchema"), "{message}");
            }
            other => panic!("expected OutputValidation, got {other:?}"),
        }
        // The connection is fine afterwards.
        let out = client.call_tool("ok", json!({})).await.expect("ok");
        assert_eq!(out.text(), "ok: {}");
        close_and_reap(client, &marker).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_endless_stderr_line_costs_no_memory() {
    common::within(Duration::from_secs(60), async {
        let marker = common::marker("fault-stderr-flood");
        let client = connect_with("stderr_flood", &marker, |b| {
            b.timeout(Duration::from_secs(50))
        })
        .await;
        let before = common::rss_kib();
        // 256 MiB on one stderr line: the call answers only once all of it
        // was written, so all but the last pipe-full has been read.
        let out = client
            .call_tool("bad", json!({"mib": 256}))
            .await
            .expect("the server answers after its flood");
        assert_eq!(out.text(), "flooded");
        let grown = common::rss_kib().saturating_sub(before);
        assert!(
            grown < 32 * 1024,
            "RSS grew by {grown} KiB reading one long stderr line"
        );
        // The line is kept cut, with a mark, and the next line is whole.
        let tail = common::eventually("the flood's end on stderr", Duration::from_secs(5), || {
            let tail = client.stderr_tail();
            async move {
                tail.iter()
                    .any(|l| l == "fault_server: flood over")
                    .then_some(tail)
            }
        })
        .await;
        let cut = tail
            .iter()
            .find(|l| l.starts_with("xxxx"))
            .expect("the long line's head");
        assert!(
            cut.len() <= 4096 + '…'.len_utf8() && cut.ends_with('…'),
            "{} bytes",
            cut.len()
        );
        close_and_reap(client, &marker).await;
    })
    .await
}
