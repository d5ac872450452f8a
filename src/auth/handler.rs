//! The interactive step of the authorization code flow: someone (a user
//! in a browser, or a test harness) visits the authorization URL and the
//! authorization server redirects back with `code` and `state`. An
//! [`AuthorizationHandler`] does that visit and returns the redirect URL.

use std::time::Duration;

use futures_util::future::BoxFuture;
use reqwest::header::LOCATION;
use reqwest::Url;

use super::http;
use crate::error::AuthErrorKind;
use crate::{Error, Result};

/// Sends the user to the authorization URL and returns the URL the
/// authorization server redirected back to (with `code` and `state`).
pub trait AuthorizationHandler: Send + Sync + 'static {
    /// The redirect URI this handler receives on, when it decides it (a
    /// loopback listener's port); `None` uses the configured one.
    fn redirect_uri(&self) -> Option<String> {
        None
    }

    /// Visits `url` (already checked: `https`, or `http` to a loopback
    /// host) and returns the full redirect URL. Must give up after its
    /// own deadline.
    fn authorize<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<String>>;
}

/// For unattended clients and tests: GETs the authorization URL without
/// following the redirect and returns its `Location`. Works with
/// authorization servers that approve without a user (the MCP
/// conformance suite's, or a test double).
pub struct HeadlessHandler {
    client: reqwest::Client,
    timeout: Duration,
}

impl HeadlessHandler {
    /// A handler whose GET gives up after 30 s.
    pub fn new() -> Result<Self> {
        Self::with_timeout(Duration::from_secs(30))
    }

    /// A handler whose GET gives up after `timeout`.
    pub fn with_timeout(timeout: Duration) -> Result<Self> {
        Ok(HeadlessHandler {
            client: http::client(timeout)?,
            timeout,
        })
    }
}

impl std::fmt::Debug for HeadlessHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HeadlessHandler")
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl AuthorizationHandler for HeadlessHandler {
    fn authorize<'a>(&'a self, url: &'a Url) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move {
            let send = self.client.get(url.clone()).send();
            let resp = tokio::time::timeout(self.timeout, send)
                .await
                .map_err(|_| {
                    Error::auth(
                        AuthErrorKind::Consent,
                        format!(
                            "the authorization endpoint did not answer within {:?}",
                            self.timeout
                        ),
                    )
                })?
                .map_err(|e| {
                    Error::auth(
                        AuthErrorKind::Consent,
                        format!("the authorization request failed: {}", e.without_url()),
                    )
                })?;
            let status = resp.status();
            if !status.is_redirection() {
                return Err(Error::auth(AuthErrorKind::Consent, format!(
                    "the authorization endpoint answered HTTP {status} instead of redirecting (it needs a user?)"
                )));
            }
            let location = resp
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    Error::auth(
                        AuthErrorKind::Consent,
                        "the authorization redirect has no Location",
                    )
                })?;
            url.join(location).map(String::from).map_err(|e| {
                Error::auth(
                    AuthErrorKind::Consent,
                    format!("the authorization redirect is not a URL: {e}"),
                )
            })
        })
    }
}
