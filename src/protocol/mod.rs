//! Wire data of the Model Context Protocol: pure types, no I/O.
//!
//! Types follow the 2026-07-28 schema and accept what 2025-11-25 back to
//! 2024-11-05 servers send. Where the spec allows extension, unknown fields
//! are kept (in `extra`) rather than dropped, so nothing a server says is lost
//! on the way to the caller.

pub mod codes;
pub mod jsonrpc;
pub mod version;

pub mod capabilities;
pub mod common;
pub mod completion;
pub mod content;
mod content_de;
pub mod elicitation;
mod error;
pub mod input_required;
mod key;
pub mod lifecycle;
pub mod logging;
pub(crate) mod param_headers;
pub mod progress;
pub mod prompts;
pub mod request;
pub mod request_meta;
pub mod resources;
pub mod result;
pub mod roots;
pub mod sampling;
pub mod skills;
pub mod subscriptions;
pub mod tasks;
pub(crate) mod time;
mod tool_result_de;
pub mod tools;
pub mod trace_context;

#[cfg(test)]
mod tests;

pub use error::ProtocolError;
pub use jsonrpc::{ErrorObject, RequestId};
pub use version::{Era, ProtocolVersion, VersionChoice};

pub use capabilities::*;
pub use common::{
    Annotations, Cursor, EmptyParams, Icon, IconTheme, Implementation, JsonObject, Meta,
    OrderedMap, PaginatedRequestParams, Role,
};
pub use completion::*;
pub use content::*;
pub use elicitation::*;
pub use input_required::*;
pub use lifecycle::*;
pub use logging::*;
pub use progress::*;
pub use prompts::*;
pub use request::{Encodes, Notification, Request};
pub use request_meta::RequestMeta;
pub use resources::*;
pub use result::{Cacheable, EmptyResult, Page, ResultEnvelope, ResultType};
pub use roots::*;
pub use sampling::*;
pub use skills::*;
pub use subscriptions::*;
pub use tasks::*;
pub use tools::*;
pub use trace_context::TraceContext;
