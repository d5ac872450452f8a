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
}
