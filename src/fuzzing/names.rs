//! Target `names`: the namespaced tool names of a fleet.

use std::collections::HashSet;

use crate::fleet::names::{owner, prefix, NameTable, MAX_NAME};

/// `data` split at NUL bytes is a list of servers and tools, alternately
/// (at most 32 pairs); every server is a member. Each (server, tool) is
/// named in that order. Panics unless every name is valid (at most
/// [`MAX_NAME`] of `[A-Za-z0-9_-]`), unique, resolves back to its server
/// and tool, and belongs to its own server (the member whose name is its
/// longest prefix, or one with the same prefix) whenever the server's name
/// leaves room for that; and naming them ends.
pub fn names(data: &[u8]) {
    let fields: Vec<String> = data
        .split(|b| *b == 0)
        .take(64)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    let pairs: Vec<(&str, &str)> = fields
        .chunks_exact(2)
        .map(|p| (p[0].as_str(), p[1].as_str()))
        .collect();
    let members: Vec<&str> = pairs.iter().map(|(s, _)| *s).collect();
    let mut table = NameTable::new();
    let mut given = HashSet::new();
    for (server, tool) in &pairs {
        let name = table.insert_among(server, tool, members.iter().copied());
        assert!(
            name.len() <= MAX_NAME
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
            "invalid name {name:?}"
        );
        assert_eq!(table.resolve(&name), Some((*server, *tool)), "{name}");
        if given.insert((*server, *tool)) {
            assert_eq!(table.get(server, tool), Some(name.as_str()));
        }
        if server.chars().count() + 7 < MAX_NAME {
            // A member of the same prefix (`a.b`, `a_b`) may own it: a
            // fleet refuses such a pair.
            assert_eq!(
                owner(&name, members.iter().copied()).map(prefix),
                Some(prefix(server)),
                "{name} is not {server}'s"
            );
        }
    }
    for (server, tool) in &pairs {
        let name = table.get(server, tool).expect("named");
        assert_eq!(
            table.resolve(name),
            Some((*server, *tool)),
            "{name} was given twice"
        );
    }
}
