//! Human output: aligned columns and plain text; `--json` prints JSON only.

use super::shutdown::outln;
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

/// The first line of a description, for tables.
pub fn first_line(s: Option<&str>) -> String {
    s.unwrap_or("")
        .lines()
        .next()
        .unwrap_or("")
        .trim()
        .to_owned()
}
