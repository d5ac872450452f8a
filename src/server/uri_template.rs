//! Matching URIs against RFC 6570 level-1 templates (`greet://{name}`):
//! each `{var}` matches a non-empty run of characters up to the next literal,
//! never crossing a `/`, and is percent-decoded.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Var(String),
}

/// A parsed level-1 URI template.
#[derive(Debug, Clone)]
pub(crate) struct UriTemplate {
    parts: Vec<Part>,
}

impl UriTemplate {
    /// Parses a template; an unclosed `{` is kept as a literal.
    pub(crate) fn parse(template: &str) -> Self {
        let mut parts = Vec::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|c| open + c) else {
                break;
            };
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            parts.push(Part::Var(rest[open + 1..close].trim().to_owned()));
            rest = &rest[close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        UriTemplate { parts }
    }

    /// The variables of `uri`, or `None` when it does not match.
    pub(crate) fn matches(&self, uri: &str) -> Option<HashMap<String, String>> {
        let mut vars = HashMap::new();
        let mut rest = uri;
        let mut parts = self.parts.iter().peekable();
        while let Some(part) = parts.next() {
            match part {
                Part::Literal(lit) => rest = rest.strip_prefix(lit.as_str())?,
                Part::Var(name) => {
                    let end = match parts.peek() {
                        Some(Part::Literal(next)) => rest.find(next.as_str())?,
                        // Two adjacent variables cannot be split: refuse.
                        Some(Part::Var(_)) => return None,
                        None => rest.len(),
                    };
                    let value = &rest[..end];
                    if value.is_empty() || value.contains('/') {
                        return None;
                    }
                    vars.insert(name.clone(), percent_decode(value));
                    rest = &rest[end..];
                }
            }
        }
        rest.is_empty().then_some(vars)
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_simple_variables() {
        let t = UriTemplate::parse("greet://{name}");
        assert_eq!(t.matches("greet://Ada").unwrap()["name"], "Ada");
        assert_eq!(t.matches("greet://J%C3%BCrgen").unwrap()["name"], "Jürgen");
        assert!(t.matches("greet://").is_none());
        assert!(t.matches("greet://a/b").is_none());
        assert!(t.matches("other://Ada").is_none());
        let t = UriTemplate::parse("repo://{owner}/{repo}/readme");
        let v = t.matches("repo://me/proj/readme").unwrap();
        assert_eq!((v["owner"].as_str(), v["repo"].as_str()), ("me", "proj"));
        assert!(t.matches("repo://me/proj/license").is_none());
    }
}
