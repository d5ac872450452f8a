//! The stdio writer under pressure: requests larger than the pipe buffer
//! (partial direct writes finished by the writer task), many of them at
//! once, interleaved with small ones; every reply must match its request
//! byte for byte, and nothing may be split or reordered within a frame.

use std::time::Duration;

use serde_json::json;
use switchboard::{Client, Source};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_and_small_frames_survive_concurrency() {
    large_and_small_frames().await
}

/// The same on one thread (`#[tokio::main(flavor = "current_thread")]`,
/// an actix `System`): the writer task, which yields before taking the
/// buffer, must still run while every caller waits.
#[tokio::test(flavor = "current_thread")]
async fn large_and_small_frames_survive_concurrency_on_one_thread() {
    large_and_small_frames().await
}

async fn large_and_small_frames() {
    tokio::time::timeout(Duration::from_secs(60), async {
        let client = Client::builder(Source::stdio(BIN, ["serve-echo"]))
            .timeout(Duration::from_secs(20))
            .connect()
            .await
            .unwrap();
        // Alone on the connection: written directly, in several pieces.
        let big = "x".repeat(1 << 20);
        let out = client
            .call_tool("echo", json!({ "text": big }))
            .await
            .unwrap();
        assert_eq!(out.text().len(), 1 << 20);

        let calls = (0..48).map(|i| {
            let client = client.clone();
            tokio::spawn(async move {
                // Every third request is 200 KiB (bigger than a pipe buffer).
                let text = if i % 3 == 0 {
                    format!("{i}:{}", "y".repeat(200 * 1024))
                } else {
                    format!("small {i}")
                };
                let out = client
                    .call_tool("echo", json!({ "text": text }))
                    .await
                    .unwrap();
                assert_eq!(out.text(), text, "reply {i} does not match its request");
            })
        });
        for c in calls.collect::<Vec<_>>() {
            c.await.unwrap();
        }
        client.close().await.unwrap();
        assert!(client
            .call_tool("echo", json!({"text": "late"}))
            .await
            .unwrap_err()
            .is_connection_lost());
    })
    .await
    .expect("test deadline");
}
