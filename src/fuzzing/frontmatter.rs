//! Target `frontmatter`: a `SKILL.md`'s YAML frontmatter.

use crate::client::skills::{check_frontmatter, parse_frontmatter};

/// Parses `data` as a `SKILL.md`. Panics when parsing panics, or when a
/// file's frontmatter does not agree with itself (what a server lists is
/// checked against the file with the same comparison).
pub fn frontmatter(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(listed) = parse_frontmatter(text) {
        if let Err(e) = check_frontmatter("skill://fuzz/SKILL.md", &listed, text) {
            panic!("a frontmatter differs from itself: {e}");
        }
    }
}
