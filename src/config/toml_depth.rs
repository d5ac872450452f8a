//! A bound on how deep a TOML text nests, checked before any parser sees
//! it.
//!
//! The `toml` crate builds and drops its tree recursively, one stack frame
//! chain per level, and a level is cheap to write: each `.` of a dotted key
//! (`a.b.c = 1`) is one, as is each `[` or `{` of a value. A 100 KB file of
//! dots overflows any thread's stack, and 130 levels overflow a 2 MiB tokio
//! worker in a debug build. Real config files and agent definitions nest a
//! handful of levels; [`MAX_DEPTH`] leaves room for ten times that.

use crate::error::{ConfigError, Error, Result};

/// The deepest nesting accepted: open brackets and braces plus the dots of
/// the key or value being read.
pub const MAX_DEPTH: usize = 64;

/// [`check`] as the crate's error: a [`ConfigError`] in `origin` that
/// names the line and the bound.
pub(crate) fn bounded(text: &str, origin: &str) -> Result<()> {
    check(text).map_err(|line| {
        Error::Config(
            ConfigError::new(format!(
                "line {line} nests deeper than {MAX_DEPTH} levels (tables, dotted keys, \
                 arrays); no config needs that many"
            ))
            .in_file(origin),
        )
    })
}

/// Checks that `text` nests at most [`MAX_DEPTH`] levels; on failure, the
/// 1-based line where the bound was crossed.
///
/// A level is a segment of the table header in force, a dot of a key, or
/// a bracket or brace of a value, summed along the path from the root to
/// where the scan is. The scan knows TOML's four kinds of string and its
/// comments, so what is inside them does not count. It over-counts on
/// purpose where that is cheap (a float's `.` is a level, a header's
/// brackets are levels), so it never under-counts what the parser nests.
pub(crate) fn check(text: &str) -> Result<(), usize> {
    let bytes = text.as_bytes();
    // The levels of the last `[header]`, and of the header being read.
    let mut header = 0usize;
    let mut in_header = false;
    // Levels of the enclosing keys of open brackets, one entry per bracket
    // (never more than MAX_DEPTH entries: deeper is refused).
    let mut open: Vec<usize> = Vec::new();
    let mut outer = 0usize;
    // Dots of the key whose value is being read, and since the last
    // separator.
    let mut key = 0usize;
    let mut dots = 0usize;
    let mut line_start = true;
    let mut line = 1usize;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'\n' => {
                line += 1;
                if open.is_empty() {
                    key = 0;
                    dots = 0;
                }
                line_start = true;
                i += 1;
                continue;
            }
            b' ' | b'\t' | b'\r' => {
                i += 1;
                continue;
            }
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' | b'\'' => {
                let (end, newlines) = skip_string(bytes, i, b);
                line += newlines;
                i = end;
                line_start = false;
                continue;
            }
            b'[' | b'{' => {
                if open.is_empty() && line_start && b == b'[' {
                    in_header = true;
                    header = 0;
                }
                open.push(key + dots);
                outer += key + dots;
                key = 0;
                dots = 0;
            }
            b']' | b'}' => {
                outer -= open.pop().unwrap_or(0).min(outer);
                key = 0;
                dots = 0;
            }
            b',' => {
                key = 0;
                dots = 0;
            }
            b'=' => {
                key += dots;
                dots = 0;
            }
            b'.' => dots += 1,
            _ => {}
        }
        line_start = false;
        let here = outer + open.len() + key + dots;
        if in_header {
            // A header's levels are what its keys will sit under.
            header = header.max(here);
            in_header = !open.is_empty();
        }
        let depth = if in_header { here } else { header + here };
        if depth > MAX_DEPTH {
            return Err(line);
        }
        i += 1;
    }
    Ok(())
}

/// Skips the string starting at `start` (a basic `"` or literal `'`
/// string, or their multi-line `"""`/`'''` forms): the index just past
/// it, or the end of the text, and the newlines inside.
fn skip_string(bytes: &[u8], start: usize, quote: u8) -> (usize, usize) {
    let multi = bytes.get(start..start + 3) == Some(&[quote, quote, quote][..]);
    let escapes = quote == b'"';
    let mut i = start + if multi { 3 } else { 1 };
    let mut newlines = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if escapes && b == b'\\' {
            if bytes.get(i + 1) == Some(&b'\n') {
                newlines += 1;
            }
            i += 2;
            continue;
        }
        if b == b'\n' {
            newlines += 1;
            if !multi {
                // An unterminated one-line string: the parser reports it.
                return (i, newlines - 1);
            }
        }
        if b == quote {
            if !multi {
                return (i + 1, newlines);
            }
            if bytes.get(i..i + 3) == Some(&[quote, quote, quote][..]) {
                // Up to two more quotes may close a multi-line string.
                let mut end = i + 3;
                while end < bytes.len() && end < i + 5 && bytes[end] == quote {
                    end += 1;
                }
                return (end, newlines);
            }
        }
        i += 1;
    }
    (i, newlines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_files_pass() {
        let text = "[mcp_servers.github]\ncommand = \"npx\"\nargs = [\"-y\", \"a.b.c\"]\n\
                    env = { A = \"1\" }\n[mcp_servers.\"x.y\".tools]\nallow = [[1.5, 2.5]]\n";
        assert_eq!(check(text), Ok(()));
    }

    #[test]
    fn dotted_keys_count_each_dot() {
        let text = format!("x{} = 1\n", ".a".repeat(MAX_DEPTH));
        assert_eq!(check(&text), Ok(()));
        let text = format!("ok = 1\nx{} = 1\n", ".a".repeat(MAX_DEPTH + 1));
        assert_eq!(check(&text), Err(2));
    }

    #[test]
    fn nested_values_count_each_bracket() {
        let deep = |n: usize| format!("x = {}{}\n", "[".repeat(n), "]".repeat(n));
        assert_eq!(check(&deep(MAX_DEPTH)), Ok(()));
        assert_eq!(check(&deep(MAX_DEPTH + 1)), Err(1));
        let tables = format!("x = {}", "{ a = ".repeat(MAX_DEPTH + 1));
        assert_eq!(check(&tables), Err(1));
    }

    #[test]
    fn levels_add_up_along_the_path() {
        let half = ".a".repeat(MAX_DEPTH / 2);
        // A header's levels, then a key's below it.
        let text = format!("[t{half}]\nx{half} = 1\n");
        assert_eq!(check(&text), Err(2));
        // A key's levels, then those inside its inline table.
        let text = format!("x{half} = {{ y{half} = 1 }}\n");
        assert_eq!(check(&text), Err(1));
        // A new header replaces the last one.
        let text = format!("[t{half}]\n[u]\nx{half} = 1\n");
        assert_eq!(check(&text), Ok(()));
    }

    #[test]
    fn strings_and_comments_do_not_count() {
        let many = ".[{".repeat(200);
        for text in [
            format!("a = \"{many}\"\n"),
            format!("a = '{many}'\n"),
            format!("a = \"\"\"\n{many}\n\"\"\"\n"),
            format!("a = '''{many}''''\n"),
            format!("a = \"\\\"{many}\"\n"),
            format!("# {many}\na = 1\n"),
        ] {
            assert_eq!(check(&text), Ok(()), "{text}");
        }
    }

    #[test]
    fn lines_are_counted_through_multi_line_strings() {
        let text = format!("a = \"\"\"\n\n\"\"\"\nx = {}", "[".repeat(MAX_DEPTH + 1));
        assert_eq!(check(&text), Err(4));
    }
}
