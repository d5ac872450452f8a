//! What every HTTP transport (Streamable HTTP's POST, GET and DELETE,
//! legacy HTTP+SSE's GET and POST) does with an [`AuthProvider`]: put
//! its `Authorization` (and DPoP proof) on a request, hand it a 401/403
//! answer and send the request again when it renewed the credentials (a
//! bounded number of times), and pass on the `DPoP-Nonce` a successful
//! response carries.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, WWW_AUTHENTICATE};
use reqwest::{StatusCode, Url};

use crate::auth::{AuthProvider, Refusal, DPOP_NONCE_HEADER};
use crate::error::AuthErrorKind;
use crate::{Error, Result};

/// How many times one request is sent again after the provider renewed
/// credentials (a 401, or a 403 asking for more scopes).
pub(crate) const MAX_AUTH_ROUNDS: u32 = 3;

/// The provider's current `Authorization` value for `server_url` (it may
/// refresh a token first), marked sensitive so it never shows in logs.
pub(crate) async fn authorization(
    provider: &dyn AuthProvider,
    server_url: &Url,
) -> Result<Option<HeaderValue>> {
    let Some(value) = provider.authorization(server_url).await? else {
        return Ok(None);
    };
    let mut v = HeaderValue::from_str(&value).map_err(|_| {
        Error::auth(
            AuthErrorKind::Credentials,
            "the auth provider gave an invalid Authorization value",
        )
    })?;
    v.set_sensitive(true);
    Ok(Some(v))
}

/// Adds the provider's proof of possession (a DPoP proof, RFC 9449) for a
/// `method` request to `url` when `h` carries an `Authorization` the
/// provider binds to a key.
pub(crate) fn add_proof(
    provider: &dyn AuthProvider,
    method: &str,
    url: &Url,
    h: &mut HeaderMap,
) -> Result<()> {
    let Some(value) = h.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    if let Some(proof) = provider.dpop_proof(method, url, value)? {
        let mut v = HeaderValue::from_str(&proof).map_err(|_| {
            Error::auth(
                AuthErrorKind::Credentials,
                "the auth provider gave an invalid DPoP proof",
            )
        })?;
        v.set_sensitive(true);
        h.insert(HeaderName::from_static("dpop"), v);
    }
    Ok(())
}

/// Puts the provider's current `Authorization` and proof on a `method`
/// request to `url` (the MCP server is `server_url`). Returns the
/// `Authorization` value sent (a secret: compare it, never log it).
pub(crate) async fn authorize(
    provider: &dyn AuthProvider,
    server_url: &Url,
    method: &str,
    url: &Url,
    h: &mut HeaderMap,
) -> Result<Option<String>> {
    if let Some(v) = authorization(provider, server_url).await? {
        h.insert(AUTHORIZATION, v);
    }
    add_proof(provider, method, url, h)?;
    Ok(sent_authorization(h))
}

/// The `Authorization` value `h` carries (a secret).
pub(crate) fn sent_authorization(h: &HeaderMap) -> Option<String> {
    h.get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// An authorization error's text without the `authorization:` prefix of
/// [`Error::Auth`] (for messages that say so already).
pub(crate) fn detail(e: Error) -> String {
    match e {
        Error::Auth(a) => a.message,
        other => other.to_string(),
    }
}

/// `e` with `what` (the request it failed, the refusal it answered) in
/// front of its message; an authorization error keeps its kind.
pub(crate) fn in_context(what: &str, e: Error) -> Error {
    match e {
        Error::Auth(a) => Error::auth(a.kind, format!("{what}: {}", a.message)),
        other => other,
    }
}

/// What to do with a response after the provider saw it.
pub(crate) enum AuthStep {
    /// The provider has new credentials: send the request again.
    Retry,
    /// Handle the response as it is: not a refusal, a refusal the
    /// provider did not fix, or the rounds are spent.
    Proceed,
    /// Authorizing failed (an [`Error::Auth`] or what the provider gave).
    Failed(Error),
}

/// Shows one response of the MCP server at `server_url` to the provider:
/// the `DPoP-Nonce` of a successful response (RFC 9449 §9), and a 401 or
/// 403 while fewer than [`MAX_AUTH_ROUNDS`] renewals were spent on this
/// request (`rounds` counts them). `sent_authorization` is the
/// `Authorization` the request carried.
pub(crate) async fn on_response(
    provider: Option<&dyn AuthProvider>,
    server_url: &Url,
    resp: &reqwest::Response,
    sent_authorization: Option<&str>,
    rounds: &mut u32,
) -> AuthStep {
    on_answer(
        provider,
        server_url,
        resp.status(),
        resp.headers(),
        sent_authorization,
        rounds,
    )
    .await
}

/// [`on_response`] given the status and headers.
async fn on_answer(
    provider: Option<&dyn AuthProvider>,
    server_url: &Url,
    status: StatusCode,
    headers: &HeaderMap,
    sent_authorization: Option<&str>,
    rounds: &mut u32,
) -> AuthStep {
    let Some(provider) = provider else {
        return AuthStep::Proceed;
    };
    let nonce = headers
        .get(DPOP_NONCE_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if status.is_success() {
        if let Some(nonce) = &nonce {
            provider.observe_nonce(server_url, nonce);
        }
        return AuthStep::Proceed;
    }
    let code = status.as_u16();
    if !matches!(code, 401 | 403) || *rounds >= MAX_AUTH_ROUNDS {
        return AuthStep::Proceed;
    }
    *rounds += 1;
    let refusal = Refusal {
        status: code,
        www_authenticate: headers
            .get_all(WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_owned)
            .collect(),
        server_url,
        sent_authorization,
        dpop_nonce: nonce,
    };
    match provider.refused(refusal).await {
        Ok(true) => AuthStep::Retry,
        Ok(false) => AuthStep::Proceed,
        Err(e) => AuthStep::Failed(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::future::BoxFuture;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Mutex;

    /// Renews on every refusal; remembers the nonces it was shown.
    #[derive(Default)]
    struct Always {
        refusals: AtomicU32,
        nonces: Mutex<Vec<String>>,
    }

    impl AuthProvider for Always {
        fn authorization<'a>(&'a self, _: &'a Url) -> BoxFuture<'a, Result<Option<String>>> {
            Box::pin(async { Ok(Some("Bearer t".to_owned())) })
        }
        fn refused<'a>(&'a self, _: Refusal<'a>) -> BoxFuture<'a, Result<bool>> {
            self.refusals.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { Ok(true) })
        }
        fn observe_nonce(&self, _: &Url, nonce: &str) {
            self.nonces.lock().unwrap().push(nonce.to_owned());
        }
    }

    async fn answer(
        p: Option<&dyn AuthProvider>,
        status: u16,
        nonce: Option<&str>,
        rounds: &mut u32,
    ) -> AuthStep {
        let url = Url::parse("http://127.0.0.1:9/mcp").unwrap();
        let mut h = HeaderMap::new();
        if let Some(n) = nonce {
            h.insert("dpop-nonce", HeaderValue::from_str(n).unwrap());
        }
        let status = StatusCode::from_u16(status).unwrap();
        on_answer(p, &url, status, &h, Some("Bearer t"), rounds).await
    }

    #[tokio::test]
    async fn refusals_are_bounded_and_nonces_of_successes_observed() {
        let p = Always::default();
        let mut rounds = 0;
        let mut retries = 0;
        for _ in 0..10 {
            match answer(Some(&p), 401, None, &mut rounds).await {
                AuthStep::Retry => retries += 1,
                AuthStep::Proceed => break,
                AuthStep::Failed(e) => panic!("{e}"),
            }
        }
        assert_eq!(retries, MAX_AUTH_ROUNDS);
        assert_eq!(p.refusals.load(Ordering::SeqCst), MAX_AUTH_ROUNDS);
        let mut rounds = 0;
        assert!(matches!(
            answer(Some(&p), 200, Some("n-2"), &mut rounds).await,
            AuthStep::Proceed
        ));
        assert!(matches!(
            answer(Some(&p), 500, Some("n-3"), &mut rounds).await,
            AuthStep::Proceed
        ));
        assert_eq!(*p.nonces.lock().unwrap(), vec!["n-2".to_owned()]);
        assert_eq!(rounds, 0);
        // No provider: nothing to do.
        assert!(matches!(
            answer(None, 401, None, &mut rounds).await,
            AuthStep::Proceed
        ));
    }
}
