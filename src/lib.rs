//! # Switchboard
//!
//! A Model Context Protocol (MCP) client for Rust, grown into an actor-based
//! runtime for agents over many servers. It connects to any MCP server from
//! a *source* that picks the transport, speaks both protocol eras
//! (2026-07-28's stateless protocol and the `initialize` handshake of
//! 2025-11-25 back to 2024-11-05, negotiated per server), and answers the
//! server's sampling, elicitation and roots requests.
//!
//! Every handle ([`Client`], [`Fleet`], [`Sampler`], [`Policy`],
//! [`agent::Agent`]) is `Send + Sync + Clone`, and works from a plain
//! `#[tokio::main]` program: the actors run on a thread of their own.
//!
//! ## 1. One server
//!
//! ```no_run
//! use serde_json::json;
//! use switchboard::Client;
//!
//! # async fn run() -> switchboard::Result<()> {
//! // A command line, a script (`server.py`, `server.js`), a URL, or
//! // `Source::memory(server)` for an in-process one.
//! let client = Client::connect("python3 my_server.py").await?;
//! println!("{:?} speaks {:?}", client.server_info(), client.protocol_version());
//!
//! for tool in client.list_tools().await? {
//!     println!("{}: {}", tool.name, tool.description.as_deref().unwrap_or(""));
//! }
//! let out = client.call_tool("add", json!({"a": 1, "b": 2})).await?;
//! #[derive(serde::Deserialize)]
//! struct Sum { sum: i64 }
//! let sum: Sum = out.data()?; // structuredContent, validated against outputSchema
//! assert_eq!(sum.sum, 3);
//! client.close().await?; // stdin closed, then TERM, then KILL to its group
//! # Ok(()) }
//! ```
//!
//! Every wait has a deadline ([`ClientBuilder::timeout`] is an idle deadline
//! that progress resets), every failure is one [`Error`] you can match on,
//! and [`ClientBuilder::restart`] supervises the connection: a server that
//! dies or stops answering is restarted with backoff, calls in flight to
//! read-only and idempotent tools are sent again once ([`ReplayPolicy`]),
//! the others fail with [`Error::ServerRestarted`], new calls wait for it.
//!
//! ## 2. What the server asks, and what it says
//!
//! ```no_run
//! # async fn run() -> switchboard::Result<()> {
//! use switchboard::policy::PolicyConfig;
//! use switchboard::sampling::SamplingBackend;
//! use switchboard::session::{ListKind, MessageHandler};
//! use switchboard::{Client, Policy, Sampler};
//!
//! struct Watch;
//! impl MessageHandler for Watch {
//!     fn on_list_changed(&self, server: &str, list: ListKind) {
//!         println!("{server}: its {list:?} changed");
//!     }
//! }
//!
//! // Sampling from a model (or fixed text, scripted replies, refusal),
//! // with budgets and an approval hook; see [`sampling`].
//! let sampler = Sampler::builder(SamplingBackend::Text("a reply".into())).start()?;
//! // Forms answered by declarative rules, checked against the spec's
//! // limits and validated; URLs never opened without consent; roots per
//! // server; see [`policy`].
//! let config = PolicyConfig::from_json(
//!     r#"{"elicitation": {"rules": [{"message": "*confirm*", "action": "accept",
//!         "values": {"confirm": true}}]}, "roots": {"*": ["/home/me/project"]}}"#,
//! )?;
//! let policy = Policy::new(config)?;
//!
//! let client = Client::builder("python3 my_server.py")
//!     .sampling(sampler)
//!     .elicitation(policy.clone())
//!     .roots_handler(policy)
//!     .message_handler(Watch) // progress, logs, list changes, resource updates
//!     .connect()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! ## 3. Many servers
//!
//! ```no_run
//! # async fn run() -> switchboard::Result<()> {
//! use switchboard::Fleet;
//! // The mcpServers file Claude Desktop, Cursor and fastmcp use; its
//! // `sampling` and `elicitation` tables configure the actors.
//! let fleet = Fleet::from_config("mcp.json").await?;
//! for tool in fleet.list_tools().await {
//!     println!("{}", tool.name); // "<server>_<tool>"
//! }
//! fleet.call_tool("github_search_issues", serde_json::json!({"q": "bug"})).await?;
//! for h in fleet.health() {
//!     println!("{} {} restarts={}", h.name, h.state, h.restarts);
//! }
//! # Ok(()) }
//! ```
//!
//! ## 4. An agent over them
//!
//! ```no_run
//! # async fn run() -> switchboard::Result<()> {
//! use switchboard::agent::{Agent, AgentDefinition};
//! let definition = AgentDefinition::from_path("agents/researcher.toml")?;
//! let agent = Agent::from_definition(&definition).await?;
//! let transcript = agent.run("What is MCP?").await;
//! println!("{:?}: {:?}", transcript.stop, transcript.answer);
//! agent.close().await?;
//! # Ok(()) }
//! ```
//!
//! ## Layers
//! - [`protocol`]: wire types, no I/O.
//! - [`transport`]: moves whole JSON-RPC messages (stdio, Streamable HTTP,
//!   legacy SSE, in-memory).
//! - [`session`]: ids, correlation, deadlines, cancellation, progress,
//!   negotiation, input-required rounds, handlers.
//! - actors (internal, actix): each connection's supervisor, the
//!   [`Sampler`] and the [`Policy`].
//! - [`Client`] and [`Fleet`]: the handles you use.
//! - [`server`]: an MCP server core for both eras (a [`server::Server`]
//!   over a [`server::ServerHandler`]), served over stdio or in memory.
//! - [`model`]: an OpenAI-compatible chat client; [`sampling`], [`policy`]
//!   and [`agent`] build on it.
//! - [`skills`]: the skills extension (SEP-2640): list skills, load one
//!   and read its files, each verified against the listed digest, size and
//!   frontmatter.
//! - [`config`]: `mcpServers` files; [`testing`]: an in-process MCP server
//!   for tests and demos; [`cli`]: the `switchboard` command.

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(not(unix))]
compile_error!(
    "switchboard runs on Unix (Linux, macOS): stdio servers are run in their own \
     process groups and ended with signals"
);

mod actor_system;
#[cfg(feature = "agent")]
#[cfg_attr(docsrs, doc(cfg(feature = "agent")))]
pub mod agent;
pub mod auth;
pub mod check;
#[cfg(feature = "cli")]
#[cfg_attr(docsrs, doc(cfg(feature = "cli")))]
pub mod cli;
pub mod client;
pub mod config;
#[cfg(feature = "distributed")]
#[cfg_attr(docsrs, doc(cfg(feature = "distributed")))]
pub mod dist;
pub mod error;
pub mod fleet;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod gateway;
mod http_client;
pub mod model;
pub mod policy;
pub mod protocol;
pub mod sampling;
pub mod server;
pub mod session;
#[cfg(feature = "testing")]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
pub mod testing;
pub mod trace;
pub mod transport;

pub use client::skills;
pub use client::{
    Client, ClientBuilder, Health, HealthState, IntoSource, Replay, ReplayPolicy, RestartPolicy,
    TaskStart, ToolOutput, ToolTask,
};
pub use error::{
    AuthError, AuthErrorKind, ConfigError, Error, FanOutError, FanOutErrorKind, LegEnd, LegReport,
    ListLimit, NotFoundKind, PolicyError, Result, SkillError, TaskError,
};
pub use fleet::{Fleet, FleetBuilder, Member, ServerHealth, ServerState};
pub use policy::Policy;
pub use protocol::{ProtocolVersion, VersionChoice};
pub use sampling::Sampler;
pub use session::{
    CallOptions, ElicitationHandler, HandlerError, Handlers, ListKind, ListedRoots, ListenFilter,
    MessageHandler, RequestContext, RootsHandler, SamplingHandler, ServerMessage,
    ServerNotification, Subscription, TaskCallback,
};
pub use transport::Source;

/// The README's examples, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
