//! DPoP (RFC 9449, the MCP `dpop` extension, SEP-1932): tokens bound to a
//! key the client holds. Each token request and each request to the MCP
//! server carries a fresh proof: a JWT (`typ` `dpop+jwt`, ES256, the
//! public key in its `jwk` header) naming the HTTP method (`htm`), the
//! URL without query or fragment (`htu`), a unique `jti`, `iat`, and at
//! the resource server the access token's hash (`ath`). A server that
//! wants a nonce answers `use_dpop_nonce` with a `DPoP-Nonce` header; the
//! nonce is kept per origin and the request sent again.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use reqwest::Url;
use ring::digest::{digest, SHA256};
use serde_json::json;

use super::jwt::{now_secs, SigningKey};
use super::pkce::{base64url, random_string};
use crate::Result;

/// The request and response header of a proof, and of a server's nonce.
pub const DPOP_HEADER: &str = "DPoP";
/// The response header carrying a server-supplied nonce.
pub const DPOP_NONCE_HEADER: &str = "DPoP-Nonce";

/// Longest nonce kept (a server's nonce is short; this bounds what a
/// peer can make us store and echo).
const NONCE_LIMIT: usize = 1024;

/// The client's DPoP key and the nonces servers gave it. The key is never
/// shown by `Debug`.
pub(crate) struct Dpop {
    key: SigningKey,
    /// Origin (`scheme://host:port`) → the latest nonce it sent.
    nonces: Mutex<HashMap<String, String>>,
}

impl fmt::Debug for Dpop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dpop")
            .field("jkt", &self.key.thumbprint())
            .finish_non_exhaustive()
    }
}

/// `htu`: the URL without query and fragment (RFC 9449 §4.2).
pub(crate) fn htu(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    u.to_string()
}

/// `ath`: base64url(SHA-256(access token)) (RFC 9449 §4.2).
pub(crate) fn ath(access_token: &str) -> String {
    base64url(digest(&SHA256, access_token.as_bytes()).as_ref())
}

/// A nonce as RFC 9449 §8.1 allows it (`1*NQCHAR`), bounded.
fn valid_nonce(nonce: &str) -> bool {
    !nonce.is_empty()
        && nonce.len() <= NONCE_LIMIT
        && nonce
            .bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

impl Dpop {
    /// Proofs signed with `key`.
    pub(crate) fn new(key: SigningKey) -> Dpop {
        Dpop {
            key,
            nonces: Mutex::new(HashMap::new()),
        }
    }

    fn nonces(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.nonces.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A fresh proof for `method` `url`, bound to `access_token` when one
    /// is presented, with the nonce `url`'s origin last gave, if any.
    pub(crate) fn proof(
        &self,
        method: &str,
        url: &Url,
        access_token: Option<&str>,
    ) -> Result<String> {
        let header = json!({
            "typ": "dpop+jwt",
            "alg": "ES256",
            "jwk": self.key.public_jwk(),
        });
        let mut claims = json!({
            "jti": random_string(16)?,
            "htm": method,
            "htu": htu(url),
            "iat": now_secs(),
        });
        if let Some(token) = access_token {
            claims["ath"] = json!(ath(token));
        }
        if let Some(nonce) = self.nonces().get(&url.origin().ascii_serialization()) {
            claims["nonce"] = json!(nonce);
        }
        self.key.sign_jwt(&header, &claims)
    }

    /// Keeps the nonce `url`'s server supplied. False when it is not a
    /// valid nonce (ignored).
    pub(crate) fn learn_nonce(&self, url: &Url, nonce: &str) -> bool {
        let nonce = nonce.trim();
        if !valid_nonce(nonce) {
            tracing::debug!("ignoring an invalid DPoP-Nonce");
            return false;
        }
        self.nonces()
            .insert(url.origin().ascii_serialization(), nonce.to_owned());
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
    use serde_json::Value;

    fn b64(s: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(s).unwrap()
    }

    /// Header and claims of a proof, after checking its signature with
    /// the key in its own `jwk` header (what a server does).
    fn verified(proof: &str) -> (Value, Value) {
        let parts: Vec<&str> = proof.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: Value = serde_json::from_slice(&b64(parts[0])).unwrap();
        let claims: Value = serde_json::from_slice(&b64(parts[1])).unwrap();
        let mut point = vec![4u8];
        point.extend(b64(header["jwk"]["x"].as_str().unwrap()));
        point.extend(b64(header["jwk"]["y"].as_str().unwrap()));
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
            .verify(
                format!("{}.{}", parts[0], parts[1]).as_bytes(),
                &b64(parts[2]),
            )
            .expect("the proof verifies with its jwk");
        (header, claims)
    }

    #[test]
    fn a_proof_names_the_request_and_binds_the_token() {
        let dpop = Dpop::new(SigningKey::generate().unwrap());
        let url = Url::parse("https://mcp.example/mcp?session=1#frag").unwrap();
        let proof = dpop.proof("POST", &url, Some("the-access-token")).unwrap();
        let (header, claims) = verified(&proof);
        assert_eq!(header["typ"], "dpop+jwt");
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["jwk"]["kty"], "EC");
        assert!(
            header["jwk"].get("d").is_none(),
            "no private key in the jwk"
        );
        assert_eq!(claims["htm"], "POST");
        assert_eq!(claims["htu"], "https://mcp.example/mcp");
        let iat = claims["iat"].as_u64().unwrap();
        assert!(iat.abs_diff(now_secs()) <= 5);
        // ath = base64url(SHA-256("the-access-token")), computed apart.
        let expected = base64url(digest(&SHA256, b"the-access-token").as_ref());
        assert_eq!(claims["ath"], expected.as_str());
        assert_eq!(ath("the-access-token"), expected);
        assert!(claims.get("nonce").is_none());
        // Fresh each time: a new jti.
        let (_, again) = verified(&dpop.proof("POST", &url, Some("the-access-token")).unwrap());
        assert_ne!(claims["jti"], again["jti"]);
        // At the token endpoint there is no token to bind.
        let (_, token_req) = verified(
            &dpop
                .proof(
                    "POST",
                    &Url::parse("https://as.example/token").unwrap(),
                    None,
                )
                .unwrap(),
        );
        assert!(token_req.get("ath").is_none());
    }

    #[test]
    fn nonces_are_kept_per_origin_and_validated() {
        let dpop = Dpop::new(SigningKey::generate().unwrap());
        let rs = Url::parse("https://mcp.example/mcp").unwrap();
        let rs_other_path = Url::parse("https://mcp.example/other").unwrap();
        let as_ = Url::parse("https://as.example/token").unwrap();
        assert!(dpop.learn_nonce(&rs, "rs-nonce-1"));
        assert!(dpop.learn_nonce(&as_, "as-nonce"));
        let nonce = |u: &Url| verified(&dpop.proof("POST", u, None).unwrap()).1["nonce"].clone();
        assert_eq!(nonce(&rs), "rs-nonce-1");
        assert_eq!(nonce(&rs_other_path), "rs-nonce-1");
        assert_eq!(nonce(&as_), "as-nonce");
        // A newer nonce replaces the old one.
        assert!(dpop.learn_nonce(&rs, "rs-nonce-2"));
        assert_eq!(nonce(&rs), "rs-nonce-2");
        // Invalid nonces are ignored: quotes, backslashes, spaces, empty, huge.
        for bad in ["", "a\"b", "a\\b", "a b", &"x".repeat(NONCE_LIMIT + 1)] {
            assert!(!dpop.learn_nonce(&rs, bad), "{bad:?}");
        }
        assert_eq!(nonce(&rs), "rs-nonce-2");
        assert!(!format!("{dpop:?}").contains("rs-nonce"));
    }
}
