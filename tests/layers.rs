//! The layering rule of ARCHITECTURE.md, enforced: a top-level module of
//! `src/` may use (`crate::module...`) only modules of a lower layer.
//! Data flows down for calls and up for replies; nothing below imports
//! anything above it. A new top-level module must be given its layer here.
//!
//! Test code (`#[cfg(test)]` to the end of a file, `tests.rs`, `tests/`
//! folders) is exempt: a unit test may use the test server of a higher
//! layer. Names the crate root re-exports (`crate::Client`) count as the
//! module they come from.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Each top-level module and its layer; a module may use only lower ones.
const LAYERS: &[(&str, u8)] = &[
    ("protocol", 0),
    ("error", 1),
    ("http_client", 1),
    ("trace", 2),
    ("actor_system", 2),
    ("auth", 2),
    ("model", 2),
    ("transport", 3),
    ("session", 4),
    ("client", 5),
    ("server", 5),
    ("testing", 6),
    ("check", 6),
    ("sampling", 6),
    ("config", 7),
    ("policy", 8),
    ("fleet", 9),
    ("agent", 10),
    ("gateway", 10),
    ("dist", 11),
    ("cli", 12),
    // The fuzz targets' bodies: they reach into every parser, nothing uses them.
    ("fuzzing", 13),
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn layer(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a readable directory entry").path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "tests") {
                continue;
            }
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs")
            && path.file_name().is_none_or(|n| n != "tests.rs")
        {
            out.push(path);
        }
    }
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The first path segment after each `crate::` in `code`, with the byte
/// offset where it was found, including each branch of a
/// `crate::{a::X, b}` group (which may span lines).
fn crate_heads(code: &str) -> Vec<(usize, String)> {
    fn push_head(heads: &mut Vec<(usize, String)>, at: usize, branch: &str) {
        let head: String = branch
            .trim_start()
            .chars()
            .take_while(|c| is_ident_char(*c))
            .collect();
        if !head.is_empty() {
            heads.push((at, head));
        }
    }
    let mut heads = Vec::new();
    let mut from = 0;
    while let Some(found) = code[from..].find("crate::") {
        let at = from + found;
        from = at + "crate::".len();
        if code[..at].chars().next_back().is_some_and(is_ident_char) {
            continue; // e.g. `mycrate::`
        }
        let rest = &code[from..];
        let Some(group) = rest.strip_prefix('{') else {
            push_head(&mut heads, at, rest);
            continue;
        };
        let mut depth = 0usize;
        let mut branch = String::new();
        for c in group.chars() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    push_head(&mut heads, at, &branch);
                    branch.clear();
                    continue;
                }
                _ => {}
            }
            branch.push(c);
        }
        push_head(&mut heads, at, &branch);
    }
    heads
}

/// The library code of a file: comment lines blanked (so line numbers
/// hold) and everything from the first `#[cfg(test)]` on dropped.
fn library_code(text: &str) -> String {
    let mut code = String::with_capacity(text.len());
    for line in text.lines() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            break;
        }
        if !trimmed.starts_with("//") {
            code.push_str(line);
        }
        code.push('\n');
    }
    code
}

/// Names the crate root re-exports, each with the module it comes from.
fn root_reexports() -> BTreeMap<String, String> {
    let lib = fs::read_to_string(src().join("lib.rs")).expect("src/lib.rs");
    let mut names = BTreeMap::new();
    for statement in lib.split(';') {
        let Some(at) = statement.find("pub use ") else {
            continue;
        };
        let path = statement[at + "pub use ".len()..].trim();
        let path = path.strip_prefix("crate::").unwrap_or(path);
        let module: String = path.chars().take_while(|c| is_ident_char(*c)).collect();
        let tail = &path[module.len()..];
        for word in tail.split(|c: char| !is_ident_char(c)) {
            if word.starts_with(|c: char| c.is_ascii_uppercase()) {
                names.insert(word.to_owned(), module.clone());
            }
        }
    }
    names
}

/// Every use of a module from a higher or equal layer, as
/// `"file:line: from -> to"`.
fn violations() -> Vec<String> {
    let root = src();
    let reexports = root_reexports();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let rel = file.strip_prefix(&root).expect("under src/");
        let first = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .expect("a UTF-8 path");
        let from = first.trim_end_matches(".rs");
        if from == "lib" || from == "main" {
            continue;
        }
        let Some(from_layer) = layer(from) else {
            found.push(format!(
                "src/{first}: top-level module `{from}` has no layer in tests/layers.rs LAYERS"
            ));
            continue;
        };
        let text = fs::read_to_string(&file).expect("a readable source file");
        let code = library_code(&text);
        for (at, head) in crate_heads(&code) {
            let to = reexports.get(&head).cloned().unwrap_or(head);
            if to == from {
                continue;
            }
            let Some(to_layer) = layer(&to) else {
                continue; // a root item such as a macro, not a module
            };
            if to_layer >= from_layer {
                let line = code[..at].matches('\n').count() + 1;
                found.push(format!(
                    "src/{}:{line}: `{from}` (layer {from_layer}) uses `{to}` (layer {to_layer})",
                    rel.display()
                ));
            }
        }
    }
    found
}

#[test]
fn no_module_uses_one_above_it() {
    let found = violations();
    assert!(
        found.is_empty(),
        "{} layering violations (a module may use only lower layers; see ARCHITECTURE.md):\n{}",
        found.len(),
        found.join("\n")
    );
}

#[test]
fn every_top_level_module_has_a_layer() {
    let mut missing = Vec::new();
    for entry in fs::read_dir(src()).expect("src/") {
        let name = entry.expect("an entry").file_name();
        let name = name.to_string_lossy();
        let module = name.trim_end_matches(".rs");
        if module != "lib" && module != "main" && layer(module).is_none() {
            missing.push(module.to_owned());
        }
    }
    assert!(missing.is_empty(), "no layer for: {missing:?}");
}

#[test]
fn reads_grouped_and_plain_crate_paths() {
    let heads =
        |code: &str| -> Vec<String> { crate_heads(code).into_iter().map(|(_, h)| h).collect() };
    assert_eq!(heads("use crate::session::X;"), ["session"]);
    assert_eq!(
        heads("use crate::{\n    fleet::member::{A, B},\n    Error,\n};"),
        ["fleet", "Error"]
    );
    assert_eq!(heads("let x = mycrate::a; crate::b::c()"), ["b"]);
    assert_eq!(
        library_code("use a;\n// crate::x\n#[cfg(test)]\nuse crate::y;\n"),
        "use a;\n\n"
    );
    assert_eq!(
        root_reexports().get("Client").map(String::as_str),
        Some("client")
    );
}
