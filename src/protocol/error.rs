//! The one error of the wire-data layer: text that is not protocol data
//! we know. It converts into the crate's [`Error`](crate::Error).

/// Protocol data given as text that we cannot read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// A protocol version this library does not speak.
    #[error("unknown protocol version {given:?}; known: {known}")]
    UnknownVersion {
        /// The version asked for.
        given: String,
        /// The versions we speak, newest first, comma-separated.
        known: String,
    },
    /// A path that cannot be a `file://` URI (a relative one).
    #[error("{path}: not an absolute path, so it cannot be a file:// URI")]
    NotAFileUri {
        /// The path as given.
        path: String,
    },
    /// A `blob` (or other base64 field) that is not base64.
    #[error("invalid base64: {reason}")]
    InvalidBase64 {
        /// What is wrong with it.
        reason: String,
    },
}
