//! Wire data of the Model Context Protocol: pure types, no I/O.
//!
//! Types follow the 2026-07-28 schema and accept what 2025-11-25 back to
//! 2024-11-05 servers send. Where the spec allows extension, unknown fields
//! are kept (in `extra`) rather than dropped, so nothing a server says is lost
//! on the way to the caller.

pub mod codes;
pub mod jsonrpc;
pub mod version;

pub use jsonrpc::{ErrorObject, RequestId};
pub use version::{Era, ProtocolVersion, VersionChoice};
