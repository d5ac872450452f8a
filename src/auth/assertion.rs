//! JWTs the client presents but does not make: a workload identity token
//! for the RFC 7523 JWT-bearer grant (workload identity federation,
//! SEP-1933), or the ID token an enterprise identity provider issued,
//! exchanged for an ID-JAG (see [`super::TokenExchange`]).

use std::fmt;
use std::path::PathBuf;

use crate::error::AuthErrorKind;
use crate::{Error, Result};

/// `grant_type` of the RFC 7523 §2.1 JWT-bearer authorization grant.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// Largest assertion file read (a JWT is a few kilobytes).
const FILE_LIMIT: u64 = 64 * 1024;

/// Where a JWT comes from: a value given once, or a file read again at
/// each use (platforms rotate projected workload tokens in place). Never
/// shown by `Debug`.
#[derive(Clone)]
pub enum Assertion {
    /// The JWT itself.
    Value(String),
    /// A file holding the JWT (surrounding whitespace ignored).
    File(PathBuf),
}

impl fmt::Debug for Assertion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Assertion::Value(_) => f.write_str("Assertion::Value(<redacted>)"),
            Assertion::File(p) => f.debug_tuple("Assertion::File").field(p).finish(),
        }
    }
}

impl Assertion {
    /// A JWT given as a value.
    pub fn value(jwt: impl Into<String>) -> Assertion {
        Assertion::Value(jwt.into())
    }

    /// A JWT read from `path` at each use.
    pub fn file(path: impl Into<PathBuf>) -> Assertion {
        Assertion::File(path.into())
    }

    /// The JWT now (the file read again), never empty.
    pub async fn read(&self) -> Result<String> {
        let text = match self {
            Assertion::Value(v) => v.trim().to_owned(),
            Assertion::File(path) => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || read_file(&path))
                    .await
                    .map_err(|e| {
                        Error::auth(
                            AuthErrorKind::Credentials,
                            format!("reading the assertion file: {e}"),
                        )
                    })??
            }
        };
        if text.is_empty() {
            return Err(Error::auth(
                AuthErrorKind::Credentials,
                "the assertion is empty",
            ));
        }
        Ok(text)
    }
}

/// Reads a small file (off the async threads: it may be on a slow mount).
fn read_file(path: &std::path::Path) -> Result<String> {
    use std::io::Read;
    let shown = path.display();
    let file = std::fs::File::open(path).map_err(|e| {
        Error::auth(
            AuthErrorKind::Credentials,
            format!("the assertion file {shown}: {e}"),
        )
    })?;
    let mut text = String::new();
    file.take(FILE_LIMIT + 1)
        .read_to_string(&mut text)
        .map_err(|e| {
            Error::auth(
                AuthErrorKind::Credentials,
                format!("the assertion file {shown}: {e}"),
            )
        })?;
    if text.len() as u64 > FILE_LIMIT {
        return Err(Error::auth(
            AuthErrorKind::Credentials,
            format!("the assertion file {shown} is larger than {FILE_LIMIT} bytes"),
        ));
    }
    Ok(text.trim().to_owned())
}

/// The form of a JWT-bearer grant (RFC 7523 §2.1): the assertion, the
/// resource (RFC 8707) and the scopes, if any. Client authentication is
/// added by the caller.
pub(crate) fn jwt_bearer_form(
    assertion: String,
    resource: &str,
    scopes: &[String],
) -> Vec<(&'static str, String)> {
    let mut form = vec![
        ("grant_type", JWT_BEARER_GRANT.to_owned()),
        ("assertion", assertion),
        ("resource", resource.to_owned()),
    ];
    if !scopes.is_empty() {
        form.push(("scope", scopes.join(" ")));
    }
    form
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn values_and_files_are_read_trimmed_and_never_shown() {
        let v = Assertion::value(" eyJ.a.b\n");
        assert_eq!(v.read().await.unwrap(), "eyJ.a.b");
        assert!(!format!("{v:?}").contains("eyJ"));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, "eyJ.one.sig\n").unwrap();
        let f = Assertion::file(&path);
        assert_eq!(f.read().await.unwrap(), "eyJ.one.sig");
        // Rotated in place: the next read sees the new token.
        std::fs::write(&path, "eyJ.two.sig").unwrap();
        assert_eq!(f.read().await.unwrap(), "eyJ.two.sig");
        std::fs::write(&path, "  \n").unwrap();
        assert!(f.read().await.is_err());
        assert!(Assertion::file(dir.path().join("missing"))
            .read()
            .await
            .is_err());
    }

    #[test]
    fn the_grant_form_names_the_grant_assertion_resource_and_scopes() {
        let form = jwt_bearer_form("jwt".into(), "https://mcp.example/mcp", &[]);
        assert_eq!(
            form,
            vec![
                ("grant_type", JWT_BEARER_GRANT.to_owned()),
                ("assertion", "jwt".to_owned()),
                ("resource", "https://mcp.example/mcp".to_owned()),
            ]
        );
        let form = jwt_bearer_form("jwt".into(), "r", &["a".into(), "b".into()]);
        assert!(form.contains(&("scope", "a b".to_owned())));
    }
}
