//! `${VAR}` expansion in config strings.
//!
//! `${VAR}` is the variable's value, `${VAR:-default}` falls back to the
//! literal default when the variable is unset or empty (as in a POSIX
//! shell), `${env:VAR}` is the same as `${VAR}` (the spelling Cursor and VS
//! Code use), and `$$` is a literal `$`. A `$` followed by anything else is
//! kept as it is, so passwords and regexes with a lone `$` survive.

/// Why a string could not be expanded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ExpandError {
    /// `${NAME}` with `NAME` unset and no default.
    Unset(String),
    /// `${` without its `}`.
    Unclosed,
    /// `${}` or `${:-x}`.
    EmptyName,
}

/// Expands `s`, looking variables up with `lookup`.
pub(crate) fn expand(
    s: &str,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<String, ExpandError> {
    if !s.contains('$') {
        return Ok(s.to_owned());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(body_and_rest) = after.strip_prefix('{') {
            let end = body_and_rest.find('}').ok_or(ExpandError::Unclosed)?;
            let body = &body_and_rest[..end];
            let (name, default) = match body.find(":-") {
                Some(j) => (&body[..j], Some(&body[j + 2..])),
                None => (body, None),
            };
            let name = name.strip_prefix("env:").unwrap_or(name).trim();
            if name.is_empty() {
                return Err(ExpandError::EmptyName);
            }
            match (lookup(name), default) {
                (Some(v), Some(d)) if v.is_empty() => out.push_str(d),
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => return Err(ExpandError::Unset(name.to_owned())),
            }
            rest = &body_and_rest[end + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "HOME" => Some("/home/me".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expands_variables_defaults_and_escapes() {
        assert_eq!(expand("plain", env).unwrap(), "plain");
        assert_eq!(expand("${HOME}/x", env).unwrap(), "/home/me/x");
        assert_eq!(expand("${env:HOME}", env).unwrap(), "/home/me");
        assert_eq!(expand("${NOPE:-fallback}", env).unwrap(), "fallback");
        assert_eq!(expand("${NOPE:-}", env).unwrap(), "");
        assert_eq!(expand("${EMPTY:-d}", env).unwrap(), "d");
        assert_eq!(expand("${EMPTY}", env).unwrap(), "");
        assert_eq!(expand("${HOME:-d}", env).unwrap(), "/home/me");
        assert_eq!(expand("cost $$5", env).unwrap(), "cost $5");
        assert_eq!(expand("$${HOME}", env).unwrap(), "${HOME}");
        assert_eq!(expand("a$b$", env).unwrap(), "a$b$");
        assert_eq!(expand("${HOME}${HOME}", env).unwrap(), "/home/me/home/me");
    }

    #[test]
    fn reports_what_went_wrong() {
        assert_eq!(
            expand("${NOPE}", env),
            Err(ExpandError::Unset("NOPE".into()))
        );
        assert_eq!(expand("x ${HOME", env), Err(ExpandError::Unclosed));
        assert_eq!(expand("${}", env), Err(ExpandError::EmptyName));
        assert_eq!(expand("${:-x}", env), Err(ExpandError::EmptyName));
    }
}
