//! Caching of list results by their `ttlMs` (2026-07-28, SEP-2549): a list
//! fetched with a positive TTL is served from memory until it expires or a
//! `list_changed` notification for it arrives. Absent, zero or negative TTLs
//! (every handshake-era server) mean "stale at once": nothing is cached.
//!
//! One client is one authorization context, so `private` and `public`
//! results are both safe to keep here; they are never shared across
//! clients.

use std::any::Any;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Entry = (usize, Instant, Arc<dyn Any + Send + Sync>);

/// Cached full lists (all pages), per list method, tied to the connection
/// that produced them (a restarted server may list something else).
#[derive(Default)]
pub(crate) struct ListCache {
    entries: Mutex<HashMap<&'static str, Entry>>,
    /// What the last full list of each method allowed: its TTL and scope
    /// (for a republisher, such as a gateway, whose own lists may be kept
    /// no longer and shared no wider).
    freshness: Mutex<HashMap<&'static str, Freshness>>,
}

/// How long, and how widely, a list may be kept (SEP-2549).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Freshness {
    /// The smallest `ttlMs` of its pages; `None` when a page had none (a
    /// handshake-era server).
    pub ttl_ms: Option<i64>,
    /// `false` when any page said `private` (a page without a scope, as
    /// from a handshake-era server, does not).
    pub public: bool,
}

impl ListCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A fresh cached list for `method`, if there is one.
    pub(crate) fn get<T: Clone + Send + Sync + 'static>(
        &self,
        connection: usize,
        method: &'static str,
    ) -> Option<Vec<T>> {
        let entries = self.lock();
        let (from, expires, value) = entries.get(method)?;
        if *from != connection || Instant::now() >= *expires {
            return None;
        }
        value.downcast_ref::<Vec<T>>().cloned()
    }

    /// Keeps `items` for `ttl_ms` (the smallest TTL of the pages).
    pub(crate) fn put<T: Clone + Send + Sync + 'static>(
        &self,
        connection: usize,
        method: &'static str,
        ttl_ms: Option<i64>,
        items: &[T],
    ) {
        match ttl_ms.filter(|t| *t > 0) {
            Some(ttl) => {
                let expires = Instant::now() + Duration::from_millis(ttl as u64);
                self.lock()
                    .insert(method, (connection, expires, Arc::new(items.to_vec())));
            }
            None => {
                self.lock().remove(method);
            }
        }
    }

    /// Records what the last full list of `method` allowed.
    pub(crate) fn set_freshness(&self, method: &'static str, freshness: Freshness) {
        self.freshness
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(method, freshness);
    }

    /// What the last full list of `method` allowed, if one was fetched.
    pub(crate) fn freshness(&self, method: &str) -> Option<Freshness> {
        self.freshness
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(method)
            .copied()
    }

    /// Drops the cached list of `method`.
    pub(crate) fn invalidate(&self, method: &str) {
        self.lock().remove(method);
    }

    /// Drops what a notification says has changed.
    pub(crate) fn invalidate_for(&self, notification: &str) {
        let method = match notification {
            "notifications/tools/list_changed" => "tools/list",
            "notifications/prompts/list_changed" => "prompts/list",
            "notifications/resources/list_changed" => {
                self.lock().remove("resources/templates/list");
                "resources/list"
            }
            _ => return,
        };
        self.lock().remove(method);
    }
}
