//! [`OAuthConfig`] from a config file's `auth` table
//! (`{"type": "oauth", ...}` in `mcpServers`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use super::assertion::Assertion;
use super::oauth::{Grant, OAuthConfig};
use super::store::MemoryTokenStore;
use super::store_file::FileTokenStore;
use super::token_exchange::TokenExchange;
use crate::{Error, Result};

/// The keys an `auth` table of type `oauth` may have.
pub const OAUTH_KEYS: [&str; 20] = [
    "client_id",
    "client_secret",
    "private_key_pem",
    "assertion",
    "assertion_file",
    "idp_token_endpoint",
    "idp_client_id",
    "idp_client_secret",
    "id_token",
    "id_token_file",
    "dpop",
    "dpop_key_pem",
    "issuer",
    "client_metadata_url",
    "client_name",
    "scopes",
    "redirect_uri",
    "token_store",
    "grant",
    "timeout",
];

fn text(key: &str, v: &Value) -> Result<String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::config_field(format!("auth.{key}"), "expected a string"))
}

impl OAuthConfig {
    /// Reads an `auth` table: `client_id`, `client_secret`, `issuer`,
    /// `private_key_pem` (a P-256 PKCS#8 key, for `private_key_jwt`: put
    /// it in an environment variable and write `"${MY_KEY}"`),
    /// `client_metadata_url`, `client_name`, `scopes` (a list or a
    /// space-separated string), `redirect_uri`, `token_store` (`"memory"`,
    /// the default, or a file path),
    /// `grant` (`"authorization_code"`, `"client_credentials"`,
    /// `"jwt_bearer"` or `"id_jag"`), `timeout` (seconds). The
    /// JWT-bearer grant's JWT: `assertion`, or `assertion_file` (read at
    /// each use). The ID-JAG grant's identity provider:
    /// `idp_token_endpoint`, `idp_client_id`, `idp_client_secret`, and
    /// the user's `id_token` or `id_token_file`. DPoP: `dpop` (`true`
    /// to bind tokens to a key where the authorization server supports
    /// it) and `dpop_key_pem` (a P-256 PKCS#8 key to sign the proofs
    /// with; implies `dpop`). Camel-case spellings
    /// (`clientId`, ...) are accepted too. Unknown keys are an error.
    pub fn from_table(table: &BTreeMap<String, Value>) -> Result<OAuthConfig> {
        let mut c = OAuthConfig::new();
        let mut idp_endpoint = None;
        let mut idp_client_id = None;
        let mut idp_client_secret = None;
        let mut id_token = None;
        for (raw_key, v) in table {
            let key = snake(raw_key);
            c = match key.as_str() {
                "dpop" => match v.as_bool() {
                    Some(b) => c.dpop(b),
                    None => return Err(Error::config_field("auth.dpop", "expected true or false")),
                },
                "dpop_key_pem" => c.dpop_key(super::SigningKey::from_pem(&text(&key, v)?)?),
                "assertion" => c.assertion(Assertion::value(text(&key, v)?)),
                "assertion_file" => c.assertion(Assertion::file(text(&key, v)?)),
                "idp_token_endpoint" => {
                    idp_endpoint = Some(text(&key, v)?);
                    c
                }
                "idp_client_id" => {
                    idp_client_id = Some(text(&key, v)?);
                    c
                }
                "idp_client_secret" => {
                    idp_client_secret = Some(text(&key, v)?);
                    c
                }
                "id_token" => {
                    id_token = Some(Assertion::value(text(&key, v)?));
                    c
                }
                "id_token_file" => {
                    id_token = Some(Assertion::file(text(&key, v)?));
                    c
                }
                "client_id" => c.client_id(text(&key, v)?),
                "client_secret" => c.client_secret(text(&key, v)?),
                "private_key_pem" => c.signing_key(super::SigningKey::from_pem(&text(&key, v)?)?),
                "issuer" => c.issuer(text(&key, v)?),
                "client_metadata_url" => c.client_metadata_url(text(&key, v)?),
                "client_name" => c.client_name(text(&key, v)?),
                "redirect_uri" => c.redirect_uri(text(&key, v)?),
                "scopes" | "scope" => match v {
                    Value::String(s) => c.scopes(s.split_ascii_whitespace()),
                    Value::Array(a) => c.scopes(
                        a.iter()
                            .map(|x| text(&key, x))
                            .collect::<Result<Vec<_>>>()?,
                    ),
                    _ => {
                        return Err(Error::config_field("auth.scopes", "expected a list or a space-separated string"))
                    }
                },
                "token_store" => {
                    let s = text(&key, v)?;
                    if s.eq_ignore_ascii_case("memory") {
                        c.store(Arc::new(MemoryTokenStore::new()))
                    } else {
                        c.store(Arc::new(FileTokenStore::new(s)))
                    }
                }
                "grant" => match text(&key, v)?.as_str() {
                    "authorization_code" => c.grant(Grant::AuthorizationCode),
                    "client_credentials" => c.grant(Grant::ClientCredentials),
                    "jwt_bearer" => c.grant(Grant::JwtBearer),
                    "id_jag" => c.grant(Grant::IdJag),
                    other => {
                        return Err(Error::config_field("auth.grant", format!("expected \"authorization_code\", \"client_credentials\", \"jwt_bearer\" or \"id_jag\", got {other:?}"
                        )))
                    }
                },
                "timeout" => match v.as_f64().filter(|s| *s > 0.0).map(Duration::try_from_secs_f64) {
                    Some(Ok(d)) => c.timeout(d),
                    _ => {
                        return Err(Error::config_field("auth.timeout", "expected a positive number of seconds"))
                    }
                },
                other => {
                    return Err(Error::config_field(format!("auth.{other}"), format!("unknown OAuth setting (known: {})",
                        OAUTH_KEYS.join(", ")
                    )))
                }
            };
        }
        match (idp_endpoint, id_token) {
            (Some(endpoint), Some(token)) => {
                let mut exchange = TokenExchange::new(endpoint, token);
                if let Some(id) = idp_client_id {
                    exchange = exchange.client_id(id);
                }
                if let Some(secret) = idp_client_secret {
                    exchange = exchange.client_secret(secret);
                }
                c = c.token_exchange(exchange);
            }
            (None, None) if idp_client_id.is_none() && idp_client_secret.is_none() => {}
            _ => {
                return Err(Error::config_field("auth", "the identity provider needs both idp_token_endpoint and id_token (or id_token_file)"))
            }
        }
        Ok(c)
    }
}

/// `clientId` → `client_id`.
fn snake(key: &str) -> String {
    let mut out = String::with_capacity(key.len() + 4);
    for ch in key.chars() {
        if ch.is_ascii_uppercase() {
            out.push('_');
            out.push(ch.to_ascii_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn table(v: Value) -> BTreeMap<String, Value> {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn a_timeout_no_duration_can_hold_is_an_error_not_a_panic() {
        for t in [json!(1e300), json!(-1), json!(0)] {
            assert!(
                OAuthConfig::from_table(&table(json!({"timeout": t}))).is_err(),
                "{t}"
            );
        }
    }

    #[test]
    fn reads_the_keys() {
        let c = OAuthConfig::from_table(&table(json!({
            "clientId": "abc", "client_secret": "s3cret", "scopes": "a b",
            "redirect_uri": "http://127.0.0.1:8765/callback", "token_store": "memory",
            "timeout": 5
        })))
        .unwrap();
        let shown = format!("{c:?}");
        assert!(
            shown.contains("abc") && !shown.contains("s3cret"),
            "{shown}"
        );
        assert!(shown.contains("\"a\", \"b\""), "{shown}");
        let c = OAuthConfig::from_table(&table(json!({"dpop": true}))).unwrap();
        assert!(format!("{c:?}").contains("dpop: true"));
    }

    #[test]
    fn reads_the_id_jag_and_jwt_bearer_keys() {
        let c = OAuthConfig::from_table(&table(json!({
            "grant": "id_jag", "client_id": "as-client",
            "idpTokenEndpoint": "https://idp.example/token", "idp_client_id": "idp-client",
            "idp_client_secret": "idp-s3cret", "id_token": "id.tok.en"
        })))
        .unwrap();
        let shown = format!("{c:?}");
        assert!(
            shown.contains("IdJag") && shown.contains("https://idp.example/token"),
            "{shown}"
        );
        assert!(
            !shown.contains("idp-s3cret") && !shown.contains("id.tok.en"),
            "{shown}"
        );
        assert!(c.build().is_ok());
        let c = OAuthConfig::from_table(&table(json!({
            "grant": "jwt_bearer", "client_id": "w", "assertion_file": "/var/run/token"
        })))
        .unwrap();
        assert!(format!("{c:?}").contains("/var/run/token"));
        // Half an identity provider, or a grant without its JWT.
        assert!(OAuthConfig::from_table(&table(json!({"idp_client_id": "x"}))).is_err());
        assert!(OAuthConfig::from_table(&table(json!({"id_token": "x"}))).is_err());
        let no_jwt = OAuthConfig::from_table(&table(json!({"grant": "jwt_bearer"}))).unwrap();
        assert!(no_jwt.build().is_err());
        let no_idp =
            OAuthConfig::from_table(&table(json!({"grant": "id_jag", "client_id": "c"}))).unwrap();
        assert!(no_idp.build().is_err());
    }

    #[test]
    fn refuses_unknown_keys_and_bad_values() {
        assert!(OAuthConfig::from_table(&table(json!({"client_ip": "x"}))).is_err());
        assert!(OAuthConfig::from_table(&table(json!({"grant": "password"}))).is_err());
        assert!(OAuthConfig::from_table(&table(json!({"scopes": 3}))).is_err());
        assert!(OAuthConfig::from_table(&table(json!({"dpop": "yes"}))).is_err());
        assert!(OAuthConfig::from_table(&table(json!({"dpop_key_pem": "nope"}))).is_err());
    }
}
