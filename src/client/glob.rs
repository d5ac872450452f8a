//! The glob matcher behind tool allow/deny lists and the replay policy
//! (here, below `config/`, so the client can match its replay globs).

/// Whether `text` matches `pattern`, where `*` matches any run of characters
/// (including none), `?` matches exactly one character, and every other
/// character matches itself (case-sensitively). There are no escapes and no
/// character classes: tool names are plain words, and a pattern that
/// means the same thing in every tool that reads the file is worth more
/// than a rich syntax.
///
/// ```
/// use switchboard::config::glob_match;
/// assert!(glob_match("github_*", "github_search"));
/// assert!(glob_match("read_?", "read_a"));
/// assert!(!glob_match("read_?", "read_ab"));
/// ```
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was and which text position it is currently
    // standing in for: on a mismatch, that star swallows one more character.
    // One backtrack point is enough because a later star subsumes an earlier.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == '?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn literals_match_only_themselves() {
        assert!(glob_match("search", "search"));
        assert!(!glob_match("search", "searches"));
        assert!(!glob_match("search", "Search"));
        assert!(glob_match("", ""));
        assert!(!glob_match("", "x"));
    }

    #[test]
    fn star_matches_any_run_including_none() {
        assert!(glob_match("*", ""));
        assert!(glob_match("*", "anything"));
        assert!(glob_match("get_*", "get_"));
        assert!(glob_match("get_*", "get_issue"));
        assert!(glob_match("*_issue", "get_issue"));
        assert!(glob_match("*iss*", "get_issue"));
        assert!(glob_match("a*b*c", "aXXbYYc"));
        assert!(glob_match("a*b*c", "abc"));
        assert!(!glob_match("a*b*c", "aXXbYY"));
        assert!(!glob_match("get_*", "list_issues"));
        assert!(glob_match("**", "x"));
    }

    #[test]
    fn star_backtracks() {
        assert!(glob_match("*ab", "aab"));
        assert!(glob_match("*aab", "aaab"));
        assert!(glob_match("a*ab", "abab"));
        assert!(!glob_match("*ab", "aba"));
        assert!(glob_match("*a*b", "xaybzb"));
    }

    #[test]
    fn question_mark_matches_one_character() {
        assert!(glob_match("?", "x"));
        assert!(!glob_match("?", ""));
        assert!(!glob_match("?", "xy"));
        assert!(glob_match("v?_*", "v2_list"));
        assert!(glob_match("é?", "éa"), "characters, not bytes");
    }
}
