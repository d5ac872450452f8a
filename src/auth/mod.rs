//! OAuth 2.1 for HTTP servers, as the MCP authorization spec asks.
//!
//! The HTTP transports (Streamable HTTP: POSTs, the GET stream, DELETE;
//! legacy HTTP+SSE: the GET stream and each POST) ask an [`AuthProvider`]
//! for the `Authorization` header of each request and tell it about 401
//! and 403 answers. [`OAuth`] is the provider for the MCP spec:
//!
//! 1. on a 401, discovery: the challenge's `resource_metadata` or the
//!    well-known Protected Resource Metadata (RFC 9728), whose `resource`
//!    must cover the server's URL; the authorization server's metadata
//!    (RFC 8414, OpenID Connect Discovery) whose `issuer` must be
//!    identical to the one asked for; with no PRM, the 2025-03-26 rules
//!    (metadata at the server's origin, else `/authorize`, `/token`,
//!    `/register`);
//! 2. the client's identity: pre-registered, a Client ID Metadata
//!    Document URL (when supported), or dynamic registration (RFC 7591),
//!    kept per issuer;
//! 3. the authorization code flow with PKCE S256, `state`, `resource`
//!    (RFC 8707) and the RFC 9207 `iss` check, through an
//!    [`AuthorizationHandler`] ([`BrowserHandler`] for people,
//!    [`HeadlessHandler`] for unattended servers and tests); or a grant
//!    without a browser: client credentials, a JWT-bearer assertion
//!    (workload identity), or an ID-JAG from the enterprise identity
//!    provider ([`TokenExchange`], SEP-990);
//!    With [`OAuthConfig::dpop`], tokens are bound to a key (DPoP, RFC
//!    9449) where the authorization server supports it;
//! 4. tokens in a [`TokenStore`] ([`MemoryTokenStore`], [`FileTokenStore`])
//!    keyed by issuer and resource, refreshed before they expire; a 403
//!    `insufficient_scope` re-authorizes with the union of the scopes.
//!
//! ```no_run
//! # async fn demo() -> switchboard::Result<()> {
//! use std::sync::Arc;
//! use switchboard::auth::{FileTokenStore, OAuthConfig};
//! use switchboard::{Client, Source};
//!
//! let oauth = OAuthConfig::new()
//!     .client_name("my-app")
//!     .store(Arc::new(FileTokenStore::new("/home/me/.config/my-app/tokens.json")))
//!     .build()?;
//! let client = Client::builder(Source::http_with_auth("https://mcp.example.com/mcp", Arc::new(oauth)))
//!     .connect_timeout(std::time::Duration::from_secs(300)) // a person is in the loop
//!     .connect()
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! Tokens, secrets, codes and verifiers never reach logs or `Debug`
//! output. Every call to an authorization server has a deadline and never
//! follows redirects; its URLs must be `https`, or `http` to a loopback
//! host.

mod assertion;
mod atomic_write;
mod browser;
pub(crate) mod challenge;
mod dpop;
mod file_lock;
mod flow;
mod handler;
mod http;
mod jwt;
pub(crate) mod metadata;
mod oauth;
mod pkce;
mod provider;
mod registration;
mod store;
mod store_file;
mod table;
mod token_exchange;
mod verify;

pub use assertion::{Assertion, JWT_BEARER_GRANT};
pub use browser::BrowserHandler;
pub use challenge::{bearer_challenge, oauth_challenge, wants_dpop_nonce, Challenge};
pub use dpop::{DPOP_HEADER, DPOP_NONCE_HEADER};
pub use flow::{select_scopes, union_scopes};
pub use handler::{AuthorizationHandler, HeadlessHandler};
pub use jwt::{SigningKey, JWT_BEARER};
pub use metadata::{
    auth_server_metadata_urls, canonical_resource, resource_matches, resource_metadata_urls,
    AuthServerMetadata, ResourceMetadata,
};
pub use oauth::{Grant, OAuth, OAuthConfig};
pub use pkce::Pkce;
pub use provider::{AuthProvider, Refusal};
pub use registration::{choose_client_auth, ClientAuth};
pub use store::{ClientCredentials, MemoryTokenStore, StoreKey, StoredAuth, TokenStore, Tokens};
pub use store_file::FileTokenStore;
pub use table::OAUTH_KEYS;
pub use token_exchange::{TokenExchange, ID_JAG_TOKEN_TYPE, ID_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT};
pub use verify::{Claims, JwtVerifier, TokenRejected, DEFAULT_LEEWAY};
