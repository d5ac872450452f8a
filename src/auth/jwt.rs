//! `private_key_jwt` client authentication (RFC 7523): the client proves
//! who it is with a short-lived JWT signed by its key (ES256, P-256), not
//! a shared secret.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::json;

use super::pkce::{base64url, random_string};
use crate::{Error, Result};

/// The `client_assertion_type` of a JWT assertion.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A client's ES256 signing key. Never printed.
#[derive(Clone)]
pub struct SigningKey {
    pair: Arc<EcdsaKeyPair>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(ES256, <redacted>)")
    }
}

impl SigningKey {
    /// A P-256 key from a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pem(pem: &str) -> Result<SigningKey> {
        let bad = |why: &str| Error::Auth(format!("the client's private key: {why}"));
        let body: String = pem
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("-----"))
            .collect();
        if !pem.contains("BEGIN PRIVATE KEY") {
            return Err(bad("expected a PKCS#8 PEM (BEGIN PRIVATE KEY)"));
        }
        let der = base64_decode(&body).ok_or_else(|| bad("the PEM body is not base64"))?;
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &SystemRandom::new())
                .map_err(|e| bad(&format!("not a P-256 PKCS#8 key with its public key ({e})")))?;
        Ok(SigningKey {
            pair: Arc::new(pair),
        })
    }

    /// A client assertion for `client_id` at `audience` (the
    /// authorization server's issuer), valid for five minutes.
    pub fn client_assertion(&self, client_id: &str, audience: &str) -> Result<String> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let header = json!({"alg": "ES256", "typ": "JWT"});
        let claims = json!({
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": now,
            "exp": now + 300,
            "jti": random_string(16)?,
        });
        let signing_input = format!(
            "{}.{}",
            base64url(header.to_string().as_bytes()),
            base64url(claims.to_string().as_bytes())
        );
        let signature = self
            .pair
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map_err(|_| Error::Auth("signing the client assertion failed".into()))?;
        Ok(format!("{signing_input}.{}", base64url(signature.as_ref())))
    }
}

/// Standard base64 (padding optional).
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => break,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::signature::KeyPair;
    use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};

    // A throwaway P-256 key (generated for this test only).
    const PEM: &str = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgz6/CqW1pHqFWJ0Hn\ng380s0ELpNyJegE/4kUPCs9yoZehRANCAARu07MjGRDVejwauQ+WDm0eYV6e4XKR\nEgfS3F2BBJtZlgsSoHGLtAeM2zH44Y4l0jmhZucbOoZwors6L1eIfCJv\n-----END PRIVATE KEY-----";

    #[test]
    fn an_assertion_verifies_with_the_public_key_and_names_the_client() {
        let key = SigningKey::from_pem(PEM).unwrap();
        let jwt = key
            .client_assertion("client-1", "https://as.example/token")
            .unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let decode = |s: &str| {
            let std = s.replace('-', "+").replace('_', "/");
            base64_decode(&std).unwrap()
        };
        let claims: serde_json::Value = serde_json::from_slice(&decode(parts[1])).unwrap();
        assert_eq!(claims["iss"], "client-1");
        assert_eq!(claims["sub"], "client-1");
        assert_eq!(claims["aud"], "https://as.example/token");
        assert!(claims["exp"].as_u64().unwrap() > claims["iat"].as_u64().unwrap());
        let header: serde_json::Value = serde_json::from_slice(&decode(parts[0])).unwrap();
        assert_eq!(header["alg"], "ES256");
        let public = key.pair.public_key().as_ref().to_vec();
        let signed = format!("{}.{}", parts[0], parts[1]);
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public)
            .verify(signed.as_bytes(), &decode(parts[2]))
            .expect("a valid ES256 signature");
        assert!(!format!("{key:?}").contains("MIGH"));
    }

    #[test]
    fn bad_keys_are_clear_errors() {
        for bad in [
            "",
            "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        ] {
            let err = SigningKey::from_pem(bad).unwrap_err().to_string();
            assert!(err.contains("private key"), "{err}");
        }
    }
}
