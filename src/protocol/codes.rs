//! JSON-RPC and MCP error codes a client must recognise.

/// Invalid JSON was received.
pub const PARSE_ERROR: i64 = -32700;
/// The JSON sent is not a valid request.
pub const INVALID_REQUEST: i64 = -32600;
/// The method does not exist or the capability was not advertised.
pub const METHOD_NOT_FOUND: i64 = -32601;
/// Invalid parameters (also: unknown tool, resource not found in 2026-07-28).
pub const INVALID_PARAMS: i64 = -32602;
/// Internal error.
pub const INTERNAL_ERROR: i64 = -32603;
/// Resource not found (2025-11-25 and earlier).
pub const RESOURCE_NOT_FOUND_LEGACY: i64 = -32002;
/// URL elicitation required (2025-11-25 only).
pub const URL_ELICITATION_REQUIRED: i64 = -32042;
/// HTTP headers do not match the body (2026-07-28).
pub const HEADER_MISMATCH: i64 = -32020;
/// The request lacks a client capability the server needs (2026-07-28).
pub const MISSING_REQUIRED_CLIENT_CAPABILITY: i64 = -32021;
/// The server does not speak the requested revision (2026-07-28).
pub const UNSUPPORTED_PROTOCOL_VERSION: i64 = -32022;
/// The user rejected a sampling request (client reply, handshake era).
pub const USER_REJECTED: i64 = -1;

/// True for codes that only a 2026-07-28 server sends, which prove the era.
pub fn is_modern_only(code: i64) -> bool {
    matches!(
        code,
        HEADER_MISMATCH | MISSING_REQUIRED_CLIENT_CAPABILITY | UNSUPPORTED_PROTOCOL_VERSION
    )
}
