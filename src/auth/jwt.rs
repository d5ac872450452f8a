//! `private_key_jwt` client authentication (RFC 7523): the client proves
//! who it is with a short-lived JWT signed by its key (ES256, P-256), not
//! a shared secret.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use ring::digest::{digest, SHA256};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use super::pkce::{base64url, random_string};
use crate::error::AuthErrorKind;
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
        let bad = |why: &str| {
            Error::auth(
                AuthErrorKind::Credentials,
                format!("the client's private key: {why}"),
            )
        };
        let body: String = pem
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("-----"))
            .collect();
        if !pem.contains("BEGIN PRIVATE KEY") {
            return Err(bad("expected a PKCS#8 PEM (BEGIN PRIVATE KEY)"));
        }
        let der = STANDARD
            .decode(&body)
            .map_err(|_| bad("the PEM body is not base64"))?;
        let pair =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &der, &SystemRandom::new())
                .map_err(|e| bad(&format!("not a P-256 PKCS#8 key with its public key ({e})")))?;
        Ok(SigningKey {
            pair: Arc::new(pair),
        })
    }

    /// A fresh random P-256 key (e.g. an ephemeral DPoP key), never
    /// written anywhere.
    pub fn generate() -> Result<SigningKey> {
        let rng = SystemRandom::new();
        let pkcs8 =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).map_err(|_| {
                Error::auth(AuthErrorKind::Credentials, "generating a P-256 key failed")
            })?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .map_err(|_| {
                Error::auth(
                    AuthErrorKind::Credentials,
                    "loading the generated P-256 key failed",
                )
            })?;
        Ok(SigningKey {
            pair: Arc::new(pair),
        })
    }

    /// The public key as a JWK (RFC 7517): `kty`, `crv`, `x`, `y`, never
    /// the private part.
    pub fn public_jwk(&self) -> Value {
        let (x, y) = self.coordinates();
        json!({"kty": "EC", "crv": "P-256", "x": x, "y": y})
    }

    /// The RFC 7638 JWK SHA-256 thumbprint of the public key (what a
    /// DPoP-bound token names in `cnf.jkt`).
    pub fn thumbprint(&self) -> String {
        let (x, y) = self.coordinates();
        // The required members in lexicographic order, no whitespace.
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        base64url(digest(&SHA256, canonical.as_bytes()).as_ref())
    }

    /// The public point's coordinates, base64url (the key is the
    /// uncompressed point `04 || x || y`).
    fn coordinates(&self) -> (String, String) {
        let point = self.pair.public_key().as_ref();
        let (x, y) = point
            .get(1..)
            .unwrap_or_default()
            .split_at(point.len().saturating_sub(1) / 2);
        (base64url(x), base64url(y))
    }

    /// A compact JWS (ES256) of `header` and `claims`.
    pub(crate) fn sign_jwt(&self, header: &Value, claims: &Value) -> Result<String> {
        let signing_input = format!(
            "{}.{}",
            base64url(header.to_string().as_bytes()),
            base64url(claims.to_string().as_bytes())
        );
        let signature = self
            .pair
            .sign(&SystemRandom::new(), signing_input.as_bytes())
            .map_err(|_| Error::auth(AuthErrorKind::Credentials, "signing a JWT failed"))?;
        Ok(format!("{signing_input}.{}", base64url(signature.as_ref())))
    }

    /// A client assertion for `client_id` at `audience` (the
    /// authorization server's issuer), valid for five minutes.
    pub fn client_assertion(&self, client_id: &str, audience: &str) -> Result<String> {
        let now = now_secs();
        let header = json!({"alg": "ES256", "typ": "JWT"});
        let claims = json!({
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "iat": now,
            "exp": now + 300,
            "jti": random_string(16)?,
        });
        self.sign_jwt(&header, &claims)
    }
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
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
        let decode = |s: &str| URL_SAFE_NO_PAD.decode(s).unwrap();
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
    fn generated_keys_have_a_public_jwk_and_its_thumbprint() {
        let key = SigningKey::generate().unwrap();
        let jwk = key.public_jwk();
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], "P-256");
        assert!(jwk.get("d").is_none());
        let x = jwk["x"].as_str().unwrap();
        let y = jwk["y"].as_str().unwrap();
        assert_eq!((x.len(), y.len()), (43, 43));
        // The thumbprint is SHA-256 over the canonical JSON (RFC 7638 §3).
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        assert_eq!(
            key.thumbprint(),
            base64url(digest(&SHA256, canonical.as_bytes()).as_ref())
        );
        assert_ne!(
            key.thumbprint(),
            SigningKey::generate().unwrap().thumbprint()
        );
        // The JWK's point is the key's public key.
        let std = |s: &str| URL_SAFE_NO_PAD.decode(s).unwrap();
        let mut point = vec![4u8];
        point.extend(std(x));
        point.extend(std(y));
        assert_eq!(point, key.pair.public_key().as_ref());
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
