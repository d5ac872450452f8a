//! # Switchboard
//!
//! A Model Context Protocol (MCP) client for Rust, grown into an actor-based
//! runtime. It connects to any MCP server from a *source* that picks the
//! transport, speaks both protocol eras (2026-07-28's stateless protocol and
//! the `initialize` handshake of 2025-11-25 back to 2024-11-05, negotiated
//! per server), and answers the server's sampling, elicitation and roots
//! requests through handlers.
//!
//! ```no_run
//! use serde_json::json;
//! use switchboard::Client;
//!
//! # async fn run() -> switchboard::Result<()> {
//! // A command line, a script (`server.py`, `server.js`), or a URL.
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
//! client.close().await?;
//! # Ok(()) }
//! ```
//!
//! ## Layers
//! - [`protocol`]: wire types, no I/O.
//! - [`transport`]: moves whole JSON-RPC messages (stdio, in-memory).
//! - [`session`]: ids, correlation, deadlines, cancellation, progress,
//!   negotiation, input-required rounds.
//! - actors: the connection's control plane (actix, internal).
//! - [`Client`]: the handle you use; `Send + Sync + Clone`.
//! - [`testing`]: an in-process MCP server for tests and demos.

#![warn(missing_docs)]

mod actors;
pub mod agent;
pub mod cli;
pub mod client;
pub mod config;
pub mod error;
pub mod fleet;
pub mod model;
pub mod policy;
pub mod protocol;
pub mod sampling;
pub mod session;
pub mod testing;
pub mod transport;

pub use actors::sampling::Sampler;
pub use actors::supervise::{Health, HealthState, RestartPolicy};
pub use client::{Client, ClientBuilder, ToolOutput};
pub use error::{Error, Result};
pub use fleet::{Fleet, FleetBuilder, Member, ServerHealth};
pub use policy::Policy;
pub use protocol::{ProtocolVersion, VersionChoice};
pub use session::{
    CallOptions, ElicitationHandler, HandlerError, ListKind, ListedRoots, MessageHandler,
    RequestContext, RootsHandler, SamplingHandler, ServerMessage, ServerNotification,
};
pub use transport::{IntoSource, Source};
