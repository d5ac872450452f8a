//! PKCE (RFC 7636, S256 only), `state` values and the base64 codings the
//! flow needs. Randomness and SHA-256 come from *ring* (already linked for
//! TLS).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ring::digest::{digest, SHA256};
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::AuthErrorKind;
use crate::{Error, Result};

/// base64url without padding (RFC 4648 §5), as PKCE, `state` and JWTs use
/// it.
pub(crate) fn base64url(input: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(input)
}

/// `n` random bytes as base64url.
pub(crate) fn random_string(n: usize) -> Result<String> {
    let mut bytes = vec![0u8; n];
    SystemRandom::new().fill(&mut bytes).map_err(|_| {
        Error::auth(
            AuthErrorKind::Credentials,
            "the system random number generator failed",
        )
    })?;
    Ok(base64url(&bytes))
}

/// A PKCE verifier and its S256 challenge. The verifier is a secret until
/// the token request: never logged or shown by `Debug`.
#[derive(Clone)]
pub struct Pkce {
    verifier: String,
    challenge: String,
}

impl Pkce {
    /// A fresh verifier: 32 random bytes, 43 base64url characters.
    pub fn new() -> Result<Pkce> {
        Ok(Pkce::from_verifier(random_string(32)?))
    }

    /// The pair for a given verifier.
    pub fn from_verifier(verifier: impl Into<String>) -> Pkce {
        let verifier = verifier.into();
        let challenge = base64url(digest(&SHA256, verifier.as_bytes()).as_ref());
        Pkce {
            verifier,
            challenge,
        }
    }

    /// The `code_verifier` (sent to the token endpoint only).
    pub fn verifier(&self) -> &str {
        &self.verifier
    }

    /// The `code_challenge` (sent in the authorization request).
    pub fn challenge(&self) -> &str {
        &self.challenge
    }

    /// Always `S256`: `plain` is never used.
    pub fn method(&self) -> &'static str {
        "S256"
    }
}

impl std::fmt::Debug for Pkce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkce")
            .field("challenge", &self.challenge)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b() {
        let p = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        assert_eq!(p.challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert_eq!(p.method(), "S256");
        assert!(!format!("{p:?}").contains("dBjft"));
    }

    #[test]
    fn fresh_verifiers_are_long_enough_and_differ() {
        let a = Pkce::new().unwrap();
        let b = Pkce::new().unwrap();
        assert_eq!(a.verifier().len(), 43);
        assert_ne!(a.verifier(), b.verifier());
        assert!(a
            .verifier()
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    }

    #[test]
    fn base64url_is_url_safe_and_unpadded() {
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
        assert_eq!(base64url(b"a"), "YQ");
    }
}
