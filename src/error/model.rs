//! What can go wrong asking a model.

use std::time::Duration;

/// A failed model call (or one refused before it was made).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The endpoint answered with an HTTP error status.
    #[error("model endpoint answered HTTP {status}: {body}")]
    Http {
        /// The status code.
        status: u16,
        /// The start of the response body (at most [`BODY_EXCERPT`] bytes).
        body: String,
    },
    /// No complete answer within the deadline.
    #[error("model endpoint gave no answer within {after:?}")]
    Timeout {
        /// The deadline that passed.
        after: Duration,
    },
    /// The answer was not a chat completion we could read.
    #[error("malformed reply from the model endpoint: {detail}")]
    Malformed {
        /// What was wrong.
        detail: String,
    },
    /// The endpoint could not be reached (refused, reset, DNS, TLS).
    #[error("could not reach the model endpoint: {detail}")]
    Connect {
        /// What failed.
        detail: String,
    },
    /// An approval hook (or the user behind it) refused the call.
    #[error("model call refused: {reason}")]
    Refused {
        /// Why.
        reason: String,
    },
    /// A budget is spent.
    #[error("model budget exceeded: {detail}")]
    Budget {
        /// Which budget and how much of it is used.
        detail: String,
    },
    /// The client or request could not be built (bad URL, bad header).
    #[error("model configuration: {0}")]
    Config(String),
}

/// How many bytes of an error body an [`ModelError::Http`] keeps.
pub const BODY_EXCERPT: usize = 512;

impl ModelError {
    /// A stable, machine-readable name of the variant.
    pub fn code(&self) -> &'static str {
        match self {
            ModelError::Http { .. } => "model_http",
            ModelError::Timeout { .. } => "model_timeout",
            ModelError::Malformed { .. } => "model_malformed",
            ModelError::Connect { .. } => "model_connect",
            ModelError::Refused { .. } => "model_refused",
            ModelError::Budget { .. } => "model_budget",
            ModelError::Config(_) => "model_config",
        }
    }

    /// An [`ModelError::Http`] with the body cut to an excerpt (on a char
    /// boundary).
    pub fn http(status: u16, body: &[u8]) -> Self {
        ModelError::Http {
            status,
            body: excerpt(body),
        }
    }
}

/// The start of a body as text, cut to [`BODY_EXCERPT`] bytes.
pub(crate) fn excerpt(body: &[u8]) -> String {
    excerpt_str(&String::from_utf8_lossy(body))
}

/// The start of a text, cut to [`BODY_EXCERPT`] bytes.
pub(crate) fn excerpt_str(text: &str) -> String {
    let text = text.trim();
    if text.len() <= BODY_EXCERPT {
        return text.to_owned();
    }
    let mut end = BODY_EXCERPT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_bodies_are_cut_on_a_char_boundary() {
        let body = "é".repeat(1000);
        match ModelError::http(500, body.as_bytes()) {
            ModelError::Http { status, body } => {
                assert_eq!(status, 500);
                assert!(body.len() <= BODY_EXCERPT + 3);
                assert!(body.ends_with("..."));
            }
            other => panic!("{other:?}"),
        }
    }
}
