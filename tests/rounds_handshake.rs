//! The same handlers as `rounds_modern.rs`, in the handshake era: the MCP
//! SDK's `MCPServer` forced to 2025-11-25 sends standalone
//! `sampling/createMessage`, `elicitation/create` and `roots/list` requests
//! mid-call, with ids that overlap the client's own (separate id spaces).
//! And a refusal from server-everything's side of the wire.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use switchboard::protocol::{
    CreateMessageRequestParams, CreateMessageResult, ElicitRequestParams, ElicitResult, Era,
};
use switchboard::{HandlerError, ProtocolVersion, RequestContext, VersionChoice};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_requests_mid_call_reach_the_same_handlers() {
    common::bounded(async {
        let marker = common::marker("rounds-hs");
        let eras: Arc<Mutex<Vec<(&'static str, Era)>>> = Arc::default();
        let (s, e) = (eras.clone(), eras.clone());
        let client = common::rounds(&marker)
            .protocol(VersionChoice::Exact(ProtocolVersion::V2025_11_25))
            .sampling(move |p: CreateMessageRequestParams, ctx: RequestContext| {
                s.lock().unwrap().push(("sampling", ctx.era));
                let question = p.messages[0].content.text();
                async move {
                    Ok(CreateMessageResult::text(
                        "canned",
                        format!("answer to {question:?}: 42"),
                    ))
                }
            })
            .elicitation(move |_p: ElicitRequestParams, ctx: RequestContext| {
                e.lock().unwrap().push(("elicitation", ctx.era));
                async {
                    let mut v = serde_json::Map::new();
                    v.insert("name".into(), json!("Grace"));
                    v.insert("age".into(), json!(85));
                    Ok(ElicitResult::accept(v))
                }
            })
            .roots(["file:///srv/one", "file:///srv/two"])
            .connect()
            .await
            .expect("connect");
        assert_eq!(client.era(), Some(Era::Handshake));
        assert_eq!(
            client.protocol_version(),
            Some(ProtocolVersion::V2025_11_25)
        );

        // Several rounds of each, so server ids (from 1) collide with ours.
        for _ in 0..3 {
            let out = client
                .call_tool("ask_sampling", ())
                .await
                .expect("ask_sampling");
            assert_eq!(out.text(), "answer to \"What is 6 x 7?\": 42");
            let out = client
                .call_tool("ask_elicitation", ())
                .await
                .expect("ask_elicitation");
            assert_eq!(out.text(), "accepted: name=Grace age=85");
            let out = client.call_tool("ask_roots", ()).await.expect("ask_roots");
            assert_eq!(
                out.structured(),
                Some(&json!({"result": ["file:///srv/one", "file:///srv/two"]}))
            );
        }
        let eras = eras.lock().unwrap().clone();
        assert_eq!(eras.len(), 6, "{eras:?}");
        assert!(
            eras.iter().all(|(_, era)| *era == Era::Handshake),
            "{eras:?}"
        );

        client.close().await.expect("close");
        common::assert_no_process(&marker, Duration::from_secs(5)).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_goes_back_to_the_server_as_an_error() {
    common::bounded(async {
        let marker = common::marker("everything-refuse");
        let client = common::everything(&marker)
            .sampling(
                |_p: CreateMessageRequestParams, _ctx: RequestContext| async {
                    Err(HandlerError::rejected("sampling refused by policy"))
                },
            )
            .connect()
            .await
            .expect("connect");
        common::eventually(
            "trigger-sampling-request",
            Duration::from_secs(10),
            || async {
                client
                    .list_tools()
                    .await
                    .expect("list")
                    .iter()
                    .any(|t| t.name == "trigger-sampling-request")
                    .then_some(())
            },
        )
        .await;
        // The server's request fails with our code and message; its tool
        // turns that into an isError result.
        let out = client
            .call_tool("trigger-sampling-request", json!({"prompt": "hi"}))
            .await
            .expect("the tool reports the refusal as a result");
        assert!(out.is_error(), "{out:?}");
        let text = out.text();
        assert!(text.contains("sampling refused by policy"), "{text}");
        assert!(text.contains("-1"), "the JSON-RPC code we sent: {text}");

        client.ping().await.expect("ping");
        client.close().await.expect("close");
        common::assert_no_process(&marker, Duration::from_secs(5)).await;
    })
    .await
}
