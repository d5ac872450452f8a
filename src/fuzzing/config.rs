//! Target `config`: `mcpServers` files in every dialect (Switchboard's,
//! Claude Desktop's and Code's, Cursor's, VS Code's with `inputs`,
//! Windsurf's, Codex's TOML), read with a fixed environment.

use std::collections::HashMap;
use std::path::Path;

use crate::config::{load, Format, LoadOptions, Origin};

/// A value of the environment that no error may print.
const SECRET: &str = "s3cr3t-f022";

/// The file names that pick each dialect.
const PATHS: [Option<&str>; 8] = [
    None,
    Some("mcp.json"),
    Some(".vscode/mcp.json"),
    Some(".cursor/mcp.json"),
    Some("claude_desktop_config.json"),
    Some(".mcp.json"),
    Some(".codex/config.toml"),
    Some("mcp_config.json"),
];

/// Byte 0 picks the format (bit 0: JSON or TOML) and the file name (the
/// dialect); the rest is the file. Panics when reading panics, when two
/// reads of one text differ, or when an error prints the value of an
/// environment variable (`${SECRET}` expanded).
pub fn config(data: &[u8]) {
    let Some((&selector, text)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let format = match selector & 1 {
        0 => Format::Json,
        _ => Format::Toml,
    };
    let path = PATHS[usize::from(selector >> 1) % PATHS.len()].map(Path::new);
    let env: HashMap<String, String> = [
        ("HOME", "/home/fuzz"),
        ("SECRET", SECRET),
        ("SWITCHBOARD_INPUT_KEY", SECRET),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let from = Origin {
        name: "<fuzz>",
        path,
        base_dir: None,
    };
    let options = LoadOptions::default();
    let read = || load(text, format, &from, &env, &options).map_err(|e| e.to_string());
    let first = read();
    assert_eq!(first, read(), "two reads of one text differ");
    if let Err(message) = &first {
        assert!(
            !message.contains(SECRET),
            "an error prints an expanded secret: {message}"
        );
    }
}
