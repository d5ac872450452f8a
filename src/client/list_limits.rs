//! The caps on one list call, all its pages together: the page count
//! (`ClientBuilder::max_pages`, default 64), the item count and the bytes
//! of the pages. The page cap alone let 64 pages of 20,000 tools through
//! (1.4 GiB); each page is already bounded by the message size limit, so
//! the byte cap is a multiple of it.

use crate::error::ListLimit;
use crate::{Error, Result};

/// Items one list call may gather: far beyond any real server's tools,
/// prompts or resources, and a few hundred MB at most once decoded.
pub(crate) const MAX_LIST_ITEMS: usize = 100_000;

/// The pages of one list call may add up to this many times the largest
/// message accepted (`ClientBuilder::max_message_size`): 128 MiB with the
/// default 32 MiB.
pub(crate) const LIST_BYTES_PER_MESSAGE: usize = 4;

/// What one list call has gathered so far, against its caps.
pub(super) struct ListBudget {
    method: &'static str,
    pages: usize,
    items: usize,
    bytes: usize,
    max_pages: usize,
    max_bytes: usize,
}

impl ListBudget {
    pub(super) fn new(method: &'static str, max_pages: usize, max_message_size: usize) -> Self {
        ListBudget {
            method,
            pages: 0,
            items: 0,
            bytes: 0,
            max_pages,
            max_bytes: max_message_size.saturating_mul(LIST_BYTES_PER_MESSAGE),
        }
    }

    /// True while another page may be fetched.
    pub(super) fn may_fetch(&self) -> bool {
        self.pages < self.max_pages
    }

    /// Counts a page of `items` items in `bytes` bytes; an error once a cap
    /// is passed.
    pub(super) fn add(&mut self, items: usize, bytes: usize) -> Result<()> {
        self.pages += 1;
        self.items = self.items.saturating_add(items);
        self.bytes = self.bytes.saturating_add(bytes);
        if self.bytes > self.max_bytes {
            return Err(self.exceeded(ListLimit::Bytes, self.max_bytes));
        }
        if self.items > MAX_LIST_ITEMS {
            return Err(self.exceeded(ListLimit::Items, MAX_LIST_ITEMS));
        }
        Ok(())
    }

    /// The error for a list that wants more pages than the cap.
    pub(super) fn too_many_pages(&self) -> Error {
        self.exceeded(ListLimit::Pages, self.max_pages)
    }

    fn exceeded(&self, limit: ListLimit, cap: usize) -> Error {
        Error::ListTooLarge {
            method: self.method.to_owned(),
            limit,
            cap: cap as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cap_names_itself() {
        let mut b = ListBudget::new("tools/list", 3, 100);
        b.add(10, 100).expect("within");
        let e = b.add(1, 301).unwrap_err();
        assert!(
            matches!(
                &e,
                Error::ListTooLarge {
                    limit: ListLimit::Bytes,
                    cap: 400,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(
            e.to_string(),
            "tools/list: more than 400 bytes in one list call (the cap on bytes, all pages together)"
        );
        let mut b = ListBudget::new("prompts/list", 3, usize::MAX);
        let e = b.add(MAX_LIST_ITEMS + 1, 1).unwrap_err();
        assert!(
            matches!(
                e,
                Error::ListTooLarge {
                    limit: ListLimit::Items,
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(b.may_fetch());
        b.add(0, 0).ok();
        b.add(0, 0).ok();
        assert!(!b.may_fetch());
        assert!(b.too_many_pages().to_string().contains("more than 3 pages"));
    }
}
