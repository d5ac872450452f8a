//! The CLI reference in the README and `switchboard --help` agree: every
//! command and global flag `--help` lists is in the README's CLI section,
//! and every flag the README's global-flags paragraph names is in
//! `--help` or a command's.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn help() -> String {
    help_of(&[])
}

/// `switchboard [COMMAND] --help`.
fn help_of(command: &[&str]) -> String {
    let out = Command::new(BIN)
        .args(command)
        .arg("--help")
        .output()
        .expect("run switchboard --help");
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The commands `--help` lists (not `help` itself).
fn commands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.is_empty())
        // A command's line, not a wrapped description's.
        .filter(|l| l.starts_with("  ") && !l[2..].starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_owned)
        .collect()
}

/// The README's "## The CLI" section (up to the next `## `).
fn readme_cli() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("read README.md");
    let start = readme.find("\n## The CLI\n").expect("a CLI section");
    let rest = &readme[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |i| i + 3);
    rest[..end].to_owned()
}

/// `--flag` names in `text` (letters, digits and `-` after the dashes).
fn long_flags(text: &str) -> Vec<String> {
    let mut flags = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("--") {
        let name: String = rest[i + 2..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if name.chars().next().is_some_and(|c| c.is_ascii_lowercase()) {
            flags.push(format!("--{name}"));
        }
        rest = &rest[i + 2..];
    }
    flags
}

#[test]
fn every_command_and_global_flag_of_help_is_in_the_readme() {
    let help = help();
    let readme = readme_cli();
    let commands = commands(&help);
    assert!(commands.len() >= 12, "{commands:?}");
    for command in commands {
        assert!(
            readme.contains(&format!("switchboard {command}"))
                || readme.contains(&format!("| {command} SOURCE")),
            "the README's CLI section does not show `{command}`"
        );
    }
    let options = &help[help.find("\nOptions:").expect("options")..];
    for flag in long_flags(options)
        .into_iter()
        .filter(|f| f != "--help" && f != "--version")
    {
        let shown = if flag == "--verbose" {
            readme.contains("`-v`")
        } else {
            readme.contains(&flag)
        };
        assert!(shown, "the README's CLI section does not name {flag}");
    }
}

#[test]
fn every_flag_the_readme_names_exists() {
    // The top-level help and every command's (`demo --tour`, ...).
    let top = help();
    let mut help = top.clone();
    for command in commands(&top) {
        help.push_str(&help_of(&[&command]));
    }
    let readme = readme_cli();
    let global = &readme[readme
        .find("Global flags:")
        .expect("a global flags paragraph")..];
    let global = &global[..global.find("\n\n").unwrap_or(global.len())];
    for flag in long_flags(global) {
        assert!(
            help.contains(&flag),
            "the README names {flag}, which no `--help` lists"
        );
    }
}
