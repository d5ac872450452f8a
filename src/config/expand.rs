//! `${...}` expansion in config strings.
//!
//! `${VAR}` is the environment variable's value, `${VAR:-default}` falls
//! back to the literal default when the variable is unset or empty (as in
//! a POSIX shell), `${env:VAR}` is the same as `${VAR}` (the spelling
//! Cursor, VS Code and Windsurf use), `${input:ID}` is one of VS Code's
//! `inputs`, and `${workspaceFolder}`, `${workspaceFolderBasename}`,
//! `${userHome}`, `${pathSeparator}` and `${/}` are the editor variables
//! VS Code and Cursor define. `$$` is a literal `$`. A `$` followed by
//! anything else is kept as it is, so passwords and regexes with a lone `$`
//! survive. What a placeholder is worth is the caller's `lookup`.

/// What one `${...}` names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Placeholder {
    /// `${VAR}` or `${env:VAR}`: an environment variable.
    Env(String),
    /// `${input:ID}`: a value asked of the user (VS Code's `inputs`).
    Input(String),
    /// An editor variable: `${workspaceFolder}` and friends.
    Editor(EditorVar),
    /// Any other `${prefix:...}` (`${command:...}`, `${config:...}`), as
    /// written between the braces.
    Unsupported(String),
}

/// The editor variables VS Code and Cursor expand in `mcp.json`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EditorVar {
    /// `${workspaceFolder}`: the folder holding `.vscode/` (or `.cursor/`).
    WorkspaceFolder,
    /// `${workspaceFolderBasename}`: that folder's name.
    WorkspaceFolderBasename,
    /// `${userHome}`: `$HOME`.
    UserHome,
    /// `${pathSeparator}` or `${/}`: `/`.
    PathSeparator,
}

impl EditorVar {
    fn from_name(name: &str) -> Option<EditorVar> {
        Some(match name {
            "workspaceFolder" => EditorVar::WorkspaceFolder,
            "workspaceFolderBasename" => EditorVar::WorkspaceFolderBasename,
            "userHome" => EditorVar::UserHome,
            "pathSeparator" | "/" => EditorVar::PathSeparator,
            _ => return None,
        })
    }

    /// The name as written between the braces.
    pub(crate) fn name(self) -> &'static str {
        match self {
            EditorVar::WorkspaceFolder => "workspaceFolder",
            EditorVar::WorkspaceFolderBasename => "workspaceFolderBasename",
            EditorVar::UserHome => "userHome",
            EditorVar::PathSeparator => "pathSeparator",
        }
    }
}

impl Placeholder {
    /// Reads what is between `${` and `}` (without any `:-default`).
    fn parse(name: &str) -> Placeholder {
        if let Some(var) = EditorVar::from_name(name) {
            return Placeholder::Editor(var);
        }
        if let Some(var) = name.strip_prefix("env:") {
            return Placeholder::Env(var.trim().to_owned());
        }
        if let Some(id) = name.strip_prefix("input:") {
            return Placeholder::Input(id.trim().to_owned());
        }
        if name.contains(':') {
            return Placeholder::Unsupported(name.to_owned());
        }
        Placeholder::Env(name.to_owned())
    }

    fn is_empty(&self) -> bool {
        match self {
            Placeholder::Env(n) | Placeholder::Input(n) | Placeholder::Unsupported(n) => {
                n.is_empty()
            }
            Placeholder::Editor(_) => false,
        }
    }
}

/// Why a string could not be expanded.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ExpandError {
    /// A placeholder `lookup` has no value for, without a default.
    Unset(Placeholder),
    /// `${` without its `}`.
    Unclosed,
    /// `${}`, `${:-x}`, `${env:}` or `${input:}`.
    EmptyName,
}

/// Expands `s`, asking `lookup` for each placeholder's value.
pub(crate) fn expand(
    s: &str,
    mut lookup: impl FnMut(&Placeholder) -> Option<String>,
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
            let placeholder = Placeholder::parse(name.trim());
            if placeholder.is_empty() {
                return Err(ExpandError::EmptyName);
            }
            match (lookup(&placeholder), default) {
                (Some(v), Some(d)) if v.is_empty() => out.push_str(d),
                (Some(v), _) => out.push_str(&v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => return Err(ExpandError::Unset(placeholder)),
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

/// Every `${input:ID}` in `s`, in order (syntax errors are left to
/// [`expand`] to report).
pub(crate) fn inputs_in(s: &str, found: &mut Vec<String>) {
    let _ = expand(s, |p| {
        if let Placeholder::Input(id) = p {
            if !found.contains(id) {
                found.push(id.clone());
            }
        }
        Some(String::new())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(p: &Placeholder) -> Option<String> {
        match p {
            Placeholder::Env(name) => match name.as_str() {
                "HOME" => Some("/home/me".into()),
                "EMPTY" => Some(String::new()),
                _ => None,
            },
            Placeholder::Input(id) if id == "key" => Some("k3y".into()),
            Placeholder::Editor(EditorVar::WorkspaceFolder) => Some("/ws".into()),
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
    fn vscode_placeholders_are_told_apart() {
        assert_eq!(expand("${input:key}", env).unwrap(), "k3y");
        assert_eq!(
            expand("${workspaceFolder}/srv.py", env).unwrap(),
            "/ws/srv.py"
        );
        assert_eq!(
            expand("${input:other}", env),
            Err(ExpandError::Unset(Placeholder::Input("other".into())))
        );
        assert_eq!(
            expand("${userHome}", env),
            Err(ExpandError::Unset(Placeholder::Editor(EditorVar::UserHome)))
        );
        assert_eq!(
            expand("${/}", env),
            Err(ExpandError::Unset(Placeholder::Editor(
                EditorVar::PathSeparator
            )))
        );
        assert_eq!(
            expand("${command:pick}", env),
            Err(ExpandError::Unset(Placeholder::Unsupported(
                "command:pick".into()
            )))
        );
        let mut ids = Vec::new();
        inputs_in("${input:a} ${env:X} ${input:b} ${input:a}", &mut ids);
        assert_eq!(ids, ["a", "b"]);
    }

    #[test]
    fn reports_what_went_wrong() {
        assert_eq!(
            expand("${NOPE}", env),
            Err(ExpandError::Unset(Placeholder::Env("NOPE".into())))
        );
        assert_eq!(expand("x ${HOME", env), Err(ExpandError::Unclosed));
        assert_eq!(expand("${}", env), Err(ExpandError::EmptyName));
        assert_eq!(expand("${:-x}", env), Err(ExpandError::EmptyName));
        assert_eq!(expand("${input:}", env), Err(ExpandError::EmptyName));
    }
}
