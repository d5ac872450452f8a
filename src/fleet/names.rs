//! Namespaced names for tools and prompts across many servers:
//! `<server>_<name>`, kept within 64 characters of `[A-Za-z0-9_-]` (what
//! LLM APIs accept), reversible through the table that made them, and never
//! colliding.
//!
//! The shortening rule: characters outside `[A-Za-z0-9_-]` become `_`; if
//! the result is longer than 64 characters, it is cut to 57 and `_` plus the
//! first 6 hex digits of a hash of the full original `server/name` are
//! appended. A collision (two originals that map to the same name) is
//! resolved the same way, so every name in the table is unique.

use std::collections::HashMap;

/// Longest name LLM APIs accept.
pub const MAX_NAME: usize = 64;

/// Maps namespaced names to (server, original name) and back.
#[derive(Debug, Clone, Default)]
pub struct NameTable {
    forward: HashMap<(String, String), String>,
    reverse: HashMap<String, (String, String)>,
}

/// `s` with every character outside `[A-Za-z0-9_-]` made `_`.
fn sanitize(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn hash6(server: &str, name: &str) -> String {
    // FNV-1a 64: stable across runs and platforms.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in server
        .bytes()
        .chain(std::iter::once(b'/'))
        .chain(name.bytes())
    {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:06x}", h & 0xff_ffff)
}

fn hashed(server: &str, name: &str, base: &str) -> String {
    let cut: String = base.chars().take(MAX_NAME - 7).collect();
    format!("{cut}_{}", hash6(server, name))
}

/// The member whose sanitized `<member>_` is the longest prefix of
/// `namespaced`, if any.
pub fn owner<'a>(namespaced: &str, members: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    members
        .into_iter()
        .map(|m| (m, sanitize(m)))
        .filter(|(_, s)| {
            namespaced.len() > s.len()
                && namespaced.starts_with(s.as_str())
                && namespaced.as_bytes()[s.len()] == b'_'
        })
        .max_by_key(|(_, s)| s.len())
        .map(|(m, _)| m)
}

impl NameTable {
    /// An empty table.
    pub fn new() -> Self {
        NameTable::default()
    }

    /// The namespaced name for `name` on `server` (made on first use),
    /// with `server` the only member the rule knows of.
    pub fn insert(&mut self, server: &str, name: &str) -> String {
        self.insert_among(server, name, [server])
    }

    /// The namespaced name for `name` on `server` (made on first use) in a
    /// fleet of `members` (every configured server, up or down).
    ///
    /// The plain name `<server>_<name>` is given only to the member that
    /// owns it: the one whose name is the longest prefix (followed by `_`).
    /// So with members `gh` and `gh_delete`, `gh_delete_repo` is always
    /// `gh_delete`'s tool `repo`, and `gh`'s tool `delete_repo` is hashed,
    /// whichever of them is up or was listed first.
    pub fn insert_among<'a>(
        &mut self,
        server: &str,
        name: &str,
        members: impl IntoIterator<Item = &'a str>,
    ) -> String {
        let key = (server.to_owned(), name.to_owned());
        if let Some(existing) = self.forward.get(&key) {
            return existing.clone();
        }
        let base = sanitize(&format!("{server}_{name}"));
        let owned = owner(&base, members).is_none_or(|o| o == server);
        let mut candidate = if base.len() > MAX_NAME || !owned {
            hashed(server, name, &base)
        } else {
            base.clone()
        };
        if self.reverse.contains_key(&candidate) {
            candidate = hashed(server, name, &base);
            let mut n = 1;
            while self.reverse.contains_key(&candidate) {
                candidate = hashed(server, &format!("{name}#{n}"), &base);
                n += 1;
            }
        }
        self.forward.insert(key.clone(), candidate.clone());
        self.reverse.insert(candidate.clone(), key);
        candidate
    }

    /// The namespaced name already made for `name` on `server`, if any.
    pub fn get(&self, server: &str, name: &str) -> Option<&str> {
        self.forward
            .get(&(server.to_owned(), name.to_owned()))
            .map(String::as_str)
    }

    /// The server and original name behind a namespaced name.
    pub fn resolve(&self, namespaced: &str) -> Option<(&str, &str)> {
        self.reverse
            .get(namespaced)
            .map(|(s, n)| (s.as_str(), n.as_str()))
    }

    /// Forgets every name of a server (it was removed).
    pub fn remove_server(&mut self, server: &str) {
        self.forward.retain(|(s, _), _| s != server);
        self.reverse.retain(|_, (s, _)| s != server);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(name: &str) -> bool {
        name.len() <= MAX_NAME
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    }

    #[test]
    fn plain_names_are_prefixed_and_reversible() {
        let mut t = NameTable::new();
        let n = t.insert("github", "search_issues");
        assert_eq!(n, "github_search_issues");
        assert_eq!(t.resolve(&n), Some(("github", "search_issues")));
        assert_eq!(t.insert("github", "search_issues"), n, "stable");
    }

    #[test]
    fn bad_characters_and_long_names_are_shortened_by_the_rule() {
        let mut t = NameTable::new();
        let n = t.insert("fs", "read.file/v2");
        assert_eq!(n, "fs_read_file_v2");
        let long = "x".repeat(100);
        let n = t.insert("server", &long);
        assert!(valid(&n) && n.len() == MAX_NAME, "{n}");
        assert_eq!(t.resolve(&n), Some(("server", long.as_str())));
    }

    #[test]
    fn collisions_get_distinct_names() {
        let mut t = NameTable::new();
        let a = t.insert("a_b", "c");
        let b = t.insert("a", "b_c");
        let c = t.insert("a", "b.c");
        assert_ne!(a, b);
        assert_ne!(b, c);
        assert_ne!(a, c);
        for n in [&a, &b, &c] {
            assert!(valid(n), "{n}");
        }
        assert_eq!(t.resolve(&a), Some(("a_b", "c")));
        assert_eq!(t.resolve(&b), Some(("a", "b_c")));
        assert_eq!(t.resolve(&c), Some(("a", "b.c")));
        t.remove_server("a");
        assert!(t.resolve(&b).is_none() && t.resolve(&a).is_some());
    }

    /// Issue 12 item 8: with `gh` down, `gh_delete_repo` ran `gh_delete`'s
    /// `repo`; with `gh` up first, it ran `gh`'s `delete_repo`.
    #[test]
    fn a_plain_name_belongs_to_one_member_whoever_is_up_or_listed_first() {
        let members = ["gh", "gh_delete"];
        for gh_first in [true, false] {
            let mut t = NameTable::new();
            let mut gh = || t.insert_among("gh", "delete_repo", members);
            let (from_gh, from_delete) = if gh_first {
                let a = gh();
                (a, t.insert_among("gh_delete", "repo", members))
            } else {
                let b = t.insert_among("gh_delete", "repo", members);
                (t.insert_among("gh", "delete_repo", members), b)
            };
            assert_eq!(from_delete, "gh_delete_repo", "gh first: {gh_first}");
            assert_ne!(from_gh, "gh_delete_repo");
            assert_eq!(t.resolve("gh_delete_repo"), Some(("gh_delete", "repo")));
            assert_eq!(t.resolve(&from_gh), Some(("gh", "delete_repo")));
        }
        // gh down (never listed): the name still means gh_delete's tool.
        let mut t = NameTable::new();
        t.insert_among("gh_delete", "repo", members);
        assert_eq!(t.resolve("gh_delete_repo"), Some(("gh_delete", "repo")));
        assert_eq!(owner("gh_delete_repo", members), Some("gh_delete"));
        assert_eq!(owner("gh_list", members), Some("gh"));
        assert_eq!(owner("other_x", members), None);
    }
}
