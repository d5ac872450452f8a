//! What the kept bytes of a discarded, oversized message say about it:
//! whether it is a response and, if so, its id, so that the call waiting
//! for it fails at once with `MessageTooLarge` instead of timing out.
//!
//! Only the top level counts. A notification or server request may carry
//! `"id"` keys anywhere in its params; taking one of those would fail an
//! unrelated call and drop its real reply. So the head (the first bytes,
//! up to 4 KiB) is walked key by key, nested values skipped by their
//! brackets and strings; the tail (the last bytes) is used only when the
//! head shows a response and the message ends in `"id": <integer> }`.

/// What the head of a message shows.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(super) struct Head {
    /// A top-level `"result"` or `"error"` key and no top-level `"method"`.
    pub(super) response: bool,
    /// The top-level `"id"`, when it is an integer.
    pub(super) id: Option<i64>,
}

impl Head {
    /// The id of the response this head starts, if the head shows both.
    pub(super) fn response_id(&self) -> Option<i64> {
        self.id.filter(|_| self.response)
    }
}

/// Walks the top-level keys of the object `head` starts, as far as the
/// head goes.
pub(super) fn scan_head(head: &[u8]) -> Head {
    let mut id = None;
    let (mut result, mut method) = (false, false);
    let mut i = skip_ws(head, 0);
    if head.get(i) != Some(&b'{') {
        return Head::default();
    }
    i += 1;
    loop {
        i = skip_ws(head, i);
        match head.get(i) {
            Some(b',') => {
                i += 1;
                continue;
            }
            Some(b'"') => {}
            // The end of the object, of the head, or not JSON.
            _ => break,
        }
        let Some(key_end) = string_end(head, i) else {
            break;
        };
        let key = &head[i + 1..key_end - 1];
        i = skip_ws(head, key_end);
        if head.get(i) != Some(&b':') {
            break;
        }
        i = skip_ws(head, i + 1);
        match key {
            b"result" | b"error" => result = true,
            b"method" => method = true,
            b"id" => id = integer(head, i),
            _ => {}
        }
        match value_end(head, i) {
            Some(end) => i = end,
            None => break,
        }
    }
    Head {
        response: result && !method,
        id,
    }
}

/// The id of a message whose last bytes are `"id": <integer> }`: the key of
/// the object the final brace closes, the top level of a whole message.
pub(super) fn tail_id(tail: &[u8]) -> Option<i64> {
    let t = trim_end(tail).strip_suffix(b"}")?;
    let t = trim_end(t);
    let digits = t
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit() || **b == b'-')
        .count();
    let (t, number) = t.split_at(t.len() - digits);
    let id = std::str::from_utf8(number).ok()?.parse().ok()?;
    let t = trim_end(t).strip_suffix(b":")?;
    let t = trim_end(t).strip_suffix(b"\"id\"")?;
    matches!(trim_end(t).last(), Some(b',' | b'{')).then_some(id)
}

/// An integer literal at `i`, ended by a delimiter inside the head.
fn integer(b: &[u8], i: usize) -> Option<i64> {
    let len = b[i.min(b.len())..]
        .iter()
        .take_while(|c| c.is_ascii_digit() || **c == b'-')
        .count();
    let next = *b.get(i + len)?;
    if !(next.is_ascii_whitespace() || next == b',' || next == b'}') {
        return None;
    }
    std::str::from_utf8(&b[i..i + len]).ok()?.parse().ok()
}

/// Just past the value starting at `i`, or `None` when the head ends first.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => string_end(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                match b[j] {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
            None
        }
        _ => {
            // A number or literal: up to the next delimiter.
            let len = b[i..]
                .iter()
                .take_while(|c| !(c.is_ascii_whitespace() || matches!(c, b',' | b'}' | b']')))
                .count();
            (i + len < b.len()).then_some(i + len)
        }
    }
}

/// Just past the string whose opening quote is at `i`.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        let k = j + memchr::memchr2(b'"', b'\\', b.get(j..)?)?;
        if b[k] == b'\\' {
            j = k + 2;
        } else {
            return Some(k + 1);
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

fn trim_end(b: &[u8]) -> &[u8] {
    let n = b
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_whitespace())
        .count();
    &b[..b.len() - n]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id_of(head: &str) -> Option<i64> {
        scan_head(head.as_bytes()).response_id()
    }

    #[test]
    fn the_top_level_id_of_a_response_is_found_in_its_head() {
        assert_eq!(id_of(r#"{"jsonrpc":"2.0","id": 42,"result":{"#), Some(42));
        assert_eq!(id_of(r#"{ "id" : 7 , "error": {"code": 1, "mess"#), Some(7));
        // The id after a complete nested result.
        assert_eq!(
            id_of(r#"{"result":{"id":1,"s":"a\"}b","a":[{"id":2}]},"id":3,"jsonrpc":"2"#),
            Some(3)
        );
        // Truncated inside the number: not sure it ended.
        assert_eq!(id_of(r#"{"jsonrpc":"2.0","result":{},"id":4"#), None);
    }

    #[test]
    fn nested_ids_and_non_responses_are_ignored() {
        // A notification carrying an "id" in its params.
        assert_eq!(
            id_of(
                r#"{"jsonrpc":"2.0","method":"notifications/message","params":{"data":{"id":5,"x":"#
            ),
            None
        );
        // A server request: its id is in the server's id space.
        assert_eq!(
            id_of(r#"{"jsonrpc":"2.0","id":5,"method":"sampling/crea"#),
            None
        );
        assert_eq!(id_of(r#"{"id":5,"params":{"messages":["#), None);
        // The result's own "id" keys, before the top-level one is reached.
        assert_eq!(
            id_of(r#"{"jsonrpc":"2.0","result":{"content":[{"id":9,"t"#),
            None
        );
        // An "id" inside a string.
        assert_eq!(id_of(r#"{"result":"a \"id\":6, b"#), None);
        assert_eq!(id_of(r#"[{"jsonrpc":"2.0","id":1,"result":{"#), None);
        assert_eq!(id_of(r#"{"params":{"id":"abc"}}"#), None);
        assert_eq!(id_of(""), None);
    }

    #[test]
    fn the_tail_gives_a_top_level_id_only() {
        assert_eq!(tail_id(br#"xxx"}]},"jsonrpc":"2.0","id":8}"#), Some(8));
        assert_eq!(tail_id(b"xx\"} , \"id\" : -3 }\n"), Some(-3));
        assert_eq!(tail_id(br#"xx"},"id":8}}"#), None);
        assert_eq!(tail_id(br#"xx","id":8]}"#), None);
        assert_eq!(tail_id(br#"xx\"id":8}"#), None);
        assert_eq!(tail_id(b"xxxx"), None);
    }
}
