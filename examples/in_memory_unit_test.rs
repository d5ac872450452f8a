//! How do I unit-test my own MCP server logic without spawning a process?
//!
//! Describe the server with [`switchboard::testing::TestServer`] (tools,
//! their schemas, and handlers that are plain async closures), connect a
//! real [`Client`] to it over the in-memory transport
//! (`Source::memory(server)`), and assert on what the client gets back.
//! Everything runs in this process: no ports, no child processes, no
//! network, and each test takes milliseconds.
//!
//! Run the checks as a program:
//!
//! ```text
//! cargo run --example in_memory_unit_test
//! ```
//!
//! or as tests (examples' tests run with `--examples`):
//!
//! ```text
//! cargo test --example in_memory_unit_test
//! cargo test --examples
//! ```

use std::error::Error;

use serde::Deserialize;
use serde_json::{json, Value};
use switchboard::testing::{structured_result, text_result, TestServer, ToolDef};
use switchboard::{Client, Source};

type TestResult = Result<(), Box<dyn Error + Send + Sync>>;

/// The logic under test: a tiny inventory. In a real project this is your
/// own code; the server below only wires it to MCP.
fn price_of(item: &str) -> Option<f64> {
    match item {
        "apple" => Some(0.5),
        "pear" => Some(0.75),
        _ => None,
    }
}

/// Our server: one tool, `quote`, with an input and an output schema.
/// Handlers get the arguments as JSON and return a `CallToolResult`
/// (built with `structured_result` / `text_result`); an `Err` becomes an
/// `isError: true` result the client can inspect.
fn inventory_server() -> TestServer {
    TestServer::builder("inventory")
        .version("1.0.0")
        .tool(
            ToolDef::new("quote")
                .description("Prices `count` units of `item`")
                .input_schema(json!({
                    "type": "object",
                    "properties": {
                        "item": {"type": "string"},
                        "count": {"type": "integer", "minimum": 1},
                    },
                    "required": ["item", "count"],
                }))
                .output_schema(json!({
                    "type": "object",
                    "properties": {
                        "item": {"type": "string"},
                        "total": {"type": "number"},
                    },
                    "required": ["item", "total"],
                })),
            |_ctx, args: Value| async move {
                let item = args
                    .get("item")
                    .and_then(Value::as_str)
                    .ok_or("argument \"item\" must be a string")?;
                let count = args
                    .get("count")
                    .and_then(Value::as_u64)
                    .ok_or("argument \"count\" must be a positive integer")?;
                let unit = price_of(item).ok_or_else(|| format!("unknown item {item:?}"))?;
                Ok(structured_result(
                    json!({"item": item, "total": unit * count as f64}),
                ))
            },
        )
        .tool(
            ToolDef::new("hello").description("Says hello"),
            |_ctx, _args| async move { Ok(text_result("hello from inventory")) },
        )
        .build()
}

/// A fresh client on a fresh server: each check gets its own.
async fn connect() -> switchboard::Result<Client> {
    Client::builder(Source::memory(inventory_server()))
        .name("inventory")
        .connect()
        .await
}

/// The structured result, decoded into a type of ours.
#[derive(Debug, Deserialize, PartialEq)]
struct Quote {
    item: String,
    total: f64,
}

async fn check_lists_its_tools() -> TestResult {
    let client = connect().await?;
    let names: Vec<String> = client
        .list_tools()
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["quote", "hello"]);
    assert_eq!(
        client.server_info().map(|i| i.name).as_deref(),
        Some("inventory")
    );
    client.close().await?;
    Ok(())
}

async fn check_prices_a_known_item() -> TestResult {
    let client = connect().await?;
    let out = client
        .call_tool("quote", json!({"item": "pear", "count": 4}))
        .await?;
    assert!(!out.is_error(), "unexpected tool error: {}", out.text());
    // `data()` decodes structuredContent (already validated against the
    // tool's outputSchema by the client).
    let quote: Quote = out.data()?;
    assert_eq!(
        quote,
        Quote {
            item: "pear".into(),
            total: 3.0
        }
    );
    client.close().await?;
    Ok(())
}

async fn check_reports_an_unknown_item_as_a_tool_error() -> TestResult {
    let client = connect().await?;
    let out = client
        .call_tool("quote", json!({"item": "durian", "count": 1}))
        .await?;
    // A tool error is a result, not an `Err`: the call itself worked.
    assert!(out.is_error());
    assert!(out.text().contains("unknown item"), "{}", out.text());
    // `into_result()` turns it into an `Err` when that is what you want.
    assert!(out.into_result().is_err());
    client.close().await?;
    Ok(())
}

async fn check_plain_text_tools() -> TestResult {
    let client = connect().await?;
    let out = client.call_tool("hello", ()).await?;
    assert_eq!(out.text(), "hello from inventory");
    assert!(out.structured().is_none());
    client.close().await?;
    Ok(())
}

#[tokio::main]
async fn main() -> TestResult {
    // The same checks the tests below run, as a program.
    check_lists_its_tools().await?;
    println!("ok  lists its tools");
    check_prices_a_known_item().await?;
    println!("ok  prices a known item (structured output)");
    check_reports_an_unknown_item_as_a_tool_error().await?;
    println!("ok  reports an unknown item as a tool error");
    check_plain_text_tools().await?;
    println!("ok  plain text tools");
    println!(
        "all checks passed; run them as tests with `cargo test --example in_memory_unit_test`"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lists_its_tools() -> TestResult {
        check_lists_its_tools().await
    }

    #[tokio::test]
    async fn prices_a_known_item() -> TestResult {
        check_prices_a_known_item().await
    }

    #[tokio::test]
    async fn reports_an_unknown_item_as_a_tool_error() -> TestResult {
        check_reports_an_unknown_item_as_a_tool_error().await
    }

    #[tokio::test]
    async fn plain_text_tools() -> TestResult {
        check_plain_text_tools().await
    }

    /// The handler logic can also be tested directly, without MCP at all.
    #[test]
    fn prices() {
        assert_eq!(price_of("apple"), Some(0.5));
        assert_eq!(price_of("kiwi"), None);
    }
}
