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
//!
//! Every name belongs to the member whose name is its longest prefix: a
//! plain `<server>_<name>` only when `<server>` is that member, and a
//! hashed one too (else it could be another member's plain name, and mean
//! one server or the other by who was listed first). When the cut name
//! would fall under another member's prefix, the hash goes right after the
//! server's own: `<server>_<hash>_<name>`.

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

/// What a server's names start with: its name with every character
/// outside `[A-Za-z0-9_-]` made `_`. Two members with one prefix (`a.b`
/// and `a_b`) cannot tell their names apart, so a fleet refuses the pair.
pub fn prefix(server: &str) -> String {
    sanitize(server)
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

/// `<server>_<hash>_<name>`, cut to [`MAX_NAME`]: a hashed name that keeps
/// the server's prefix; `salted` is what is hashed.
fn hashed_after(server: &str, salted: &str, name: &str) -> String {
    let mut n = format!(
        "{}_{}_{}",
        sanitize(server),
        hash6(server, salted),
        sanitize(name)
    );
    // Sanitized names are ASCII.
    n.truncate(MAX_NAME);
    n
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
        let members: Vec<&str> = members.into_iter().collect();
        // A member with the same prefix (which a fleet refuses) counts as
        // this server: else no name would ever be ours, and the search
        // below would not end.
        let prefix = sanitize(server);
        let ours = |n: &str| {
            owner(n, members.iter().copied()).is_none_or(|o| o == server || sanitize(o) == prefix)
        };
        let base = sanitize(&format!("{server}_{name}"));
        let mut candidate = if base.len() > MAX_NAME || !ours(&base) {
            hashed(server, name, &base)
        } else {
            base.clone()
        };
        // A hashed name must belong to `server` too, or it could be another
        // member's plain name (which one a call reached would then depend on
        // who was listed first): `<server>_<hash>_<name>` keeps the prefix,
        // when the server's name leaves room for it.
        let keeps_prefix = sanitize(server).len() + 7 < MAX_NAME;
        let salted = |salt: &str| match keeps_prefix {
            true => hashed_after(server, salt, name),
            false => hashed(server, salt, &base),
        };
        // Ends: each salt hashes anew, and a salted name keeps this server's
        // prefix, which only a longer member could own (up to one per
        // salted name it shares a start with).
        let mut n = 0;
        while self.reverse.contains_key(&candidate) || (keeps_prefix && !ours(&candidate)) {
            candidate = match n {
                0 if candidate == base => hashed(server, name, &base),
                0 => salted(name),
                n => salted(&format!("{name}#{n}")),
            };
            n += 1;
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

    /// Issue 12 (fuzzing, target `names`): with members `a.b` and `a_b`
    /// (one prefix, `a_b`), the member that is not the prefix's longest
    /// owner could never get a name of its own, and naming looped forever.
    #[test]
    fn members_with_one_prefix_still_get_names() {
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut t = NameTable::new();
            let members = ["a.b", "a_b"];
            let names: Vec<String> = ["a.b", "a_b", "a.b", "a_b"]
                .iter()
                .zip(["x", "x", "y", "x"])
                .map(|(s, tool)| t.insert_among(s, tool, members))
                .collect();
            let _ = done.send((names, t));
        });
        let (names, t) = finished
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("naming ends");
        assert_eq!(names[1], names[3], "stable");
        for (name, want) in names.iter().zip([("a.b", "x"), ("a_b", "x"), ("a.b", "y")]) {
            assert!(valid(name) && name.starts_with("a_b_"), "{name}");
            assert_eq!(t.resolve(name), Some(want));
        }
        assert_ne!(names[0], names[1]);
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

    /// Issue 12 (fuzzing): `gh`'s `delete_repo` is not its to name plainly
    /// (`gh_delete` owns `gh_delete_`), so it was hashed to
    /// `gh_delete_repo_<hash>`, which is also the plain name of a
    /// `gh_delete` tool `repo_<hash>`. Whoever was listed first got it: with
    /// `gh_delete` down, a call meant for its tool ran `gh`'s `delete_repo`.
    /// Every name must mean one server and tool in any order, and belong to
    /// the member that owns its prefix.
    #[test]
    fn a_hashed_name_is_never_another_members_plain_name() {
        let members = ["gh", "gh_delete"];
        let old_hashed = hashed("gh", "delete_repo", "gh_delete_repo");
        let taker = old_hashed.strip_prefix("gh_delete_").unwrap().to_owned();
        // A long name too: `s`'s tool, cut to 57 characters, is exactly the
        // name of the member `s_zz..z`, which `s_zz..z_<hash>` then is.
        let long = format!("{}q{}", "z".repeat(55), "w".repeat(20));
        let member = format!("s_{}", "z".repeat(55));
        let members_long = ["s", member.as_str()];
        let long_hashed = hashed("s", &long, &sanitize(&format!("s_{long}")));
        let long_taker = long_hashed[member.len() + 1..].to_owned();
        assert_eq!(owner(&format!("s_{long}"), members_long), Some("s"));
        for (members, calls) in [
            (
                members,
                [("gh", "delete_repo"), ("gh_delete", taker.as_str())],
            ),
            (
                members_long,
                [("s", long.as_str()), (member.as_str(), long_taker.as_str())],
            ),
        ] {
            let mut seen: Option<Vec<String>> = None;
            for order in [calls, [calls[1], calls[0]]] {
                let mut t = NameTable::new();
                for (server, tool) in order {
                    let n = t.insert_among(server, tool, members);
                    assert!(valid(&n), "{n}");
                    assert_eq!(owner(&n, members), Some(server), "{n} for {server}");
                }
                let names: Vec<String> = calls
                    .iter()
                    .map(|(s, n)| t.get(s, n).unwrap().to_owned())
                    .collect();
                assert_ne!(names[0], names[1]);
                if let Some(seen) = &seen {
                    assert_eq!(seen, &names, "the same names in either order");
                }
                seen = Some(names);
            }
        }
    }
}
