//! Input-required rounds (2026-07-28) against the MCP SDK's `MCPServer`
//! (`tests/peers/rounds_server.py`): the server's questions (sampling,
//! elicitation, roots) come back as `input_required` results, the client
//! answers them through its handlers and retries with the answers.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use serde_json::json;
use switchboard::protocol::{
    codes, CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult, Era,
    Role, Root,
};
use switchboard::{Client, Error, HandlerError, ProtocolVersion, RequestContext, RootsHandler};

fn assert_modern(client: &Client) {
    assert_eq!(
        client.protocol_version(),
        Some(ProtocolVersion::V2026_07_28)
    );
    assert_eq!(client.era(), Some(Era::Modern));
    assert_eq!(
        client.server_info().map(|i| i.name).as_deref(),
        Some("switchboard-rounds-peer")
    );
}

async fn finish(client: Client, marker: &str) {
    client.close().await.expect("close");
    drop(client);
    common::assert_no_process(marker, Duration::from_secs(5)).await;
}

struct CountingRoots {
    calls: Arc<AtomicUsize>,
    eras: Arc<Mutex<Vec<Era>>>,
}

impl RootsHandler for CountingRoots {
    fn list_roots(
        &self,
        ctx: RequestContext,
    ) -> BoxFuture<'static, Result<Vec<Root>, HandlerError>> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.eras.lock().unwrap().push(ctx.era);
        Box::pin(async {
            Ok(vec![
                Root::new("file:///work/main").with_name("main"),
                Root::new("file:///tmp/switchboard-rounds").with_name("scratch"),
            ])
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sampling_elicitation_and_roots_through_handlers() {
    common::bounded(async {
        let marker = common::marker("rounds-all");
        let sampled: Arc<Mutex<Vec<(CreateMessageRequestParams, Era)>>> = Arc::default();
        let elicited: Arc<Mutex<Vec<(ElicitRequestParams, Era)>>> = Arc::default();
        let roots_calls = Arc::new(AtomicUsize::new(0));
        let roots_eras: Arc<Mutex<Vec<Era>>> = Arc::default();

        let s = sampled.clone();
        let e = elicited.clone();
        let client = common::rounds(&marker)
            .sampling(
                move |params: CreateMessageRequestParams, ctx: RequestContext| {
                    s.lock().unwrap().push((params, ctx.era));
                    async { Ok(CreateMessageResult::text("canned-model", "sampled: 42")) }
                },
            )
            .elicitation(move |params: ElicitRequestParams, ctx: RequestContext| {
                e.lock().unwrap().push((params, ctx.era));
                async {
                    let mut values = serde_json::Map::new();
                    values.insert("name".into(), json!("Ada"));
                    values.insert("age".into(), json!(36));
                    Ok(ElicitResult::accept(values))
                }
            })
            .roots_handler(CountingRoots {
                calls: roots_calls.clone(),
                eras: roots_eras.clone(),
            })
            .connect()
            .await
            .expect("connect");
        assert_modern(&client);

        // Sampling: one round, the handler's text comes back as the result.
        let out = client
            .call_tool("ask_sampling", ())
            .await
            .expect("ask_sampling");
        assert!(!out.is_error(), "{out:?}");
        assert_eq!(out.text(), "sampled: 42");
        assert_eq!(out.structured(), Some(&json!({"result": "sampled: 42"})));
        {
            let sampled = sampled.lock().unwrap();
            assert_eq!(sampled.len(), 1, "sampling handler called once per round");
            let (params, era) = &sampled[0];
            assert_eq!(*era, Era::Modern);
            assert_eq!(params.max_tokens, 50);
            assert_eq!(params.messages.len(), 1);
            assert_eq!(params.messages[0].role, Role::User);
            assert_eq!(params.messages[0].content.text(), "What is 6 x 7?");
        }

        // Elicitation: the accepted values come back.
        let out = client
            .call_tool("ask_elicitation", ())
            .await
            .expect("ask_elicitation");
        assert_eq!(out.text(), "accepted: name=Ada age=36");
        {
            let elicited = elicited.lock().unwrap();
            assert_eq!(
                elicited.len(),
                1,
                "elicitation handler called once per round"
            );
            let (params, era) = &elicited[0];
            assert_eq!(*era, Era::Modern);
            assert_eq!(params.message(), "Who are you?");
            match params {
                ElicitRequestParams::Form(form) => {
                    let schema = serde_json::to_value(&form.requested_schema).unwrap();
                    assert_eq!(schema["required"], json!(["name", "age"]), "{schema}");
                    assert_eq!(schema["properties"]["age"]["type"], json!("integer"));
                }
                other => panic!("expected a form elicitation, got {other:?}"),
            }
        }

        // Roots: our root URIs come back, in order.
        let out = client.call_tool("ask_roots", ()).await.expect("ask_roots");
        let texts: Vec<&str> = out.content.iter().filter_map(|b| b.as_text()).collect();
        assert_eq!(
            texts,
            ["file:///work/main", "file:///tmp/switchboard-rounds"]
        );
        assert_eq!(
            out.structured(),
            Some(&json!({"result": ["file:///work/main", "file:///tmp/switchboard-rounds"]}))
        );
        assert_eq!(roots_calls.load(Ordering::SeqCst), 1);
        assert_eq!(*roots_eras.lock().unwrap(), [Era::Modern]);

        // Each further call is one more round, one more handler call.
        let out = client
            .call_tool("ask_sampling", ())
            .await
            .expect("ask_sampling again");
        assert_eq!(out.text(), "sampled: 42");
        assert_eq!(sampled.lock().unwrap().len(), 2);
        assert_eq!(elicited.lock().unwrap().len(), 1);
        assert_eq!(roots_calls.load(Ordering::SeqCst), 1);

        finish(client, &marker).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusing_handler_is_input_declined_and_decline_is_an_answer() {
    common::bounded(async {
        let marker = common::marker("rounds-refuse");
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let client = common::rounds(&marker)
            .sampling(
                move |_p: CreateMessageRequestParams, _ctx: RequestContext| {
                    c.fetch_add(1, Ordering::SeqCst);
                    async { Err(HandlerError::rejected("the user said no to sampling")) }
                },
            )
            .elicitation(|_p: ElicitRequestParams, _ctx: RequestContext| async {
                Ok(ElicitResult::decline())
            })
            .connect()
            .await
            .expect("connect");
        assert_modern(&client);

        match client.call_tool("ask_sampling", ()).await {
            Err(Error::InputDeclined {
                method,
                request,
                message,
            }) => {
                assert_eq!(method, "tools/call");
                assert_eq!(request, "sampling/createMessage");
                assert!(
                    message.contains("the user said no to sampling"),
                    "{message}"
                );
            }
            other => panic!("expected InputDeclined, got {other:?}"),
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1, "asked once, not retried");

        // A declined elicitation is an answer, not an error: the tool sees it.
        let out = client
            .call_tool("ask_elicitation", ())
            .await
            .expect("declined elicitation still completes");
        assert!(!out.is_error());
        assert_eq!(out.text(), "decline");

        // The connection is still fine after a refusal.
        client.ping().await.expect("ping after refusal");
        finish(client, &marker).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_capability_is_a_clear_protocol_error() {
    common::bounded(async {
        let marker = common::marker("rounds-nocap");
        let client = common::rounds(&marker)
            .connect()
            .await
            .expect("connect without handlers");
        assert_modern(&client);

        for (tool, capability) in [
            ("ask_sampling", json!({"sampling": {}})),
            ("ask_elicitation", json!({"elicitation": {"form": {}}})),
            ("ask_roots", json!({"roots": {}})),
        ] {
            match client.call_tool(tool, ()).await {
                Err(err @ Error::Protocol { .. }) => {
                    assert_eq!(err.code(), Some(codes::MISSING_REQUIRED_CLIENT_CAPABILITY));
                    assert_eq!(err.code(), Some(-32021));
                    let Error::Protocol { message, data, .. } = &err else {
                        unreachable!()
                    };
                    assert!(
                        message.contains("did not declare"),
                        "{tool}: unclear message {message:?}"
                    );
                    assert_eq!(
                        data.as_ref().and_then(|d| d.get("requiredCapabilities")),
                        Some(&capability),
                        "{tool}: {data:?}"
                    );
                    assert!(!err.is_connection_lost());
                }
                other => panic!("{tool}: expected a -32021 protocol error, got {other:?}"),
            }
        }

        finish(client, &marker).await;
    })
    .await
}
