//! The in-memory transport against the built-in testing server, in both
//! eras: negotiation, every operation, server asks answered through the
//! handlers (pushed requests in the handshake era, input-required rounds in
//! 2026-07-28), pagination, deadlines, cancellation and injected faults.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use switchboard::protocol::{
    CreateMessageResult, ElicitRequestParams, ElicitResult, Era, LoggingLevel, ProtocolVersion,
    VersionChoice,
};
use switchboard::testing::{demo_builder, demo_server, Eras, Fault, TestServer};
use switchboard::{CallOptions, Client, ClientBuilder, Error, HandlerError, Source};

const ERAS: [(VersionChoice, Era); 2] = [
    (VersionChoice::Auto, Era::Modern),
    (
        VersionChoice::Exact(ProtocolVersion::V2025_11_25),
        Era::Handshake,
    ),
];

fn builder(server: TestServer, version: VersionChoice) -> ClientBuilder {
    Client::builder(Source::memory(server))
        .protocol(version)
        .timeout(Duration::from_secs(5))
}

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("test exceeded its deadline")
}

#[tokio::test]
async fn negotiates_each_era_as_asked() {
    within(async {
        let cases = [
            (
                Eras::Both,
                VersionChoice::Auto,
                ProtocolVersion::V2026_07_28,
            ),
            (
                Eras::HandshakeOnly,
                VersionChoice::Auto,
                ProtocolVersion::V2025_11_25,
            ),
            (
                Eras::Both,
                VersionChoice::Exact(ProtocolVersion::V2025_06_18),
                ProtocolVersion::V2025_06_18,
            ),
            (
                Eras::ModernOnly,
                VersionChoice::Exact(ProtocolVersion::V2026_07_28),
                ProtocolVersion::V2026_07_28,
            ),
        ];
        for (eras, choice, expected) in cases {
            let client = builder(demo_builder().eras(eras).build(), choice)
                .connect()
                .await
                .unwrap();
            assert_eq!(
                client.protocol_version(),
                Some(expected),
                "{eras:?} {choice:?}"
            );
            assert_eq!(client.server_info().unwrap().name, "switchboard-demo");
            assert!(client.instructions().unwrap().contains("demo server"));
            assert!(client.capabilities().unwrap().has_tools());
            client.close().await.unwrap();
        }
        // A handshake-only client against a modern-only server fails clearly.
        let err = builder(
            demo_builder().eras(Eras::ModernOnly).build(),
            VersionChoice::Exact(ProtocolVersion::V2025_11_25),
        )
        .connect()
        .await
        .unwrap_err();
        assert!(
            matches!(
                err,
                Error::Protocol { .. } | Error::UnsupportedVersion { .. }
            ),
            "{err:?}"
        );
    })
    .await
}

#[tokio::test]
async fn every_operation_works_in_both_eras() {
    within(async {
        for (choice, era) in ERAS {
            let client = builder(demo_server(), choice).connect().await.unwrap();
            assert_eq!(client.era(), Some(era));

            let tools = client.list_tools().await.unwrap();
            let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
            assert_eq!(
                names,
                [
                    "echo",
                    "add",
                    "slow",
                    "summarize",
                    "confirm",
                    "roots",
                    "log"
                ]
            );
            assert!(tools[1].output_schema.is_some());

            let echo = client
                .call_tool("echo", json!({"text": "hi there"}))
                .await
                .unwrap();
            assert_eq!(echo.text(), "hi there");
            assert!(!echo.is_error());

            #[derive(serde::Deserialize)]
            struct Sum {
                sum: f64,
            }
            let sum: Sum = client
                .call_tool("add", json!({"a": 1.5, "b": 2}))
                .await
                .unwrap()
                .data()
                .unwrap();
            assert_eq!(sum.sum, 3.5);

            let resources = client.list_resources().await.unwrap();
            assert_eq!(resources.len(), 2);
            let config = client.read_resource("config://app").await.unwrap();
            assert_eq!(
                config.contents[0].as_text(),
                Some("mode = demo\nretries = 3\n")
            );
            let logo = client.read_resource("data://logo.png").await.unwrap();
            assert!(logo.contents[0].as_blob().is_some_and(|b| !b.is_empty()));
            let templates = client.list_resource_templates().await.unwrap();
            assert_eq!(templates[0].uri_template, "greet://{name}");
            let hello = client.read_resource("greet://Ada").await.unwrap();
            assert_eq!(hello.contents[0].as_text(), Some("Hello, Ada!"));
            let missing = client.read_resource("nope://x").await.unwrap_err();
            let expected_code = if era == Era::Modern { -32602 } else { -32002 };
            assert_eq!(missing.code(), Some(expected_code), "{missing:?}");

            let prompts = client.list_prompts().await.unwrap();
            assert_eq!(prompts.len(), 2);
            let review = client
                .get_prompt("review", json!({"code": "fn x() {}"}))
                .await
                .unwrap();
            assert!(serde_json::to_string(&review.messages)
                .unwrap()
                .contains("fn x() {}"));
            let err = client.get_prompt("review", json!({})).await.unwrap_err();
            assert_eq!(
                err.code(),
                Some(-32602),
                "a missing required argument is invalid params"
            );

            let completion = client
                .complete(
                    json!({"type": "ref/resource", "uri": "greet://{name}"}),
                    "name",
                    "A",
                    None,
                )
                .await
                .unwrap();
            assert_eq!(completion.completion.values, ["Ada", "Alan"]);

            client.ping().await.unwrap();
            let unknown = client
                .call_tool("no-such-tool", json!({}))
                .await
                .unwrap_err();
            assert_eq!(unknown.code(), Some(-32602));
            client.close().await.unwrap();
            assert!(client.is_closed());
            let after = client
                .call_tool("echo", json!({"text": "x"}))
                .await
                .unwrap_err();
            assert!(after.is_connection_lost(), "{after:?}");
        }
    })
    .await
}

#[tokio::test]
async fn server_asks_are_answered_by_the_same_handlers_in_both_eras() {
    within(async {
        for (choice, era) in ERAS {
            let sampled = Arc::new(AtomicUsize::new(0));
            let eras_seen = Arc::new(Mutex::new(Vec::new()));
            let (s, e) = (sampled.clone(), eras_seen.clone());
            let client = builder(demo_server(), choice)
                .sampling(
                    move |params: switchboard::protocol::CreateMessageRequestParams,
                          ctx: switchboard::RequestContext| {
                        s.fetch_add(1, Ordering::SeqCst);
                        e.lock().unwrap().push(ctx.era);
                        let asked = serde_json::to_string(&params.messages).unwrap();
                        async move {
                            assert!(asked.contains("Summarize"));
                            Ok(CreateMessageResult::text("test-model", "a summary"))
                        }
                    },
                )
                .elicitation(
                    |params: ElicitRequestParams, _ctx: switchboard::RequestContext| async move {
                        assert!(params.message().contains("Really ship?"));
                        Ok(ElicitResult::accept(serde_json::Map::from_iter([(
                            "confirm".to_string(),
                            json!(true),
                        )])))
                    },
                )
                .roots(["file:///work/a", "file:///work/b"])
                .connect()
                .await
                .unwrap();
            let summary = client
                .call_tool("summarize", json!({"text": "long text"}))
                .await
                .unwrap();
            assert_eq!(summary.text(), "a summary");
            assert_eq!(sampled.load(Ordering::SeqCst), 1, "one ask, one answer");
            assert_eq!(*eras_seen.lock().unwrap(), [era]);
            let confirm = client
                .call_tool("confirm", json!({"action": "ship"}))
                .await
                .unwrap();
            assert_eq!(confirm.text(), "ship: confirmed");
            let roots = client.call_tool("roots", json!({})).await.unwrap();
            let uris: Vec<&str> = roots.structured().unwrap()["roots"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["uri"].as_str().unwrap())
                .collect();
            assert_eq!(uris, ["file:///work/a", "file:///work/b"]);
            client.close().await.unwrap();
        }
    })
    .await
}

#[tokio::test]
async fn refused_asks_surface_as_errors_not_hangs() {
    within(async {
        // 2026-07-28: the call cannot go on without the answer.
        let client = builder(demo_server(), VersionChoice::Auto)
            .sampling(|_p, _c| async { Err(HandlerError::rejected("no model here")) })
            .connect()
            .await
            .unwrap();
        let err = client
            .call_tool("summarize", json!({"text": "x"}))
            .await
            .unwrap_err();
        match err {
            Error::InputDeclined {
                request, message, ..
            } => {
                assert_eq!(request, "sampling/createMessage");
                assert!(message.contains("no model here"));
            }
            other => panic!("expected InputDeclined, got {other:?}"),
        }
        // Without a handler we never declare the capability; the server says so.
        let bare = builder(demo_server(), VersionChoice::Auto)
            .connect()
            .await
            .unwrap();
        let err = bare
            .call_tool("summarize", json!({"text": "x"}))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(-32021), "{err:?}");
        // Handshake era: the refusal goes back to the server as a JSON-RPC
        // error and the tool reports it.
        let legacy = builder(
            demo_server(),
            VersionChoice::Exact(ProtocolVersion::V2025_11_25),
        )
        .sampling(|_p, _c| async { Err(HandlerError::rejected("no model here")) })
        .connect()
        .await
        .unwrap();
        let out = legacy.call_tool("summarize", json!({"text": "x"})).await;
        match out {
            Ok(out) => assert!(
                out.is_error() && out.text().contains("no model here"),
                "{out:?}"
            ),
            Err(e) => assert_eq!(e.code(), Some(-1), "{e:?}"),
        }
    })
    .await
}

#[tokio::test]
async fn progress_resets_the_idle_deadline_and_logs_arrive() {
    within(async {
        for (choice, _era) in ERAS {
            let logs = Arc::new(Mutex::new(Vec::new()));
            let l = logs.clone();
            let client = builder(demo_server(), choice)
                .timeout(Duration::from_millis(300))
                .on_log(move |m| l.lock().unwrap().push(m.level))
                .connect()
                .await
                .unwrap();
            let seen = Arc::new(Mutex::new(Vec::new()));
            let s = seen.clone();
            // 5 steps of 150 ms: 750 ms in all, more than twice the idle
            // deadline, but progress keeps it alive.
            let out = client
                .call_tool_with(
                    "slow",
                    json!({"steps": 5, "ms": 150}),
                    CallOptions::new().on_progress(move |p| s.lock().unwrap().push(p.progress)),
                )
                .await
                .unwrap();
            assert_eq!(out.text(), "done after 5 steps");
            assert_eq!(*seen.lock().unwrap(), [1.0, 2.0, 3.0, 4.0, 5.0]);
            // The hard cap still applies.
            let err = client
                .call_tool_with(
                    "slow",
                    json!({"steps": 5, "ms": 150}),
                    CallOptions::new().max_time(Duration::from_millis(400)),
                )
                .await
                .unwrap_err();
            assert!(matches!(err, Error::Timeout { .. }), "{err:?}");

            client.set_log_level(LoggingLevel::Warning).await.unwrap();
            client
                .call_tool("log", json!({"message": "m"}))
                .await
                .unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            assert_eq!(
                *logs.lock().unwrap(),
                [LoggingLevel::Warning],
                "only warning and above after set_log_level"
            );
        }
    })
    .await
}

#[tokio::test]
async fn lists_follow_every_page() {
    within(async {
        for (choice, _) in ERAS {
            let client = builder(demo_builder().page_size(2).build(), choice)
                .connect()
                .await
                .unwrap();
            assert_eq!(client.list_tools().await.unwrap().len(), 7);
            assert_eq!(client.list_prompts().await.unwrap().len(), 2);
            let capped = builder(demo_builder().page_size(2).build(), choice)
                .max_pages(2)
                .connect()
                .await
                .unwrap();
            let err = capped.list_tools().await.unwrap_err();
            assert!(err.to_string().contains("more than 2 pages"), "{err}");
        }
    })
    .await
}

fn faulty(fault: Fault) -> TestServer {
    demo_builder().tool_fault("echo", fault).build()
}

#[tokio::test]
async fn faults_give_typed_errors_within_the_deadline() {
    within(async {
        for (choice, _) in ERAS {
            let timeout = Duration::from_millis(300);
            // Never answers: Timeout, and the connection stays usable.
            let client = builder(faulty(Fault::Hang), choice)
                .timeout(timeout)
                .connect()
                .await
                .unwrap();
            let t = Instant::now();
            let err = client
                .call_tool("echo", json!({"text": "x"}))
                .await
                .unwrap_err();
            assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
            assert!(t.elapsed() < timeout + Duration::from_millis(500));
            assert_eq!(
                client
                    .call_tool("add", json!({"a": 1, "b": 1}))
                    .await
                    .unwrap()
                    .structured()
                    .unwrap()["sum"],
                json!(2.0)
            );

            // A per-call hard cap shorter than the idle deadline wins.
            let t = Instant::now();
            let err = client
                .call_tool_with(
                    "echo",
                    json!({"text": "x"}),
                    CallOptions::new().max_time(Duration::from_millis(100)),
                )
                .await
                .unwrap_err();
            assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
            assert!(
                t.elapsed() < Duration::from_millis(280),
                "{:?}",
                t.elapsed()
            );

            // Garbage: Timeout whose hint says what was seen.
            let client = builder(faulty(Fault::Garbage), choice)
                .timeout(timeout)
                .connect()
                .await
                .unwrap();
            match client
                .call_tool("echo", json!({"text": "x"}))
                .await
                .unwrap_err()
            {
                Error::Timeout { hint: Some(h), .. } => assert!(h.contains("non-JSON-RPC"), "{h}"),
                other => panic!("{other:?}"),
            }

            // A reply under the wrong id.
            let client = builder(faulty(Fault::WrongId), choice)
                .timeout(timeout)
                .connect()
                .await
                .unwrap();
            match client
                .call_tool("echo", json!({"text": "x"}))
                .await
                .unwrap_err()
            {
                Error::Timeout { hint: Some(h), .. } => {
                    assert!(h.contains("ids nobody asked for"), "{h}")
                }
                other => panic!("{other:?}"),
            }

            // Oversized: a typed error at once, not a timeout.
            let client = builder(faulty(Fault::Oversized(256 * 1024)), choice)
                .max_message_size(64 * 1024)
                .timeout(Duration::from_secs(5))
                .connect()
                .await
                .unwrap();
            let t = Instant::now();
            let err = client
                .call_tool("echo", json!({"text": "x"}))
                .await
                .unwrap_err();
            assert!(
                matches!(err, Error::MessageTooLarge { limit: 65536, .. }),
                "{err:?}"
            );
            assert!(t.elapsed() < Duration::from_secs(2));
            client
                .call_tool("add", json!({"a": 1, "b": 2}))
                .await
                .unwrap();

            // The server vanishes mid-call: ConnectionClosed at once.
            let client = builder(faulty(Fault::CloseConnection), choice)
                .timeout(Duration::from_secs(5))
                .connect()
                .await
                .unwrap();
            let t = Instant::now();
            let err = client
                .call_tool("echo", json!({"text": "x"}))
                .await
                .unwrap_err();
            assert!(matches!(err, Error::ConnectionClosed { .. }), "{err:?}");
            assert!(t.elapsed() < Duration::from_secs(2));
            assert!(client
                .call_tool("add", json!({"a": 1, "b": 2}))
                .await
                .unwrap_err()
                .is_connection_lost());
        }
    })
    .await
}

#[tokio::test]
async fn a_caller_that_gives_up_cancels_the_request() {
    within(async {
        let client = builder(faulty(Fault::Hang), VersionChoice::Auto)
            .connect()
            .await
            .unwrap();
        let call = client.call_tool("echo", json!({"text": "x"}));
        assert!(tokio::time::timeout(Duration::from_millis(100), call)
            .await
            .is_err());
        // The abandoned call no longer occupies the connection...
        let out = client
            .call_tool("add", json!({"a": 2, "b": 2}))
            .await
            .unwrap();
        assert_eq!(out.structured().unwrap()["sum"], json!(4.0));
    })
    .await
}

#[tokio::test]
async fn manual_initialize_with_its_own_deadline() {
    within(async {
        let client = builder(demo_server(), VersionChoice::Auto)
            .auto_initialize(false)
            .connect()
            .await
            .unwrap();
        assert!(client.server_info().is_none());
        assert!(matches!(
            client.list_tools().await.unwrap_err(),
            Error::NotConnected(_)
        ));
        client
            .initialize_with_timeout(Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(
            client.protocol_version(),
            Some(ProtocolVersion::V2026_07_28)
        );
        assert_eq!(client.list_tools().await.unwrap().len(), 7);
        // A server that never answers the handshake: the caller's deadline wins.
        let silent = builder(
            demo_builder()
                .method_fault("server/discover", Fault::Hang)
                .method_fault("initialize", Fault::Hang)
                .build(),
            VersionChoice::Auto,
        )
        .auto_initialize(false)
        .connect()
        .await
        .unwrap();
        let t = Instant::now();
        let err = silent
            .initialize_with_timeout(Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
        assert!(t.elapsed() < Duration::from_secs(1));
    })
    .await
}

#[tokio::test]
async fn many_concurrent_calls_share_one_client() {
    within(async {
        for (choice, _) in ERAS {
            let client = builder(demo_server(), choice).connect().await.unwrap();
            let calls = (0..64).map(|i| {
                let client = client.clone();
                tokio::spawn(async move {
                    let out = client
                        .call_tool("echo", json!({"text": format!("n{i}")}))
                        .await
                        .unwrap();
                    assert_eq!(out.text(), format!("n{i}"));
                })
            });
            for c in calls.collect::<Vec<_>>() {
                c.await.unwrap();
            }
            // The raw request path still works after the burst.
            let _: Value = client.request("tools/list", json!({})).await.unwrap();
        }
    })
    .await
}

#[tokio::test]
async fn changed_roots_are_what_the_server_sees_next() {
    within(async {
        for (choice, _) in ERAS {
            let client = builder(demo_server(), choice)
                .roots(["file:///old"])
                .connect()
                .await
                .unwrap();
            let before = client.call_tool("roots", json!({})).await.unwrap();
            assert_eq!(
                before.structured().unwrap()["roots"],
                json!([{"uri": "file:///old"}])
            );
            client
                .set_roots(["file:///new/a", "file:///new/b"])
                .await
                .unwrap();
            let after = client.call_tool("roots", json!({})).await.unwrap();
            assert_eq!(
                after.structured().unwrap()["roots"],
                json!([{"uri": "file:///new/a"}, {"uri": "file:///new/b"}])
            );
        }
        let without = builder(demo_server(), VersionChoice::Auto)
            .connect()
            .await
            .unwrap();
        assert!(matches!(
            without.set_roots(["file:///x"]).await,
            Err(Error::InvalidArgument(_))
        ));
    })
    .await
}

/// 2026-07-28: the acknowledgement is compared with what was asked. A URI
/// the server cannot serve is left out of the agreed subset; the client
/// reports it as omitted and keeps the rest of the subscription working.
#[tokio::test]
async fn subscription_acknowledgement_is_compared_with_the_request() {
    within(async {
        let server = demo_server();
        let updates = Arc::new(Mutex::new(Vec::<String>::new()));
        let u = updates.clone();
        let client = builder(server.clone(), VersionChoice::Auto)
            .on_notification(move |n| {
                if n.method == "notifications/resources/updated" {
                    u.lock()
                        .unwrap()
                        .push(n.params["uri"].as_str().unwrap_or("").to_owned());
                }
            })
            .connect()
            .await
            .unwrap();
        assert_eq!(client.era(), Some(Era::Modern));
        client.subscribe_resource("config://app").await.unwrap();
        client
            .subscribe_resource("nowhere://unknown")
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(5);
        let subscription = loop {
            let s = client.subscription().expect("a subscription");
            if s.agreed.is_some() {
                break s;
            }
            assert!(Instant::now() < deadline, "never acknowledged: {s:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        let mut requested = subscription.requested.resource_subscriptions.clone();
        requested.sort();
        assert_eq!(requested, ["config://app", "nowhere://unknown"]);
        let agreed = subscription.agreed.clone().unwrap();
        assert_eq!(agreed.resource_subscriptions, ["config://app"]);
        let omitted = subscription.omitted();
        assert_eq!(omitted.resource_subscriptions, ["nowhere://unknown"]);
        assert!(!omitted.tools_list_changed && !omitted.prompts_list_changed);
        // What was agreed still works.
        server.notify_resource_updated("config://app");
        let deadline = Instant::now() + Duration::from_secs(5);
        while !updates.lock().unwrap().iter().any(|u| u == "config://app") {
            assert!(
                Instant::now() < deadline,
                "the agreed subscription delivered nothing"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Handshake era: no listen, no subscription state.
        let handshake = builder(server, VersionChoice::Exact(ProtocolVersion::V2025_11_25))
            .connect()
            .await
            .unwrap();
        handshake.subscribe_resource("config://app").await.unwrap();
        assert_eq!(handshake.subscription(), None);
    })
    .await;
}

#[tokio::test]
async fn change_notifications_arrive_in_both_eras() {
    within(async {
        for (choice, era) in ERAS {
            let server = demo_server();
            let seen = Arc::new(Mutex::new(Vec::<(String, Value)>::new()));
            let s = seen.clone();
            let client = builder(server.clone(), choice)
                .on_notification(move |n| {
                    s.lock().unwrap().push((n.method.clone(), n.params.clone()))
                })
                .connect()
                .await
                .unwrap();
            client.subscribe_resource("config://app").await.unwrap();
            // Let the subscription settle (2026-07-28: the listen is acknowledged).
            tokio::time::sleep(Duration::from_millis(50)).await;
            server.notify_tools_changed();
            server.notify_resource_updated("config://app");
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                let methods: Vec<String> = seen
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|(m, _)| m.clone())
                    .collect();
                if methods
                    .iter()
                    .any(|m| m == "notifications/tools/list_changed")
                    && methods
                        .iter()
                        .any(|m| m == "notifications/resources/updated")
                {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{era:?}: notifications missing: {methods:?}"
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let updated = seen
                .lock()
                .unwrap()
                .iter()
                .find(|(m, _)| m == "notifications/resources/updated")
                .map(|(_, p)| p["uri"].clone());
            assert_eq!(updated, Some(json!("config://app")));
            if era == Era::Modern {
                // Delivered through the listen: tagged with its subscription id.
                let tagged = seen.lock().unwrap().iter().any(|(m, p)| {
                    m == "notifications/tools/list_changed"
                        && p.pointer("/_meta/io.modelcontextprotocol~1subscriptionId")
                            .is_some()
                });
                assert!(tagged, "{:?}", seen.lock().unwrap());
            }
            // Unsubscribed: no more updates for that URI.
            client.unsubscribe_resource("config://app").await.unwrap();
            tokio::time::sleep(Duration::from_millis(50)).await;
            let before = seen.lock().unwrap().len();
            server.notify_resource_updated("config://app");
            tokio::time::sleep(Duration::from_millis(100)).await;
            let after: Vec<String> = seen.lock().unwrap()[before..]
                .iter()
                .map(|(m, _)| m.clone())
                .collect();
            assert!(
                !after.iter().any(|m| m == "notifications/resources/updated"),
                "{era:?}: {after:?}"
            );
            client.close().await.unwrap();
        }
    })
    .await
}

#[tokio::test]
async fn lists_are_cached_by_ttl_until_they_change() {
    within(async {
        // Every tools/list takes 300 ms on this server; its lists say they
        // stay fresh for a minute (2026-07-28 ttlMs).
        let server = demo_builder()
            .ttl_ms(60_000)
            .method_fault("tools/list", Fault::Delay(Duration::from_millis(300)))
            .build();
        let client = builder(server.clone(), VersionChoice::Auto)
            .connect()
            .await
            .unwrap();
        let timed = |c: Client| async move {
            let t = Instant::now();
            let n = c.list_tools().await.unwrap().len();
            (n, t.elapsed())
        };
        let (n, first) = timed(client.clone()).await;
        assert_eq!(n, 7);
        assert!(first >= Duration::from_millis(300), "{first:?}");
        let (n, cached) = timed(client.clone()).await;
        assert_eq!(n, 7);
        assert!(
            cached < Duration::from_millis(100),
            "served from the cache: {cached:?}"
        );
        // A list_changed (through the listen) makes it stale at once.
        server.notify_tools_changed();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (_, refetched) = timed(client.clone()).await;
        assert!(
            refetched >= Duration::from_millis(300),
            "refetched after list_changed: {refetched:?}"
        );

        // The handshake era has no ttlMs: nothing is cached.
        let legacy = builder(server, VersionChoice::Exact(ProtocolVersion::V2025_11_25))
            .connect()
            .await
            .unwrap();
        let (_, a) = timed(legacy.clone()).await;
        let (_, b) = timed(legacy.clone()).await;
        assert!(
            a >= Duration::from_millis(300) && b >= Duration::from_millis(300),
            "{a:?} {b:?}"
        );
    })
    .await
}

/// One sweeper enforces every deadline of a session: a call with a short
/// deadline, started while a call with a long one waits, still ends on
/// time (the sweeper is woken for the earlier deadline), and the long call
/// keeps waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_deadline_behind_a_long_one_ends_on_time() {
    within(async {
        for (choice, _) in ERAS {
            let client = builder(faulty(Fault::Hang), choice)
                .timeout(Duration::from_secs(30))
                .connect()
                .await
                .unwrap();
            let long = {
                let client = client.clone();
                tokio::spawn(async move { client.call_tool("echo", json!({"text": "long"})).await })
            };
            // Let the long call register its deadline first.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let t = Instant::now();
            let err = client
                .call_tool_with(
                    "echo",
                    json!({"text": "short"}),
                    CallOptions::new().timeout(Duration::from_millis(150)),
                )
                .await
                .unwrap_err();
            let took = t.elapsed();
            assert!(matches!(err, Error::Timeout { .. }), "{err:?}");
            assert!(
                took >= Duration::from_millis(150) && took < Duration::from_millis(650),
                "{took:?}"
            );
            assert!(!long.is_finished(), "the long call must still wait");
            long.abort();
            client.close().await.unwrap();
        }
    })
    .await
}

/// A closed and dropped client leaves no task behind in the program's
/// runtime (transport tasks, the deadline sweeper).
#[tokio::test(flavor = "current_thread")]
async fn a_dropped_client_leaves_no_tasks_behind() {
    within(async {
        let metrics = tokio::runtime::Handle::current().metrics();
        let before = metrics.num_alive_tasks();
        for (choice, _) in ERAS {
            // Deadlines far ahead: nothing ends by itself within the test.
            let client = builder(demo_server(), choice)
                .timeout(Duration::from_secs(60))
                .connect()
                .await
                .unwrap();
            client
                .call_tool("echo", json!({"text": "x"}))
                .await
                .unwrap();
            client.close().await.unwrap();
            drop(client);
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        while metrics.num_alive_tasks() > before && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(metrics.num_alive_tasks(), before, "tasks left behind");
    })
    .await
}

/// `Duration::MAX` means "no limit", not an overflow.
#[tokio::test]
async fn unbounded_deadlines_are_accepted() {
    within(async {
        for (choice, _) in ERAS {
            let client = builder(demo_server(), choice)
                .timeout(Duration::MAX)
                .connect()
                .await
                .unwrap();
            let out = client
                .call_tool_with(
                    "echo",
                    json!({"text": "x"}),
                    CallOptions::new()
                        .timeout(Duration::MAX)
                        .max_time(Duration::MAX),
                )
                .await
                .unwrap();
            assert_eq!(out.text(), "x");
            client.close().await.unwrap();
        }
    })
    .await
}
