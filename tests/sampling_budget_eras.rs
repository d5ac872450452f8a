//! A sampling budget holds in both eras: a `Budget` of one request lets
//! exactly one through, whether the server asks with a pushed request
//! (2025-11-25) or in the `inputRequests` of an input-required round
//! (2026-07-28). Against the built-in testing server over memory.

use std::time::Duration;

use serde_json::json;
use switchboard::protocol::{Era, ProtocolVersion, VersionChoice};
use switchboard::sampling::{Budget, Sampler, SamplingBackend};
use switchboard::testing::demo_server;
use switchboard::{Client, Source};

#[tokio::test]
async fn a_one_request_budget_admits_one_request_in_each_era() {
    let eras = [
        (VersionChoice::Auto, Era::Modern),
        (
            VersionChoice::Exact(ProtocolVersion::V2025_11_25),
            Era::Handshake,
        ),
    ];
    let run = async {
        for (choice, era) in eras {
            let sampler = Sampler::builder(SamplingBackend::Text("a summary".into()))
                .budget(Budget {
                    requests: Some(1),
                    tokens: None,
                })
                .start()
                .unwrap();
            let client = Client::builder(Source::memory(demo_server()))
                .name("demo")
                .protocol(choice)
                .timeout(Duration::from_secs(5))
                .sampling(sampler.clone())
                .connect()
                .await
                .unwrap();
            assert_eq!(client.era(), Some(era));
            let first = client
                .call_tool("summarize", json!({"text": "one"}))
                .await
                .expect("the first request is within the budget");
            assert_eq!(first.text(), "a summary");
            let second = client.call_tool("summarize", json!({"text": "two"})).await;
            let usage = sampler.usage("demo").await.unwrap();
            assert!(
                second.is_err() || second.as_ref().is_ok_and(|r| r.is_error()),
                "{era:?}: a second request passed a one-request budget: {second:?}, {usage:?}"
            );
            assert_eq!(usage.requests, 1, "{era:?}: {usage:?}");
            assert_eq!(usage.refused, 1, "{era:?}: {usage:?}");
            let _ = client.close().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("deadline");
}
