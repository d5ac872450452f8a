//! An MCP server that runs in this process: for the in-memory transport,
//! tests, the demo, and fault injection. A thin layer on the server core
//! ([`crate::server`]): builder conveniences that take JSON, the demo
//! server, and [`Fault`]s, which plug into the core as its
//! [`Interceptor`](crate::server::Interceptor).
//!
//! One [`TestServer`] speaks both protocol eras at once (see [`Eras`]):
//! 2026-07-28 (`server/discover`, `_meta` on every request, input-required
//! rounds, `subscriptions/listen`) and the `initialize` handshake of
//! 2025-11-25 and earlier (server→client requests, `logging/setLevel`,
//! `resources/subscribe`). Tool handlers are written once and work in both:
//! [`ToolContext`] turns an ask into whichever mechanism the request's era
//! uses.
//!
//! ```no_run
//! use serde_json::json;
//! use switchboard::testing::{structured_result, TestServer, ToolDef};
//!
//! let server = TestServer::builder("calc")
//!     .version("1.0.0")
//!     .tool(
//!         ToolDef::new("add").description("Adds two numbers"),
//!         |_ctx, args| async move {
//!             let a = args["a"].as_f64().ok_or("a must be a number")?;
//!             let b = args["b"].as_f64().ok_or("b must be a number")?;
//!             Ok(structured_result(json!({"sum": a + b})))
//!         },
//!     )
//!     .build();
//! let source = switchboard::Source::memory(server);
//! ```
//!
//! Misbehaviour is declared with [`TestServerBuilder::tool_fault`] and
//! [`TestServerBuilder::method_fault`] (see [`Fault`]); [`TestServer::serve_stdio`]
//! serves over this process's stdin and stdout, so tests can run the server
//! as a real child process.
//!
//! In the modern era an ask from a handler ([`ToolContext::sample`],
//! [`ToolContext::elicit`], [`ToolContext::list_roots`]) that has no answer
//! yet ends the run with [`ToolError::InputRequired`]; the server replies
//! `input_required` with the ask under a key made of its kind and its
//! position among the run's asks (`sample-0`, `elicit-1`, `roots-2`) and a
//! `requestState` token standing for the answers so far. The client's retry
//! re-runs the handler, which now finds those answers.
#![warn(missing_docs)]

mod builder;
mod context;
mod demo;
mod faults;
mod memory_url;
mod shapes;
mod stdio;

#[cfg(test)]
mod tests;

use std::fmt;

use futures_util::future::BoxFuture;

pub use builder::{PromptDef, ResourceBody, ResourceDef, TemplateDef, TestServerBuilder, ToolDef};
pub use context::{LogLevel, ToolContext, ToolError};
pub use demo::{demo_builder, demo_server};
pub use faults::Fault;
pub use memory_url::{memory_source, DEMO_URL};
pub use shapes::{error_result, structured_result, text_result};

pub use crate::server::{CompletionRef, Eras};

use crate::server::Server;
use crate::transport::{InProcessServer, ServerEnd};

/// An in-process MCP server; cheap to clone (clones share connections and
/// state). Build one with [`TestServer::builder`].
#[derive(Clone)]
pub struct TestServer {
    server: Server,
    eras: Eras,
    tools: usize,
}

impl fmt::Debug for TestServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TestServer")
            .field("name", &self.name())
            .field("eras", &self.eras)
            .field("tools", &self.tools)
            .finish_non_exhaustive()
    }
}

impl TestServer {
    /// Starts describing a server called `name`.
    pub fn builder(name: impl Into<String>) -> TestServerBuilder {
        TestServerBuilder::new(name)
    }

    /// The server's name, as in `serverInfo`.
    pub fn name(&self) -> &str {
        &self.server.info().name
    }

    /// The server core underneath.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// How many clients are connected right now.
    pub fn connections(&self) -> usize {
        self.server.connections()
    }

    /// Tells clients the tool list changed: `notifications/tools/list_changed`
    /// to initialized handshake clients and to modern listeners that asked.
    pub fn notify_tools_changed(&self) {
        self.server.notifier().tools_changed();
    }

    /// Tells clients the prompt list changed.
    pub fn notify_prompts_changed(&self) {
        self.server.notifier().prompts_changed();
    }

    /// Tells clients the resource list changed.
    pub fn notify_resources_changed(&self) {
        self.server.notifier().resources_changed();
    }

    /// Tells clients subscribed to `uri` (or a resource above it) that it
    /// changed: `notifications/resources/updated`.
    pub fn notify_resource_updated(&self, uri: impl Into<String>) {
        self.server.notifier().resource_updated(uri);
    }

    /// Ends every modern `subscriptions/listen` on every connection, the way
    /// a server shutting down does: each listen request gets its result
    /// `{resultType: "complete", _meta: {subscriptionId}}`.
    pub fn end_subscriptions(&self) {
        self.server.notifier().end_subscriptions();
    }

    /// Serves one client over the channel pair until it hangs up.
    pub fn serve_end(
        &self,
        end: ServerEnd,
    ) -> impl std::future::Future<Output = ()> + Send + 'static {
        self.server.serve(end)
    }
}

impl InProcessServer for TestServer {
    fn serve(&self, end: ServerEnd) -> BoxFuture<'static, ()> {
        Box::pin(self.server.serve(end))
    }
}
