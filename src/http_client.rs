//! The one place `reqwest` clients are built: the TLS provider, the pool's
//! idle timeout, and the redirect policy every HTTP client of the crate
//! shares.
//!
//! **Redirects.** A redirect is followed only when it stays on the same
//! origin (scheme, host and port) and keeps the method and body (307 or
//! 308), at most [`MAX_REDIRECTS`] hops. Anything else ends the request
//! with a [`RedirectRefused`] error naming the origin it pointed at, and
//! nothing is sent there. reqwest strips only `Authorization` and cookies on
//! a cross-host hop; a POST re-sent elsewhere would still carry custom
//! headers (`X-Api-Key`), `Mcp-Session-Id` and the tool's arguments, and
//! the other origin's answer would be taken as the server's. A 301/302/303
//! would turn the POST into a GET with the same headers. rmcp follows the
//! same rule.

use std::fmt;
use std::time::Duration;

use reqwest::redirect::{Attempt, Policy};
use reqwest::Url;

/// Most same-origin redirects followed for one request.
pub(crate) const MAX_REDIRECTS: usize = 5;

/// How long an idle pooled connection is kept.
const POOL_IDLE: Duration = Duration::from_secs(90);

/// A client builder with the crate's TLS provider, pool and redirect
/// policy set; callers add their own timeouts and build.
pub(crate) fn builder(connect_timeout: Duration) -> reqwest::ClientBuilder {
    // reqwest is built without a default crypto provider (ring is lighter
    // than aws-lc); installing fails harmlessly if one is already set.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .pool_idle_timeout(POOL_IDLE)
        .redirect(redirect_policy())
}

/// Same-origin 307/308 only; see the module docs.
pub(crate) fn redirect_policy() -> Policy {
    Policy::custom(decide)
}

fn decide(attempt: Attempt<'_>) -> reqwest::redirect::Action {
    let Some(from) = attempt.previous().last() else {
        return attempt.stop();
    };
    let status = attempt.status().as_u16();
    let why = if !matches!(status, 307 | 308) {
        Some(Why::ChangesMethod(status))
    } else if !same_origin(from, attempt.url()) {
        Some(Why::OtherOrigin(status))
    } else if attempt.previous().len() > MAX_REDIRECTS {
        Some(Why::TooMany)
    } else {
        None
    };
    match why {
        None => attempt.follow(),
        Some(why) => {
            let to = origin(attempt.url());
            attempt.error(RedirectRefused { why, to })
        }
    }
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// `scheme://host:port` only: paths and queries may hold secrets.
fn origin(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(host), Some(port)) => format!("{}://{host}:{port}", url.scheme()),
        (Some(host), None) => format!("{}://{host}", url.scheme()),
        _ => url.scheme().to_string(),
    }
}

/// A redirect the policy would not follow. Shows up as the source of the
/// request's `reqwest::Error`, so transports report it in their usual
/// failure text.
#[derive(Debug)]
pub(crate) struct RedirectRefused {
    why: Why,
    /// The target's origin (never its path or query).
    to: String,
}

#[derive(Debug)]
enum Why {
    /// A 307/308 to another origin.
    OtherOrigin(u16),
    /// A 301/302/303 (or other 3xx), which re-sends as a GET.
    ChangesMethod(u16),
    /// More than [`MAX_REDIRECTS`] hops.
    TooMany,
}

impl fmt::Display for RedirectRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let to = &self.to;
        match self.why {
            Why::OtherOrigin(s) => write!(
                f,
                "refused a redirect (HTTP {s}) to another origin, {to}: only same-origin \
                 307/308 redirects are followed, and nothing was sent there"
            ),
            Why::ChangesMethod(s) => write!(
                f,
                "refused a redirect (HTTP {s}) to {to}: only same-origin 307/308 redirects \
                 are followed (a {s} would re-send the request as a GET)"
            ),
            Why::TooMany => write!(
                f,
                "more than {MAX_REDIRECTS} redirects (the last to {to}); not followed"
            ),
        }
    }
}

impl std::error::Error for RedirectRefused {}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn origins_compare_scheme_host_and_port() {
        assert!(same_origin(
            &url("http://127.0.0.1:80/a"),
            &url("http://127.0.0.1/b?c")
        ));
        assert!(!same_origin(
            &url("http://127.0.0.1:81/"),
            &url("http://127.0.0.1:82/")
        ));
        assert!(!same_origin(&url("http://h/"), &url("https://h/")));
        assert!(!same_origin(
            &url("http://a.example/"),
            &url("http://b.example/")
        ));
    }

    #[test]
    fn the_refusal_names_the_origin_not_the_path() {
        let e = RedirectRefused {
            why: Why::OtherOrigin(307),
            to: origin(&url("http://evil.example:8080/steal?token=s3cret")),
        };
        let text = e.to_string();
        assert!(text.contains("http://evil.example:8080"), "{text}");
        assert!(
            !text.contains("s3cret") && !text.contains("/steal"),
            "{text}"
        );
    }
}
