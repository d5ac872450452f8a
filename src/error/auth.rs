//! Why authorizing to an HTTP server failed.

use std::fmt;

/// Authorizing to an HTTP server failed, or was refused for safety.
///
/// [`AuthError::kind`] says which part of OAuth failed, for code that
/// reacts (ask the user again, clear a store, report a misconfigured
/// server); the message says what happened, for people. Messages never
/// carry a token, a secret or a URL's query.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthError {
    /// Which part failed.
    pub kind: AuthErrorKind,
    /// What happened.
    pub message: String,
}

/// Which part of authorizing failed (see [`AuthError`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuthErrorKind {
    /// Finding the authorization server: the protected resource or
    /// authorization server metadata is missing, invalid or incomplete.
    Discovery,
    /// Registering this client: refused, not offered, or an unusable
    /// answer.
    Registration,
    /// The user's part: no browser, no redirect in time, or the user
    /// (or the server for them) refused.
    Consent,
    /// The token endpoint or a token exchange refused the grant or sent
    /// no usable token.
    Token,
    /// Refused for safety: an issuer or resource that does not match, no
    /// PKCE S256, a `state` that does not match, a URL that is neither
    /// `https` nor loopback `http`.
    Unsafe,
    /// The token store: unreadable, unwritable, locked by another writer,
    /// or with permissions that let other users plant tokens.
    Store,
    /// This client's own credentials: a private key, an assertion, a
    /// signature, the random number generator, or an auth provider's
    /// header value.
    Credentials,
    /// The MCP server refused the credentials (HTTP 401 or 403) and the
    /// auth provider could not renew them, or the server refused them
    /// again after it did.
    Refused,
    /// An authorization endpoint could not be reached, did not answer in
    /// time, or sent a body past the size limit.
    Http,
}

impl AuthError {
    /// An error of `kind` saying `message`.
    pub fn new(kind: AuthErrorKind, message: impl Into<String>) -> Self {
        AuthError {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AuthError {}
