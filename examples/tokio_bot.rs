//! How do I embed Switchboard in an ordinary tokio program (a chat bot, a
//! web service)?
//!
//! A [`Client`] is a handle: `Clone + Send + Sync`, cheap to clone, and
//! every clone talks over the same connection with calls running
//! concurrently. So you connect once, hand clones to as many tasks as you
//! like, and call `close()` once at shutdown. This program
//!
//! 1. fires 50 concurrent `add` calls from `tokio::spawn`ed tasks;
//! 2. runs a small "bot": a task that takes chat messages from an `mpsc`
//!    channel, turns commands into tool calls (each message handled in its
//!    own task), and sends replies back;
//! 3. shuts down gracefully: the sender is dropped, the bot drains its
//!    queue and returns, then `client.close()` ends the connection.
//!
//! No actix knowledge is needed: Switchboard runs its actors on a thread
//! of its own; your program only ever sees async methods on a handle.
//!
//! ```text
//! cargo run --example tokio_bot                       # built-in demo server
//! cargo run --example tokio_bot -- "python3 server.py"  # any server that has `add` and `echo`
//! ```
//!
//! Extra arguments after the server are sent to the bot as chat messages,
//! e.g. `cargo run --example tokio_bot -- memory://demo "/add 1 2"`.

use std::time::Duration;

use serde_json::json;
use switchboard::testing::demo_server;
use switchboard::{Client, Source};
use tokio::sync::{mpsc, oneshot};

/// A chat message, with where to send the bot's reply.
struct ChatMessage {
    user: String,
    text: String,
    reply: oneshot::Sender<String>,
}

/// What the bot does with one message: commands become tool calls.
async fn handle(client: &Client, text: &str) -> String {
    let mut words = text.split_whitespace();
    let outcome = match words.next() {
        Some("/add") => {
            let numbers: Vec<f64> = words.filter_map(|w| w.parse().ok()).collect();
            match numbers[..] {
                [a, b] => client
                    .call_tool("add", json!({"a": a, "b": b}))
                    .await
                    .map(|out| {
                        out.structured()
                            .and_then(|v| v.get("sum"))
                            .map(|s| format!("{a} + {b} = {s}"))
                            .unwrap_or_else(|| out.text())
                    }),
                _ => return "usage: /add A B".into(),
            }
        }
        Some("/echo") => {
            let rest = text.trim_start().trim_start_matches("/echo").trim();
            client
                .call_tool("echo", json!({ "text": rest }))
                .await
                .map(|out| out.text())
        }
        Some("/tools") => client.list_tools().await.map(|tools| {
            let names: Vec<String> = tools.into_iter().map(|t| t.name).collect();
            format!("I can use: {}", names.join(", "))
        }),
        _ => return "I know /add A B, /echo TEXT and /tools".into(),
    };
    // Errors the server causes (it died, timed out, refused) are values
    // the bot reports, never panics.
    outcome.unwrap_or_else(|e| format!("sorry, that failed: {e}"))
}

/// The bot: one task reading the channel; each message is handled in a
/// task of its own (with its own clone of the client), so a slow tool
/// never holds up the next message. Returns when every sender is gone and
/// every message is answered.
async fn bot(client: Client, mut inbox: mpsc::Receiver<ChatMessage>) {
    let mut in_flight = tokio::task::JoinSet::new();
    while let Some(msg) = inbox.recv().await {
        let client = client.clone();
        in_flight.spawn(async move {
            let answer = handle(&client, &msg.text).await;
            // The user may have gone away; that is fine.
            let _ = msg.reply.send(format!("@{}: {answer}", msg.user));
        });
    }
    while in_flight.join_next().await.is_some() {}
}

#[tokio::main]
async fn main() -> switchboard::Result<()> {
    let mut args = std::env::args().skip(1);
    let source = match args.next() {
        Some(s) => Source::infer(&s)?,
        None => Source::memory(demo_server()),
    };
    let extra_messages: Vec<String> = args.collect();

    // Connect once. `timeout` bounds each request, so nothing can hang.
    let client = Client::builder(source)
        .name("tools")
        .timeout(Duration::from_secs(10))
        .connect()
        .await?;

    // 1. Fifty concurrent calls over one connection, from spawned tasks.
    let started = std::time::Instant::now();
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let client = client.clone(); // a handle, not a new connection
            tokio::spawn(async move {
                let out = client.call_tool("add", json!({"a": i, "b": i})).await?;
                let sum = out
                    .structured()
                    .and_then(|v| v.get("sum"))
                    .and_then(|s| s.as_f64());
                Ok::<_, switchboard::Error>((i, sum))
            })
        })
        .collect();
    let mut correct = 0;
    for task in tasks {
        match task.await {
            Ok(Ok((i, Some(sum)))) if sum == f64::from(2 * i) => correct += 1,
            Ok(Ok((i, sum))) => println!("add({i}, {i}) gave {sum:?}"),
            Ok(Err(e)) => println!("a call failed: {e}"),
            Err(e) => println!("a task panicked: {e}"),
        }
    }
    println!(
        "50 concurrent add calls from spawned tasks: {correct} correct in {} ms",
        started.elapsed().as_millis()
    );

    // 2. The bot, fed by a channel.
    let (to_bot, inbox) = mpsc::channel::<ChatMessage>(16);
    let bot_task = tokio::spawn(bot(client.clone(), inbox));

    let mut conversation: Vec<(String, String)> = vec![
        ("ada".into(), "/add 2 40".into()),
        ("alan".into(), "/echo hello from a tokio task".into()),
        ("grace".into(), "/tools".into()),
        ("linus".into(), "what can you do?".into()),
    ];
    conversation.extend(extra_messages.into_iter().map(|m| ("you".into(), m)));

    let mut replies = Vec::new();
    for (user, text) in conversation {
        println!("<{user}> {text}");
        let (reply, answer) = oneshot::channel();
        if to_bot
            .send(ChatMessage { user, text, reply })
            .await
            .is_err()
        {
            println!("the bot is gone");
            break;
        }
        replies.push(answer);
    }
    for answer in replies {
        // A deadline on every wait: a bot that never answers must not hang us.
        match tokio::time::timeout(Duration::from_secs(15), answer).await {
            Ok(Ok(text)) => println!("<bot> {text}"),
            Ok(Err(_)) => println!("<bot> (dropped the message)"),
            Err(_) => println!("<bot> (no answer in 15 s)"),
        }
    }

    // 3. Graceful shutdown: no more messages; the bot finishes what it
    // has, then the connection is closed (a stdio server is stopped).
    drop(to_bot);
    if tokio::time::timeout(Duration::from_secs(15), bot_task)
        .await
        .is_err()
    {
        println!("the bot did not stop in time");
    }
    client.close().await?;
    println!("closed: {}", client.is_closed());
    Ok(())
}
