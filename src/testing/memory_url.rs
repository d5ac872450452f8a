//! `memory://NAME`: the in-process servers a config file or the command
//! line may name by URL. Only `memory://demo` is built in.

use crate::{Error, Result, Source};

/// The URL of the built-in demo server ([`super::demo_server`]).
pub const DEMO_URL: &str = "memory://demo";

/// The in-process server `url` names, or `None` when `url` is not a
/// `memory://` URL at all. `memory://demo` (any case, a trailing `/`
/// allowed) is the demo server; any other name is an error.
pub fn memory_source(url: &str) -> Option<Result<Source>> {
    let trimmed = url.trim();
    let lower = trimmed.to_ascii_lowercase();
    if !lower.starts_with("memory://") {
        return None;
    }
    Some(if lower.trim_end_matches('/') == DEMO_URL {
        Ok(Source::memory(super::demo_server()))
    } else {
        Err(Error::invalid_argument(format!(
            "{trimmed}: the only built-in in-process server is {DEMO_URL}"
        )))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_demo_server_and_refuses_other_names() {
        assert!(matches!(
            memory_source("memory://demo/"),
            Some(Ok(Source::Memory(_)))
        ));
        assert!(matches!(
            memory_source(" MEMORY://demo"),
            Some(Ok(Source::Memory(_)))
        ));
        let other = memory_source("memory://other")
            .unwrap()
            .unwrap_err()
            .to_string();
        assert!(other.contains("only built-in"), "{other}");
        assert!(memory_source("python3 s.py").is_none());
    }
}
