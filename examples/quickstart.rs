//! Quickstart: connect, list, call, read, prompt, close.
//!
//! `cargo run --example quickstart` talks to the built-in demo server in
//! this process; `cargo run --example quickstart -- "python3 server.py"`
//! talks to any stdio server you name instead.

use serde_json::json;
use switchboard::testing::demo_server;
use switchboard::{Client, Source};

#[tokio::main]
async fn main() -> switchboard::Result<()> {
    let source = match std::env::args().nth(1) {
        Some(command) => Source::infer(&command)?,
        None => Source::memory(demo_server()),
    };
    let client = Client::builder(source)
        .on_log(|m| println!("log: {}", m.data))
        .connect()
        .await?;
    println!(
        "connected to {} over protocol {}",
        client.server_info().map(|i| i.name).unwrap_or_default(),
        client.protocol_version().map(|v| v.as_str()).unwrap_or("?")
    );

    for tool in client.list_tools().await? {
        println!(
            "tool {:<12} {}",
            tool.name,
            tool.description.as_deref().unwrap_or("")
        );
    }
    if client.list_tools().await?.iter().any(|t| t.name == "add") {
        let out = client.call_tool("add", json!({"a": 20, "b": 22})).await?;
        println!(
            "add(20, 22) -> {}",
            out.structured()
                .map(|v| v.to_string())
                .unwrap_or_else(|| out.text())
        );
    }
    for resource in client.list_resources().await.unwrap_or_default() {
        let read = client.read_resource(&resource.uri).await?;
        println!(
            "resource {} -> {} content item(s)",
            resource.uri,
            read.contents.len()
        );
    }
    client.close().await
}
