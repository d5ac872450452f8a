//! `envFile` (VS Code, Cursor): a dotenv file whose variables a stdio
//! server gets under its explicit `env` (which wins).
//!
//! One `KEY=VALUE` a line; blank lines and lines starting with `#` are
//! skipped; `export KEY=VALUE` is read as `KEY=VALUE`. A value in double
//! quotes may span lines and takes `\n`, `\r`, `\t`, `\"` and `\\`; in
//! single quotes it is literal; unquoted, it is trimmed and ends at ` #`
//! (a comment). Nothing is expanded. A later line wins over an earlier
//! one for the same key.

use std::path::Path;

/// Why an env file could not be used. Never carries a value from the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvFileError {
    /// The file could not be read.
    #[error("cannot read: {0}")]
    Read(#[from] std::io::Error),
    /// A line is not `KEY=VALUE`.
    #[error("line {line}: {problem}")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: &'static str,
    },
}

/// Reads and parses the file at `path`.
pub(crate) fn read(path: &Path) -> Result<Vec<(String, String)>, EnvFileError> {
    parse(&std::fs::read_to_string(path)?)
}

/// The variables of a dotenv text, in first-seen order, later values winning.
pub(crate) fn parse(text: &str) -> Result<Vec<(String, String)>, EnvFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out: Vec<(String, String)> = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, raw)) = lines.next() {
        let line_no = i + 1;
        let syntax = |problem| EnvFileError::Syntax {
            line: line_no,
            problem,
        };
        let line = raw.trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = match line.strip_prefix("export") {
            Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
            _ => line,
        };
        let (key, value) = line.split_once('=').ok_or(syntax("expected KEY=VALUE"))?;
        let key = key.trim();
        if key.is_empty()
            || !key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            || key.starts_with(|c: char| c.is_ascii_digit())
        {
            return Err(syntax("expected a variable name before \"=\""));
        }
        let value = value.trim_start();
        let value = match value.chars().next() {
            Some('"') => {
                let mut body = value[1..].to_owned();
                loop {
                    if let Some((v, after)) = double_quoted(&body) {
                        check_tail(after).map_err(syntax)?;
                        break v;
                    }
                    match lines.next() {
                        Some((_, next)) => {
                            body.push('\n');
                            body.push_str(next);
                        }
                        None => return Err(syntax("a double quote is never closed")),
                    }
                }
            }
            Some('\'') => {
                let mut body = value[1..].to_owned();
                loop {
                    if let Some(end) = body.find('\'') {
                        check_tail(&body[end + 1..]).map_err(syntax)?;
                        body.truncate(end);
                        break body;
                    }
                    match lines.next() {
                        Some((_, next)) => {
                            body.push('\n');
                            body.push_str(next);
                        }
                        None => return Err(syntax("a single quote is never closed")),
                    }
                }
            }
            _ => unquoted(value),
        };
        match out.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = value,
            None => out.push((key.to_owned(), value)),
        }
    }
    Ok(out)
}

/// The value up to the closing unescaped `"`, and what follows it; `None`
/// when it does not close in `body`.
fn double_quoted(body: &str) -> Option<(String, &str)> {
    let mut value = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &body[i + 1..])),
            '\\' => match chars.next() {
                Some((_, 'n')) => value.push('\n'),
                Some((_, 'r')) => value.push('\r'),
                Some((_, 't')) => value.push('\t'),
                Some((_, '"')) => value.push('"'),
                Some((_, '\\')) => value.push('\\'),
                Some((_, other)) => {
                    value.push('\\');
                    value.push(other);
                }
                None => value.push('\\'),
            },
            c => value.push(c),
        }
    }
    None
}

/// After a closing quote only blanks and a comment may follow.
fn check_tail(after: &str) -> Result<(), &'static str> {
    let after = after.trim_start();
    if after.is_empty() || after.starts_with('#') {
        Ok(())
    } else {
        Err("text after the closing quote")
    }
}

/// An unquoted value: trimmed, ending at a `#` that follows a blank.
fn unquoted(value: &str) -> String {
    let mut end = value.len();
    let bytes = value.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'#' && (i == 0 || bytes[i - 1].is_ascii_whitespace()) {
            end = i;
            break;
        }
    }
    value[..end].trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(text: &str) -> Vec<(String, String)> {
        match parse(text) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn reads_what_dotenv_files_hold() {
        let text = "\u{feff}# a comment\n\
                    PLAIN=value\n\
                    export EXPORTED = spaced out  \n\
                    \n\
                    INLINE=abc # note\n\
                    HASH=a#b\n\
                    SINGLE='lit $X \\n # kept'\n\
                    DOUBLE=\"two\\nlines \\\"q\\\"\" # note\n\
                    MULTI=\"first\nsecond\"\n\
                    EMPTY=\n\
                    PLAIN=again\n";
        assert_eq!(
            pairs(text),
            [
                ("PLAIN", "again"),
                ("EXPORTED", "spaced out"),
                ("INLINE", "abc"),
                ("HASH", "a#b"),
                ("SINGLE", "lit $X \\n # kept"),
                ("DOUBLE", "two\nlines \"q\""),
                ("MULTI", "first\nsecond"),
                ("EMPTY", ""),
            ]
            .map(|(k, v)| (k.to_string(), v.to_string()))
        );
    }

    #[test]
    fn bad_lines_name_the_line_and_never_the_value() {
        let err = |text: &str| match parse(text) {
            Err(e) => e.to_string(),
            Ok(p) => panic!("parsed {} pairs", p.len()),
        };
        assert_eq!(
            err("A=1\nsecret-without-equals\n"),
            "line 2: expected KEY=VALUE"
        );
        assert_eq!(
            err("=s3cret\n"),
            "line 1: expected a variable name before \"=\""
        );
        assert_eq!(
            err("K=\"s3cret\n"),
            "line 1: a double quote is never closed"
        );
        assert_eq!(err("K='a' b\n"), "line 1: text after the closing quote");
    }
}
