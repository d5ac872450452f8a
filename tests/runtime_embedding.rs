//! The Client in the runtimes users bring: a hand-built multi-thread tokio
//! runtime (what `#[tokio::main]` expands to), and an actix `System`
//! (including from inside an actor). Handles are `Send + Sync + Clone +
//! 'static` and so are the futures they return.

mod common;

use std::time::{Duration, Instant};

use actix::prelude::*;
use serde::Deserialize;
use serde_json::json;
use switchboard::protocol::Era;
use switchboard::{Client, ProtocolVersion, ToolOutput};

#[derive(Debug, Deserialize, PartialEq)]
struct Sum {
    sum: i64,
}

const fn assert_handle<T: Send + Sync + Clone + 'static>() {}
// Compile-time: the handle is Send + Sync + Clone + 'static.
const _: () = assert_handle::<Client>();

fn assert_send<F: Send>(_: &F) {}

/// Blocks until no process carries `marker` (outside any runtime).
fn assert_no_process_blocking(marker: &str, limit: Duration) {
    let start = Instant::now();
    loop {
        let left = common::processes_with_marker(marker);
        if left.is_empty() {
            return;
        }
        assert!(
            start.elapsed() < limit,
            "processes left behind after {limit:?}: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn eight_concurrent_adds(client: &Client) {
    let mut tasks = Vec::new();
    for i in 0..8i64 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            let out = c
                .call_tool("add", json!({"a": i, "b": 100}))
                .await
                .expect("add");
            (i, out.data::<Sum>().expect("Sum").sum)
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.expect("task"));
    }
    assert_eq!(results, (0..8i64).map(|i| (i, i + 100)).collect::<Vec<_>>());
}

#[test]
fn hand_built_multi_thread_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime");
    let marker = common::marker("embed-tokio");
    rt.block_on(common::bounded(async {
        let client = common::fastmcp(&marker).connect().await.expect("connect");
        assert_eq!(
            client.protocol_version(),
            Some(ProtocolVersion::V2026_07_28)
        );
        assert_eq!(client.era(), Some(Era::Modern));

        // Every future the handle returns is Send (spawnable anywhere).
        let f = client.call_tool("echo", json!({"text": "x"}));
        assert_send(&f);
        drop(f);
        let f = client.list_tools();
        assert_send(&f);
        drop(f);
        let f = client.read_resource("data://greeting");
        assert_send(&f);
        drop(f);
        let f = client.get_prompt("plain", ());
        assert_send(&f);
        drop(f);
        let f = client.close();
        assert_send(&f);
        drop(f);

        eight_concurrent_adds(&client).await;

        // Clones share one connection: a clone closing closes them all.
        let other = client.clone();
        other.close().await.expect("close");
        assert!(client.is_closed());
        let err = client
            .call_tool("echo", json!({"text": "after close"}))
            .await
            .expect_err("closed");
        assert!(err.is_connection_lost(), "{err:?}");
    }));
    drop(rt);
    assert_no_process_blocking(&marker, Duration::from_secs(5));
}

#[test]
fn connect_and_call_from_std_threads_sharing_one_runtime() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let marker = common::marker("embed-threads");
    let client = rt
        .block_on(common::bounded(common::fastmcp(&marker).connect()))
        .expect("connect");
    // Plain OS threads drive calls through the runtime's handle.
    let handle = rt.handle().clone();
    let threads: Vec<_> = (0..4i64)
        .map(|i| {
            let c = client.clone();
            let h = handle.clone();
            std::thread::spawn(move || {
                h.block_on(common::bounded(async move {
                    let out: ToolOutput = c
                        .call_tool("add", json!({"a": i, "b": i}))
                        .await
                        .expect("add");
                    out.data::<Sum>().expect("Sum").sum
                }))
            })
        })
        .collect();
    let sums: Vec<i64> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert_eq!(sums, [0, 2, 4, 6]);
    rt.block_on(common::bounded(client.close())).expect("close");
    drop(client);
    drop(rt);
    assert_no_process_blocking(&marker, Duration::from_secs(5));
}

/// An actor that owns a Client and calls a tool for each message.
struct Adder {
    client: Client,
}

impl Actor for Adder {
    type Context = Context<Self>;
}

struct Add(i64, i64);

impl Message for Add {
    type Result = Result<i64, String>;
}

impl Handler<Add> for Adder {
    type Result = ResponseFuture<Result<i64, String>>;

    fn handle(&mut self, msg: Add, _ctx: &mut Self::Context) -> Self::Result {
        let client = self.client.clone();
        Box::pin(async move {
            let out = client
                .call_tool("add", json!({"a": msg.0, "b": msg.1}))
                .await
                .map_err(|e| e.to_string())?;
            out.data::<Sum>().map(|s| s.sum).map_err(|e| e.to_string())
        })
    }
}

#[test]
fn inside_an_actix_system() {
    let marker = common::marker("embed-actix");
    let system = actix::System::new();
    system.block_on(common::bounded(async {
        let client = common::fastmcp(&marker)
            .connect()
            .await
            .expect("connect inside actix");
        assert_eq!(client.era(), Some(Era::Modern));

        // Spawned tokio tasks on actix's runtime.
        eight_concurrent_adds(&client).await;

        // Local (non-Send) futures on the actix arbiter, concurrently.
        let local = futures_util::future::join_all((0..8i64).map(|i| {
            let c = client.clone();
            async move {
                c.call_tool("add", json!({"a": i, "b": -i}))
                    .await
                    .expect("add")
                    .data::<Sum>()
                    .expect("Sum")
                    .sum
            }
        }))
        .await;
        assert_eq!(local, [0; 8]);

        // From inside an actor's handler.
        let adder = Adder {
            client: client.clone(),
        }
        .start();
        let sums = futures_util::future::join_all((1..=4i64).map(|i| adder.send(Add(i, 10)))).await;
        let sums: Vec<i64> = sums
            .into_iter()
            .map(|r| r.expect("mailbox").expect("add"))
            .collect();
        assert_eq!(sums, [11, 12, 13, 14]);

        client.close().await.expect("close");
    }));
    assert_no_process_blocking(&marker, Duration::from_secs(5));
}

#[test]
fn dropping_the_runtime_with_a_live_client_leaves_no_process() {
    let marker = common::marker("embed-rt-drop");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let client = rt.block_on(common::bounded(async {
        let client = common::script("fault_server.py", &["spawner"], &marker)
            .connect()
            .await
            .expect("connect");
        common::wait_for_processes(&marker, 2, Duration::from_secs(3)).await;
        client
    }));
    // The runtime goes first, the client after, never closed.
    drop(rt);
    drop(client);
    assert_no_process_blocking(&marker, Duration::from_secs(5));
}
