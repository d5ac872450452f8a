//! Human output: aligned columns and plain text; `--json` prints JSON only.

use super::shutdown::outln;
use std::borrow::Cow;

use serde::Serialize;

/// Prints a value as pretty JSON on stdout.
pub fn json(value: &impl Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(s) => outln!("{s}"),
        Err(e) => eprintln!("error: cannot print result: {e}"),
    }
}

/// Prints rows as aligned columns (the last column is not padded).
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    if rows.is_empty() {
        outln!("(none)");
        return;
    }
    let cols = header.len();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate().take(cols) {
            widths[i] = widths[i].max(cell.chars().count().min(60));
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                let cell: String = cell.chars().take(60).collect();
                out.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        outln!("{}", out.trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(|s| s.as_str()).collect());
    }
}

/// Prints `[name, text]` rows indented under a heading, the texts
/// aligned after the longest name (names past 60 characters still get
/// two spaces before their text).
pub fn list(rows: &[Vec<String>]) {
    let width = rows
        .iter()
        .filter_map(|r| r.first())
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(0)
        .min(60);
    for row in rows {
        let name = row.first().map(String::as_str).unwrap_or("");
        let text = row.get(1).map(String::as_str).unwrap_or("");
        let line = format!("  {name:<width$}  {text}");
        outln!("{}", line.trim_end());
    }
}

/// A `[name, first line of description]` row for [`list`].
pub fn described(name: &str, description: Option<&str>) -> Vec<String> {
    vec![name.to_owned(), first_line(description)]
}

/// Prints a blank line, `N label`, then `rows` as a [`list`].
pub fn section(label: &str, rows: impl IntoIterator<Item = Vec<String>>) {
    let rows: Vec<Vec<String>> = rows.into_iter().collect();
    outln!("\n{} {label}", rows.len());
    list(&rows);
}

/// The first line of a description, for tables.
pub fn first_line(s: Option<&str>) -> String {
    s.unwrap_or("")
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_owned()
}

/// `text` with every control character but newline and tab shown as an
/// escape (`\u{1b}`): ANSI/OSC sequences from a server (clipboard writes,
/// titles, clearing the screen) and carriage returns that hide a line are
/// printed, not obeyed. Borrowed when there is nothing to escape.
pub fn terminal_safe(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| c.is_control() && c != '\n' && c != '\t';
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::terminal_safe;

    #[test]
    fn control_sequences_are_shown_not_obeyed() {
        assert_eq!(terminal_safe("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(
            terminal_safe("a\x1b]52;c;aGk=\x07b\rc\u{9b}2J"),
            "a\\u{1b}]52;c;aGk=\\u{7}b\\u{d}c\\u{9b}2J"
        );
    }
}
