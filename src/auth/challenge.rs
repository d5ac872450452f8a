//! `WWW-Authenticate` (RFC 9110 §11.6.1) as the MCP authorization spec uses
//! it: a `Bearer` challenge with `resource_metadata` (RFC 9728), `scope`
//! and `error` parameters.

use std::collections::BTreeMap;

/// One challenge: its scheme and parameters (names lowercased).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Challenge {
    /// The auth scheme, e.g. `Bearer`.
    pub scheme: String,
    /// The auth parameters, names lowercased, values unquoted.
    pub params: BTreeMap<String, String>,
}

impl Challenge {
    /// The `resource_metadata` URL (RFC 9728 §5.1).
    pub fn resource_metadata(&self) -> Option<&str> {
        self.params.get("resource_metadata").map(String::as_str)
    }

    /// The scopes the challenge asks for (`scope`, space-separated).
    pub fn scopes(&self) -> Vec<String> {
        self.params
            .get("scope")
            .map(|s| s.split_ascii_whitespace().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    /// The `error` code, e.g. `insufficient_scope`.
    pub fn error(&self) -> Option<&str> {
        self.params.get("error").map(String::as_str)
    }
}

/// The `Bearer` challenge among all `WWW-Authenticate` values, if any.
pub fn bearer_challenge<'a>(headers: impl IntoIterator<Item = &'a str>) -> Option<Challenge> {
    headers
        .into_iter()
        .flat_map(parse)
        .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))
}

/// The OAuth challenge among all `WWW-Authenticate` values: `Bearer`,
/// else `DPoP` (RFC 9449 §7.1, which carries the same parameters).
pub fn oauth_challenge<'a>(headers: impl IntoIterator<Item = &'a str>) -> Option<Challenge> {
    let all: Vec<Challenge> = headers.into_iter().flat_map(parse).collect();
    let pick = |scheme: &str| all.iter().find(|c| c.scheme.eq_ignore_ascii_case(scheme));
    pick("bearer").or_else(|| pick("dpop")).cloned()
}

/// True when a `DPoP` challenge says `error="use_dpop_nonce"` (RFC 9449
/// §9): the server wants the proof to carry its `DPoP-Nonce`.
pub fn wants_dpop_nonce<'a>(headers: impl IntoIterator<Item = &'a str>) -> bool {
    headers
        .into_iter()
        .flat_map(parse)
        .any(|c| c.scheme.eq_ignore_ascii_case("dpop") && c.error() == Some("use_dpop_nonce"))
}

/// Parses one `WWW-Authenticate` value, which may hold several challenges.
pub fn parse(header: &str) -> Vec<Challenge> {
    let mut out: Vec<Challenge> = Vec::new();
    let mut p = Parser {
        s: header.as_bytes(),
        i: 0,
    };
    loop {
        p.skip(|c| c == b' ' || c == b'\t' || c == b',');
        if p.done() {
            break;
        }
        let token = p.token();
        if token.is_empty() {
            // Not a token: skip one byte so parsing always advances.
            p.i += 1;
            continue;
        }
        p.skip(|c| c == b' ' || c == b'\t');
        if p.peek() == Some(b'=') && !out.is_empty() && !p.is_token68_tail() {
            p.i += 1;
            p.skip(|c| c == b' ' || c == b'\t');
            let value = if p.peek() == Some(b'"') {
                p.quoted()
            } else {
                p.token()
            };
            if let Some(last) = out.last_mut() {
                last.params.insert(token.to_ascii_lowercase(), value);
            }
        } else {
            out.push(Challenge {
                scheme: token,
                params: BTreeMap::new(),
            });
        }
    }
    out
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn done(&self) -> bool {
        self.i >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn skip(&mut self, f: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
    }

    /// `=` followed by `=`, a comma or the end: token68 padding, not a
    /// parameter.
    fn is_token68_tail(&self) -> bool {
        matches!(self.s.get(self.i + 1), None | Some(b'=') | Some(b','))
    }

    fn token(&mut self) -> String {
        let start = self.i;
        self.skip(|c| !matches!(c, b' ' | b'\t' | b',' | b'=' | b'"'));
        String::from_utf8_lossy(&self.s[start..self.i]).into_owned()
    }

    fn quoted(&mut self) -> String {
        self.i += 1; // opening quote
        let mut out = Vec::new();
        while let Some(c) = self.peek() {
            self.i += 1;
            match c {
                b'\\' => {
                    if let Some(n) = self.peek() {
                        out.push(n);
                        self.i += 1;
                    }
                }
                b'"' => break,
                _ => out.push(c),
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_with_parameters() {
        let c = bearer_challenge([
            r#"Bearer error="insufficient_scope", scope="mcp:read mcp:write", resource_metadata="http://x/.well-known/oauth-protected-resource/mcp""#,
        ])
        .unwrap();
        assert_eq!(c.error(), Some("insufficient_scope"));
        assert_eq!(c.scopes(), ["mcp:read", "mcp:write"]);
        assert_eq!(
            c.resource_metadata(),
            Some("http://x/.well-known/oauth-protected-resource/mcp")
        );
    }

    #[test]
    fn dpop_challenges_and_the_nonce_error() {
        let only_dpop = [r#"DPoP algs="ES256", resource_metadata="http://x/prm""#];
        let c = oauth_challenge(only_dpop).unwrap();
        assert_eq!(c.scheme, "DPoP");
        assert_eq!(c.resource_metadata(), Some("http://x/prm"));
        assert!(!wants_dpop_nonce(only_dpop));
        // Bearer first when both are offered.
        let both = [r#"DPoP algs="ES256""#, r#"Bearer scope="a""#];
        assert_eq!(oauth_challenge(both).unwrap().scheme, "Bearer");
        assert!(wants_dpop_nonce([
            r#"DPoP error="use_dpop_nonce", resource_metadata="http://x/prm""#
        ]));
        // The same error under another scheme is not a DPoP nonce request.
        assert!(!wants_dpop_nonce([r#"Bearer error="use_dpop_nonce""#]));
        assert!(oauth_challenge(["Basic realm=x"]).is_none());
    }

    #[test]
    fn several_challenges_and_unquoted_values() {
        let all =
            parse(r#"Basic realm="a", Bearer realm=x,error=invalid_token , DPoP algs="ES256""#);
        assert_eq!(all.len(), 3);
        assert_eq!(all[1].scheme, "Bearer");
        assert_eq!(all[1].params["error"], "invalid_token");
        assert_eq!(all[1].params["realm"], "x");
        assert_eq!(all[2].params["algs"], "ES256");
    }

    #[test]
    fn bare_scheme_and_escapes() {
        assert_eq!(bearer_challenge(["Bearer"]).unwrap().params.len(), 0);
        let c = bearer_challenge([r#"Bearer error_description="say \"hi\"""#]).unwrap();
        assert_eq!(c.params["error_description"], r#"say "hi""#);
        assert!(bearer_challenge(["Basic realm=x"]).is_none());
    }
}
