//! List pagination for handlers that hold a whole list: one page from a
//! cursor, and the cursor of the next page. Cursors are opaque to clients
//! (`sb1.` and a hex offset); a cursor this server did not hand out is
//! -32602.

use super::error::ServerError;
use crate::protocol::Cursor;

const CURSOR_PREFIX: &str = "sb1.";

/// One page of `items` starting at `cursor` (`None`: the first page), at
/// most `page_size` long (`None`: everything), and the cursor of the next
/// page when there is one.
pub fn paginate<T: Clone>(
    items: &[T],
    cursor: Option<&str>,
    page_size: Option<usize>,
) -> Result<(Vec<T>, Option<Cursor>), ServerError> {
    let start = match cursor {
        None => 0,
        Some(c) => c
            .strip_prefix(CURSOR_PREFIX)
            .and_then(|hex| usize::from_str_radix(hex, 16).ok())
            .filter(|&n| n <= items.len())
            .ok_or_else(|| ServerError::invalid_params("invalid cursor"))?,
    };
    let Some(size) = page_size else {
        return Ok((items[start..].to_vec(), None));
    };
    let end = start.saturating_add(size.max(1)).min(items.len());
    let next = (end < items.len()).then(|| format!("{CURSOR_PREFIX}{end:x}"));
    Ok((items[start..end].to_vec(), next))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_follow_cursors_and_reject_forged_ones() {
        let items: Vec<u32> = (0..5).collect();
        let (p1, c1) = paginate(&items, None, Some(2)).unwrap();
        assert_eq!(p1, [0, 1]);
        let (p2, c2) = paginate(&items, c1.as_deref(), Some(2)).unwrap();
        assert_eq!(p2, [2, 3]);
        let (p3, c3) = paginate(&items, c2.as_deref(), Some(2)).unwrap();
        assert_eq!((p3, c3), (vec![4], None));
        assert_eq!(paginate(&items, None, None).unwrap(), (items.clone(), None));
        for forged in ["bogus", "", "sb1.ff", "sb1.-1"] {
            assert!(paginate(&items, Some(forged), Some(2)).is_err(), "{forged}");
        }
    }
}
