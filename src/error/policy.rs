//! What can go wrong setting up or talking to a policy.

/// A policy that could not be built, or could not be reached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// The configuration does not make sense (says which rule and why).
    #[error("policy configuration: {0}")]
    Config(String),
    /// A roots entry that is neither a URI nor a usable path.
    #[error("root {entry:?}: {reason}")]
    Root {
        /// The entry as configured.
        entry: String,
        /// Why it was refused.
        reason: String,
    },
    /// The actor runtime could not start, or the policy's actor is gone.
    #[error("policy unavailable: {0}")]
    Unavailable(String),
}
