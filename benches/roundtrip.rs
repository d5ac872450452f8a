//! The hot path: encode, send, correlate, decode.
//!
//! Against `switchboard serve-echo` (a minimal stdio echo server of ours):
//! - `bare_loop`: write a request line, read the reply line; no client at all.
//!   The floor any client pays for the pipe and the server.
//! - `client_sequential`: the same round trip through `Client::call_tool`
//!   (`block_on` per call; `_in_task`: from a task on a multi-thread
//!   runtime; `_current_thread`: on a single-threaded runtime).
//! - `client_concurrent_32`: 32 calls in flight; the throughput figure.
//! - `memory_sequential`, `memory_concurrent_32`: the same calls through
//!   the in-memory transport to the in-process demo server (`echo`): no
//!   pipe and no child, so what is left is the client, the channel pair
//!   and the server core; `_handshake`: in the 2025-11-25 era.
//!
//! Run: `cargo bench --bench roundtrip`. The issue's targets:
//! `client_sequential` <= 1.5x `bare_loop`; `client_concurrent_32`
//! throughput >= 5x the TypeScript SDK client's (see `benches/compare.sh`).

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};

use divan::counter::ItemsCount;
use divan::Bencher;
use serde_json::json;
use switchboard::{Client, Source};

const SERVER: &str = env!("CARGO_BIN_EXE_switchboard");

fn main() {
    divan::main();
}

struct BareServer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl BareServer {
    fn start() -> BareServer {
        let mut child = Command::new(SERVER)
            .arg("serve-echo")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn echo server");
        let stdin = child.stdin.take().expect("stdin");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut s = BareServer {
            child,
            stdin,
            stdout,
        };
        s.round_trip(br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bare","version":"0"}}}"#);
        s
    }

    fn round_trip(&mut self, line: &[u8]) -> usize {
        self.stdin.write_all(line).expect("write");
        self.stdin.write_all(b"\n").expect("write");
        self.stdin.flush().expect("flush");
        let mut reply = String::new();
        self.stdout.read_line(&mut reply).expect("read");
        reply.len()
    }
}

impl Drop for BareServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The line the client writes for `call_tool("echo", {"text": "hi"})`
/// (2026-07-28: the protocol version, capabilities and identity ride in
/// every request's `_meta`), so both sides of the comparison move the same
/// bytes and the server does the same work.
const CLIENT_LINE: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"},"_meta":{"progressToken":1,"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"extensions":{"io.modelcontextprotocol/skills":{}}},"io.modelcontextprotocol/clientInfo":{"name":"switchboard","version":"0.1.0"}}}}"#;

#[divan::bench]
fn bare_loop(bencher: Bencher) {
    let mut server = BareServer::start();
    let line = CLIENT_LINE;
    bencher.bench_local(|| server.round_trip(line));
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

fn connect(rt: &tokio::runtime::Runtime) -> Client {
    rt.block_on(Client::connect(Source::stdio(SERVER, ["serve-echo"])))
        .expect("connect to echo server")
}

#[divan::bench]
fn client_sequential(bencher: Bencher) {
    let rt = runtime();
    let client = connect(&rt);
    let args = json!({"text": "hi"});
    bencher.bench_local(|| {
        rt.block_on(async {
            client.call_tool("echo", &args).await.expect("call");
        })
    });
}

#[divan::bench]
fn client_sequential_in_task(bencher: Bencher) {
    // The same, from a task on a runtime worker (where a program's spawned
    // tasks run): 1000 sequential calls per sample.
    let rt = runtime();
    let client = connect(&rt);
    bencher.counter(ItemsCount::new(1000usize)).bench_local(|| {
        let client = client.clone();
        rt.block_on(rt.spawn(async move {
            let args = json!({"text": "hi"});
            for _ in 0..1000 {
                client.call_tool("echo", &args).await.expect("call");
            }
        }))
        .expect("task")
    });
}

#[divan::bench]
fn client_sequential_current_thread(bencher: Bencher) {
    // The same from a single-threaded runtime (`#[tokio::main(flavor =
    // "current_thread")]`, a bot's usual shape): the reader task and the
    // caller share a thread, so a reply costs one wake-up, as in the bare
    // loop.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = connect(&rt);
    bencher.counter(ItemsCount::new(1000usize)).bench_local(|| {
        rt.block_on(async {
            let args = json!({"text": "hi"});
            for _ in 0..1000 {
                client.call_tool("echo", &args).await.expect("call");
            }
        })
    });
}

#[divan::bench]
fn client_concurrent_32(bencher: Bencher) {
    let rt = runtime();
    let client = connect(&rt);
    bencher
        .counter(ItemsCount::new(32usize * 64))
        .bench_local(|| {
            rt.block_on(async {
                let tasks: Vec<_> = (0..32)
                    .map(|_| {
                        let client = client.clone();
                        tokio::spawn(async move {
                            let args = json!({"text": "hi"});
                            for _ in 0..64 {
                                client.call_tool("echo", &args).await.expect("call");
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.expect("task");
                }
            })
        });
}

fn connect_memory(rt: &tokio::runtime::Runtime, choice: switchboard::VersionChoice) -> Client {
    rt.block_on(
        Client::builder(Source::memory(switchboard::testing::demo_server()))
            .protocol(choice)
            .connect(),
    )
    .expect("connect to the in-process demo server")
}

fn memory_sequential_in(bencher: Bencher, choice: switchboard::VersionChoice) {
    let rt = runtime();
    let client = connect_memory(&rt, choice);
    bencher.counter(ItemsCount::new(1000usize)).bench_local(|| {
        let client = client.clone();
        rt.block_on(rt.spawn(async move {
            let args = json!({"text": "hi"});
            for _ in 0..1000 {
                client.call_tool("echo", &args).await.expect("call");
            }
        }))
        .expect("task")
    });
}

#[divan::bench]
fn memory_sequential(bencher: Bencher) {
    memory_sequential_in(bencher, switchboard::VersionChoice::Auto);
}

#[divan::bench]
fn memory_sequential_handshake(bencher: Bencher) {
    memory_sequential_in(
        bencher,
        switchboard::VersionChoice::Exact(switchboard::ProtocolVersion::V2025_11_25),
    );
}

#[divan::bench]
fn memory_concurrent_32(bencher: Bencher) {
    let rt = runtime();
    let client = connect_memory(&rt, switchboard::VersionChoice::Auto);
    bencher
        .counter(ItemsCount::new(32usize * 64))
        .bench_local(|| {
            rt.block_on(async {
                let tasks: Vec<_> = (0..32)
                    .map(|_| {
                        let client = client.clone();
                        tokio::spawn(async move {
                            let args = json!({"text": "hi"});
                            for _ in 0..64 {
                                client.call_tool("echo", &args).await.expect("call");
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.expect("task");
                }
            })
        });
}
