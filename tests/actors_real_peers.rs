//! The sampling and policy actors answering real servers: server-everything
//! in the handshake era (`sampling/createMessage`, `elicitation/create`,
//! `roots/list` pushed mid-call) and the MCP Python SDK's input-required
//! rounds in 2026-07-28. Sampling goes to an OpenAI-compatible endpoint
//! served by the test on 127.0.0.1; forms are answered by policy rules.

mod common;
mod model_common;

use std::time::Duration;

use model_common::{text_completion, ModelServer, Step};
use serde_json::json;
use switchboard::model::{ModelClient, ModelEndpoint};
use switchboard::policy::PolicyConfig;
use switchboard::protocol::Era;
use switchboard::sampling::{ModelChoice, SamplingBackend};
use switchboard::{Policy, Sampler};

fn sampler(endpoint: &ModelServer) -> Sampler {
    let client = ModelClient::new(
        ModelEndpoint::new(endpoint.base_url(), "peer-model").timeout(Duration::from_secs(5)),
    )
    .expect("model client");
    Sampler::builder(SamplingBackend::Model {
        client,
        choice: ModelChoice {
            default: "peer-model".into(),
            candidates: Vec::new(),
        },
    })
    .start()
    .expect("sampler")
}

fn policy(config: serde_json::Value) -> Policy {
    let config: PolicyConfig = serde_json::from_value(config).expect("policy config");
    Policy::new(config).expect("policy")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_everything_is_answered_by_the_actors() {
    common::bounded(async {
        let marker = common::marker("actors-everything");
        let endpoint = ModelServer::start(vec![Step::json(text_completion(
            "peer-model",
            "Forty-two, from the model.",
            20,
            6,
        ))])
        .await;
        let policy = policy(json!({
            "elicitation": {
                "rules": [{
                    "server": "everything",
                    "message": "*provide inputs*",
                    "action": "accept",
                    "values": {"name": "Ada Lovelace", "check": true,
                               "email": "ada@example.com", "integer": 7},
                }],
                "default": "decline",
            },
            "roots": {"everything": ["file:///tmp/switchboard-actors"]},
        }));
        let client = common::everything(&marker)
            .sampling(sampler(&endpoint))
            .elicitation(policy.clone())
            .roots_handler(policy.clone())
            .connect()
            .await
            .expect("connect");
        assert_eq!(client.era(), Some(Era::Handshake));
        // The gated tools appear once the server has seen our capabilities.
        common::eventually("gated tools", Duration::from_secs(10), || async {
            let tools = client.list_tools().await.ok()?;
            tools
                .iter()
                .any(|t| t.name == "trigger-sampling-request")
                .then_some(())
        })
        .await;

        // Sampling: the server's request became this exact chat request.
        let out = client
            .call_tool(
                "trigger-sampling-request",
                json!({"prompt": "what is six times seven?", "maxTokens": 33}),
            )
            .await
            .expect("sampling tool");
        assert!(out.text().contains("Forty-two, from the model."), "{}", out.text());
        let requests = endpoint.requests();
        assert_eq!(requests.len(), 1);
        assert_eq!(
            requests[0].body,
            json!({
                "model": "peer-model",
                "messages": [
                    {"role": "system", "content": "You are a helpful test server."},
                    {"role": "user", "content": "Resource trigger-sampling-request context: what is six times seven?"},
                ],
                "max_tokens": 33,
                "temperature": 0.7,
            })
        );

        // Elicitation: the rule's values, validated, accepted.
        let out = client
            .call_tool("trigger-elicitation-request", json!({}))
            .await
            .expect("elicitation tool");
        let text = out.text();
        assert!(text.contains("User provided the requested information"), "{text}");
        assert!(text.contains("- Name: Ada Lovelace"), "{text}");
        assert!(text.contains("- Favorite Integer: 7"), "{text}");

        // Roots: the policy's list for this server.
        let out = client
            .call_tool("get-roots-list", json!({}))
            .await
            .expect("roots tool");
        let text = out.text();
        assert!(text.contains("Current MCP Roots (1 total)"), "{text}");
        assert!(text.contains("URI: file:///tmp/switchboard-actors"), "{text}");

        let stats = policy.stats().await.expect("stats");
        assert!(stats.accepted >= 1, "{stats:?}");

        // A model that fails: the server is told that it failed (never the
        // endpoint's words), the connection stays up.
        endpoint.push(Step::Status(500, "model down".into()));
        let out = client
            .call_tool(
                "trigger-sampling-request",
                json!({"prompt": "again", "maxTokens": 5}),
            )
            .await;
        let out = out.expect("the tool answers");
        assert!(out.is_error());
        assert_eq!(
            out.text(),
            "MCP error -32603: sampling failed: the model could not answer this request"
        );
        client.ping().await.expect("still connected");

        client.close().await.expect("close");
        common::assert_no_process(&marker, Duration::from_secs(5)).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn input_required_rounds_are_answered_by_the_actors() {
    common::bounded(async {
        let marker = common::marker("actors-rounds");
        let endpoint = ModelServer::start(vec![Step::json(text_completion(
            "peer-model",
            "6 x 7 = 42",
            9,
            5,
        ))])
        .await;
        let policy = policy(json!({
            "elicitation": {
                "rules": [
                    {"message": "Who are you?", "action": "accept",
                     "values": {"name": "Ada", "age": 36}},
                ],
            },
            "roots": {"*": ["file:///tmp/rounds-root-a", "/tmp/rounds-root-b"]},
        }));
        let client = common::rounds(&marker)
            .sampling(sampler(&endpoint))
            .elicitation(policy.clone())
            .roots_handler(policy.clone())
            .connect()
            .await
            .expect("connect");
        assert_eq!(client.era(), Some(Era::Modern));

        let out = client
            .call_tool("ask_sampling", ())
            .await
            .expect("ask_sampling");
        assert_eq!(out.text(), "6 x 7 = 42");
        let body = &endpoint.requests()[0].body;
        assert_eq!(
            body["messages"],
            json!([{"role": "user", "content": "What is 6 x 7?"}])
        );
        assert_eq!(body["max_tokens"], 50);

        let out = client
            .call_tool("ask_elicitation", ())
            .await
            .expect("ask_elicitation");
        assert_eq!(out.text(), "accepted: name=Ada age=36");

        let out = client.call_tool("ask_roots", ()).await.expect("ask_roots");
        assert_eq!(
            out.structured(),
            Some(&json!({"result": ["file:///tmp/rounds-root-a", "file:///tmp/rounds-root-b"]}))
        );

        client.close().await.expect("close");

        // No rule matches: the policy's default declines, and the tool
        // says so (a decline is an answer, not an error).
        let policy = policy_default_decline();
        let client = common::rounds(&marker)
            .elicitation(policy)
            .connect()
            .await
            .expect("connect");
        let out = client
            .call_tool("ask_elicitation", ())
            .await
            .expect("ask_elicitation");
        assert_eq!(out.text(), "decline");
        client.close().await.expect("close");
        common::assert_no_process(&marker, Duration::from_secs(5)).await;
    })
    .await
}

fn policy_default_decline() -> Policy {
    policy(json!({"elicitation": {"rules": [], "default": "decline"}}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_fills_a_form_through_the_policy() {
    common::bounded(async {
        let marker = common::marker("actors-filler");
        let endpoint = ModelServer::start(vec![Step::json(model_common::tool_call_completion(
            "peer-model",
            &[("f1", "submit_form", r#"{"name": "Grace", "age": 85}"#)],
        ))])
        .await;
        let client = ModelClient::new(
            ModelEndpoint::new(endpoint.base_url(), "peer-model").timeout(Duration::from_secs(5)),
        )
        .unwrap();
        let config: PolicyConfig =
            serde_json::from_value(json!({"elicitation": {"default": "fill"}})).unwrap();
        let policy = Policy::builder(config)
            .filler(switchboard::policy::ModelFiller::new(client))
            .build()
            .unwrap();
        let mcp = common::rounds(&marker)
            .elicitation(policy)
            .connect()
            .await
            .expect("connect");
        let out = mcp
            .call_tool("ask_elicitation", ())
            .await
            .expect("ask_elicitation");
        assert_eq!(out.text(), "accepted: name=Grace age=85");
        let body = &endpoint.requests()[0].body;
        assert_eq!(body["tool_choice"]["function"]["name"], "submit_form");
        let params = &body["tools"][0]["function"]["parameters"];
        assert_eq!(params["properties"]["age"]["type"], "integer", "{params}");
        let user = body["messages"][1]["content"].as_str().unwrap();
        assert!(user.contains("Who are you?"), "{user}");
        mcp.close().await.unwrap();
        common::assert_no_process(&marker, Duration::from_secs(5)).await;
    })
    .await
}
