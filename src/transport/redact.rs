//! What a recorded session never holds: values under keys that name
//! secrets (`authorization`, `apiKey`, `token`, `password`, ...), bearer
//! tokens and well-known key shapes wherever they appear, and the values
//! the source itself was given (environment values, header values, URL
//! query values). The same rules apply to requests on replay, so a
//! redacted recording still matches.

use serde_json::Value;

/// What a redacted value becomes.
pub const REDACTED: &str = "[redacted]";

/// Shortest secret value replaced where it appears (shorter ones, like
/// `1` or `true`, would replace ordinary text).
const MIN_SECRET: usize = 6;

/// Prefixes of well-known credential strings.
const KEY_SHAPES: &[&str] = &[
    "Bearer ",
    "Basic ",
    "sk-",
    "ghp_",
    "gho_",
    "github_pat_",
    "xoxb-",
    "xoxp-",
    "AKIA",
];

/// Whether a key names a secret (case, `-` and `_` ignored).
pub fn is_secret_key(key: &str) -> bool {
    let k: String = key
        .chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect();
    if k == "progresstoken" || k.ends_with("tokens") {
        return false;
    }
    [
        "authorization",
        "cookie",
        "password",
        "passwd",
        "secret",
        "apikey",
        "token",
        "credential",
        "privatekey",
    ]
    .iter()
    .any(|word| k.ends_with(word))
}

/// The secrets one source was given, replaced wherever they appear.
#[derive(Debug, Clone, Default)]
pub struct Secrets(Vec<String>);

impl Secrets {
    /// Remembers `value` as a secret (ignored when too short to be one).
    pub fn add(&mut self, value: &str) {
        if value.len() >= MIN_SECRET && !self.0.iter().any(|v| v == value) {
            self.0.push(value.to_owned());
            // Longest first, so a secret containing another goes whole.
            self.0.sort_by_key(|v| std::cmp::Reverse(v.len()));
        }
    }

    /// `text` with every secret and key shape replaced.
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.0 {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        if KEY_SHAPES.iter().any(|p| out.starts_with(p)) {
            return REDACTED.to_owned();
        }
        out
    }

    /// Redacts `value` in place: secret keys' values, and every string.
    pub fn value(&self, value: &mut Value) {
        match value {
            Value::String(s) => {
                let clean = self.text(s);
                if clean != *s {
                    *s = clean;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| self.value(v)),
            Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    if is_secret_key(k) && !v.is_null() && !v.is_object() && !v.is_array() {
                        *v = Value::String(REDACTED.to_owned());
                    } else {
                        self.value(v);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn secrets_go_and_ordinary_values_stay() {
        let mut s = Secrets::default();
        s.add("hunter2-secret");
        s.add("1");
        let mut v = json!({"apiKey": "abc", "auth": {"access_token": 7}, "progressToken": 3,
            "maxTokens": 10, "text": "key is hunter2-secret!", "h": "Bearer xyz", "n": 1});
        s.value(&mut v);
        assert_eq!(
            v,
            json!({"apiKey": REDACTED, "auth": {"access_token": REDACTED}, "progressToken": 3,
            "maxTokens": 10, "text": "key is [redacted]!", "h": REDACTED, "n": 1})
        );
    }
}
