//! The fleet's router: a burst of `list_changed` costs one debounced
//! refetch and the next `list_tools` is served warm; a list call during the
//! debounce window still sees the change; adding and removing servers
//! republishes names at once; membership churn under concurrent list calls
//! never shows a torn picture or leaves a removed server's names behind.
//!
//! The server is the in-process test server (handshake era), seen through a
//! small relay that counts its `tools/list` requests and, once told to, adds
//! a tool to its answers (as a server that registered one would).

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use serde_json::{json, Value};
use switchboard::session::{ListKind, MessageHandler};
use switchboard::testing::{demo_builder, demo_server, Eras, Fault, TestServer};
use switchboard::transport::{InProcessServer, ServerEnd};
use switchboard::{Client, Fleet, Member, ProtocolVersion, Source, VersionChoice};
use tokio::sync::mpsc;

/// The test server behind a relay that counts `tools/list` and can grow
/// the list by one tool, `fresh`.
#[derive(Clone)]
struct Relay {
    server: TestServer,
    lists: Arc<AtomicUsize>,
    grown: Arc<AtomicBool>,
}

impl Relay {
    fn new() -> Self {
        Relay::of(demo_builder().eras(Eras::HandshakeOnly).build())
    }

    fn of(server: TestServer) -> Self {
        Relay {
            server,
            lists: Arc::new(AtomicUsize::new(0)),
            grown: Arc::new(AtomicBool::new(false)),
        }
    }

    fn lists(&self) -> usize {
        self.lists.load(Ordering::SeqCst)
    }

    /// Waits until `tools/list` was asked `n` times (or the deadline).
    async fn wait_lists(&self, n: usize, deadline: Duration) -> bool {
        let start = Instant::now();
        while start.elapsed() < deadline {
            if self.lists() >= n {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.lists() >= n
    }
}

impl InProcessServer for Relay {
    fn serve(&self, end: ServerEnd) -> BoxFuture<'static, ()> {
        let (to_server, server_in) = mpsc::channel::<Bytes>(64);
        let (server_out, mut from_server) = mpsc::channel::<Bytes>(64);
        let serving = self.server.serve_end(ServerEnd {
            incoming: server_in,
            outgoing: server_out,
        });
        let ServerEnd {
            mut incoming,
            outgoing,
        } = end;
        let (lists, grown) = (self.lists.clone(), self.grown.clone());
        let asked = Arc::new(Mutex::new(HashSet::<String>::new()));
        let asked2 = asked.clone();
        let up = async move {
            while let Some(frame) = incoming.recv().await {
                if let Ok(msg) = serde_json::from_slice::<Value>(&frame) {
                    if msg["method"] == "tools/list" {
                        lists.fetch_add(1, Ordering::SeqCst);
                        asked.lock().unwrap().insert(msg["id"].to_string());
                    }
                }
                if to_server.send(frame).await.is_err() {
                    break;
                }
            }
        };
        let down = async move {
            while let Some(mut frame) = from_server.recv().await {
                if let Ok(mut msg) = serde_json::from_slice::<Value>(&frame) {
                    let id = msg["id"].to_string();
                    if grown.load(Ordering::SeqCst) && asked2.lock().unwrap().remove(&id) {
                        if let Some(tools) = msg["result"]["tools"].as_array_mut() {
                            tools.push(json!({
                                "name": "fresh",
                                "description": "registered at runtime",
                                "inputSchema": {"type": "object"},
                            }));
                            frame = Bytes::from(serde_json::to_vec(&msg).unwrap());
                        }
                    }
                }
                if outgoing.send(frame).await.is_err() {
                    break;
                }
            }
        };
        Box::pin(async move {
            tokio::join!(serving, up, down);
        })
    }
}

/// Counts the `list_changed` notifications the fleet's clients heard.
#[derive(Clone, Default)]
struct Heard(Arc<AtomicUsize>);

impl MessageHandler for Heard {
    fn on_list_changed(&self, _server: &str, _list: ListKind) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

impl Heard {
    async fn wait(&self, n: usize, deadline: Duration) -> bool {
        let start = Instant::now();
        while self.0.load(Ordering::SeqCst) < n && start.elapsed() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.0.load(Ordering::SeqCst) >= n
    }
}

async fn fleet_of(relay: &Relay, debounce: Duration, heard: Heard) -> Fleet {
    let relay = relay.clone();
    Fleet::builder()
        .member(Member::new("dyn", move || {
            Client::builder(Source::memory(relay.clone()))
        }))
        .message_handler(heard)
        .list_debounce(debounce)
        .build()
        .await
        .unwrap()
}

fn names(tools: &[switchboard::protocol::Tool]) -> Vec<&str> {
    tools.iter().map(|t| t.name.as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_list_changed_costs_one_refetch_and_the_next_list_is_warm() {
    common::bounded(async {
        let relay = Relay::new();
        let debounce = Duration::from_millis(300);
        let heard = Heard::default();
        let fleet = fleet_of(&relay, debounce, heard.clone()).await;
        let tools = fleet.list_tools().await;
        assert!(names(&tools).contains(&"dyn_add"), "{:?}", names(&tools));
        assert!(!names(&tools).contains(&"dyn_fresh"));
        let before = relay.lists();
        assert!(before >= 1);
        // Served from the snapshot: no new request.
        fleet.list_tools().await;
        assert_eq!(relay.lists(), before);

        // The server registers a tool and says so, many times over.
        relay.grown.store(true, Ordering::SeqCst);
        let burst = Instant::now();
        for _ in 0..20 {
            relay.server.notify_tools_changed();
        }
        tokio::time::sleep(debounce / 3).await;
        if burst.elapsed() < debounce {
            assert_eq!(relay.lists(), before, "the refetch waits for the window");
        }
        assert!(
            relay.wait_lists(before + 1, Duration::from_secs(5)).await,
            "the router refetched on its own"
        );
        assert!(
            burst.elapsed() >= debounce,
            "not before the debounce window closed"
        );
        // Exactly one refetch for the whole burst, every one of which the
        // client heard.
        assert!(heard.wait(20, Duration::from_secs(5)).await);
        tokio::time::sleep(debounce * 2).await;
        assert_eq!(relay.lists(), before + 1);

        // The next list is warm: it has the new tool and asks nothing.
        let tools = fleet.list_tools().await;
        assert!(names(&tools).contains(&"dyn_fresh"), "{:?}", names(&tools));
        assert_eq!(relay.lists(), before + 1, "served from the snapshot");
        assert_eq!(
            fleet.resolve_tool("dyn_fresh"),
            Some(("dyn".into(), "fresh".into()))
        );

        // A later change starts another cycle.
        relay.grown.store(false, Ordering::SeqCst);
        relay.server.notify_tools_changed();
        assert!(relay.wait_lists(before + 2, Duration::from_secs(5)).await);
        tokio::time::sleep(debounce).await;
        let tools = fleet.list_tools().await;
        assert!(!names(&tools).contains(&"dyn_fresh"));
        assert_eq!(relay.lists(), before + 2);
        fleet.close().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_list_call_during_the_debounce_window_sees_the_change() {
    common::bounded(async {
        let relay = Relay::new();
        let debounce = Duration::from_secs(2);
        let heard = Heard::default();
        let fleet = fleet_of(&relay, debounce, heard.clone()).await;
        fleet.list_tools().await;
        let before = relay.lists();

        relay.grown.store(true, Ordering::SeqCst);
        for _ in 0..5 {
            relay.server.notify_tools_changed();
        }
        // The notifications are in flight: wait until the client heard
        // them (the list call below must not race the relay).
        assert!(heard.wait(5, Duration::from_secs(5)).await);
        tokio::time::sleep(Duration::from_millis(20)).await;
        let t = Instant::now();
        let tools = fleet.list_tools().await;
        assert!(
            t.elapsed() < debounce / 2,
            "a list call does not wait out the window"
        );
        assert!(names(&tools).contains(&"dyn_fresh"), "{:?}", names(&tools));
        assert_eq!(relay.lists(), before + 1, "fetched by the list call");

        // The pending refetch finds nothing left to do.
        tokio::time::sleep(debounce + Duration::from_millis(500)).await;
        assert_eq!(relay.lists(), before + 1);
        fleet.close().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn adding_and_removing_servers_republishes_names() {
    common::bounded(async {
        let fleet = Fleet::new([Member::new("a", || {
            Client::builder(Source::memory(demo_server()))
        })])
        .await
        .unwrap();
        assert!(names(&fleet.list_tools().await).contains(&"a_add"));
        fleet
            .add_server(Member::new("b", || {
                Client::builder(Source::memory(demo_server()))
            }))
            .await
            .unwrap();
        assert_eq!(fleet.server_names(), ["a", "b"]);
        assert_eq!(fleet.health().len(), 2);
        let tools = fleet.list_tools().await;
        assert!(names(&tools).contains(&"b_add") && names(&tools).contains(&"a_add"));
        assert_eq!(
            fleet.resolve_tool("b_add"),
            Some(("b".into(), "add".into()))
        );

        fleet.remove_server("b").await.unwrap();
        // Gone at once, without another list call.
        assert_eq!(fleet.resolve_tool("b_add"), None);
        assert_eq!(fleet.server_names(), ["a"]);
        let tools = fleet.list_tools().await;
        assert!(!tools.iter().any(|t| t.name.starts_with("b_")));
        assert!(fleet.remove_server("b").await.is_err());

        // Re-added under the same name: a new server, same names.
        fleet
            .add_server(Member::new("b", || {
                Client::builder(Source::memory(demo_server()))
            }))
            .await
            .unwrap();
        assert!(names(&fleet.list_tools().await).contains(&"b_echo"));
        let out = fleet
            .call_tool("b_echo", json!({"text": "again"}))
            .await
            .unwrap();
        assert_eq!(out.text(), "again");
        fleet.close().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn membership_churn_under_list_calls_never_shows_a_torn_picture() {
    common::bounded(async {
        let fleet = Fleet::new([Member::new("base", || {
            Client::builder(Source::memory(demo_server()))
        })])
        .await
        .unwrap();
        let full = fleet.list_tools().await.len();
        assert!(full >= 2);

        let churn = {
            let fleet = fleet.clone();
            tokio::spawn(async move {
                for i in 0..40 {
                    let name = format!("x{}", i % 4);
                    fleet
                        .add_server(Member::new(name.clone(), || {
                            Client::builder(Source::memory(demo_server()))
                        }))
                        .await
                        .unwrap();
                    tokio::task::yield_now().await;
                    fleet.remove_server(&name).await.unwrap();
                }
            })
        };
        let mut lists = 0;
        while !churn.is_finished() {
            let tools = fleet.list_tools().await;
            lists += 1;
            let mut per_server: HashMap<&str, usize> = HashMap::new();
            let mut seen = HashSet::new();
            for t in &tools {
                assert!(seen.insert(t.name.as_str()), "duplicate {}", t.name);
                let server = t.name.split('_').next().unwrap();
                *per_server.entry(server).or_default() += 1;
            }
            assert_eq!(per_server.get("base"), Some(&full), "{per_server:?}");
            for (server, n) in &per_server {
                assert_eq!(*n, full, "{server} is listed in part: {per_server:?}");
            }
            let names = fleet.server_names();
            assert!(names.contains(&"base".to_string()));
        }
        churn.await.unwrap();
        assert!(lists > 0);
        // Nothing of the removed servers is left behind.
        assert_eq!(fleet.server_names(), ["base"]);
        for i in 0..4 {
            assert_eq!(fleet.resolve_tool(&format!("x{i}_add")), None);
        }
        let tools = fleet.list_tools().await;
        assert_eq!(tools.len(), full);
        fleet.close().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refetch_due_after_close_never_brings_a_real_server_back() {
    common::bounded(async {
        let marker = common::marker("router-close");
        let m = marker.clone();
        let fleet = Fleet::builder()
            .member(Member::new("fast", move || {
                common::fastmcp(&m).protocol(VersionChoice::Exact(ProtocolVersion::V2025_11_25))
            }))
            .list_debounce(Duration::from_millis(200))
            .build()
            .await
            .unwrap();
        assert!(names(&fleet.list_tools().await).contains(&"fast_announce"));
        // FastMCP sends `tools/list_changed` before the reply: a refetch is
        // due when the fleet closes.
        let out = fleet
            .call_tool("fast_announce", json!({"uri": "data://greeting"}))
            .await
            .unwrap();
        assert_eq!(out.text(), "announced: data://greeting");
        fleet.close().await.unwrap();
        tokio::time::sleep(Duration::from_millis(600)).await;
        common::assert_no_process(&marker, Duration::from_secs(5)).await;
        assert!(
            !fleet.list_tools().await.is_empty(),
            "a list call restarts it"
        );
        fleet.close().await.unwrap();
        common::assert_no_process(&marker, Duration::from_secs(10)).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_server_is_listed_afresh_though_it_said_nothing() {
    common::bounded(async {
        let relay = Relay::of(
            demo_builder()
                .eras(Eras::HandshakeOnly)
                .tool_fault_times("echo", Fault::CloseConnection, 1)
                .build(),
        );
        let fleet = fleet_of(&relay, Duration::from_millis(50), Heard::default()).await;
        assert!(!names(&fleet.list_tools().await).contains(&"dyn_fresh"));
        let before = relay.lists();
        fleet.list_tools().await;
        assert_eq!(relay.lists(), before, "warm");

        // The server dies mid-call and comes back with one more tool,
        // without a list_changed.
        relay.grown.store(true, Ordering::SeqCst);
        assert!(fleet
            .call_tool("dyn_echo", json!({"text": "boom"}))
            .await
            .is_err());
        let start = Instant::now();
        while !(fleet.health()[0].restarts >= 1 && fleet.health()[0].state == "ready") {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{:?}",
                fleet.health()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let tools = fleet.list_tools().await;
        assert!(names(&tools).contains(&"dyn_fresh"), "{:?}", names(&tools));
        assert_eq!(relay.lists(), before + 1);
        fleet.list_tools().await;
        assert_eq!(relay.lists(), before + 1, "warm again");
        fleet.close().await.unwrap();
    })
    .await
}
