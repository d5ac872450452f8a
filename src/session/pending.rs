//! Requests awaiting their reply: the id → waiter map, per-call progress
//! routing, and each call's deadline (idle, reset by progress, plus a hard
//! cap), which one sweeper per session enforces (`deadlines.rs`), so a
//! call costs no timer of its own.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::deadlines::Wake;
use super::handlers::ProgressCallback;
use crate::protocol::ProgressNotificationParams;
use crate::{Error, Result};

/// When a call gives up: `idle` after it started or last made progress,
/// and at `hard` whatever happens.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    pub(crate) started: Instant,
    pub(crate) idle: Duration,
    pub(crate) hard: Instant,
}

pub(crate) struct Pending {
    /// Taken by whatever settles the call: its reply, the end of the
    /// session, or its deadline. A call whose deadline passed stays in the
    /// map (without a sender) until its waiter removes it, which also tells
    /// the server to stop.
    tx: Option<oneshot::Sender<Result<Bytes>>>,
    /// Whether progress for this id is expected (a progress token was
    /// sent); progress resets the idle deadline.
    tracks_progress: bool,
    /// Called with each progress notification of this call.
    on_progress: Option<ProgressCallback>,
    /// When progress last arrived.
    last_progress: Option<Instant>,
    /// `None`: waits as long as the session lasts (a listen stream).
    deadline: Option<Deadline>,
}

impl Pending {
    /// A waiter.
    pub(crate) fn new(
        tx: oneshot::Sender<Result<Bytes>>,
        tracks_progress: bool,
        on_progress: Option<ProgressCallback>,
        deadline: Option<Deadline>,
    ) -> Self {
        Pending {
            tx: Some(tx),
            tracks_progress,
            on_progress,
            last_progress: None,
            deadline,
        }
    }

    /// When this call's deadline passes, if it is still waiting.
    fn due(&self) -> Option<Instant> {
        let d = self.deadline.as_ref()?;
        self.tx.as_ref()?;
        let since = self.last_progress.map_or(d.started, |p| p.max(d.started));
        Some(after(since, d.idle).min(d.hard))
    }
}

/// `at + wait`, or about thirty years on when that overflows (a caller may
/// ask for `Duration::MAX`, meaning "no limit").
pub(crate) fn after(at: Instant, wait: Duration) -> Instant {
    at.checked_add(wait)
        .unwrap_or_else(|| at + Duration::from_secs(30 * 365 * 86_400))
}

/// What the sweeper sends a call whose deadline passed; the waiter turns it
/// into the full [`Error::Timeout`] (method, elapsed time, hints).
pub(crate) fn is_deadline_marker(e: &Error) -> bool {
    matches!(e, Error::Timeout { method, .. } if method.is_empty())
}

fn deadline_marker() -> Error {
    Error::Timeout {
        method: String::new(),
        elapsed: Duration::ZERO,
        hint: None,
    }
}

/// Hashes request ids (consecutive integers) with one multiplication:
/// they need no protection from chosen keys, as we pick them. The well
/// mixed high half of the product is rotated into the low bits, which pick
/// the bucket (the ids of one shard share their low bits).
#[derive(Default, Clone, Copy)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0.rotate_left(32)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_i64(&mut self, id: i64) {
        self.0 = (id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

type Ids = HashMap<i64, Pending, std::hash::BuildHasherDefault<IdHasher>>;

/// Shards of the map: callers on different threads insert and the reader
/// completes at once; consecutive ids land in different shards, so they
/// rarely wait for each other's lock.
const SHARDS: usize = 16;

/// The map of in-flight requests.
pub(crate) struct PendingMap {
    shards: [Mutex<Ids>; SHARDS],
    /// How many are in flight, over all shards.
    count: AtomicUsize,
    /// The sweeper's alarm: told of deadlines earlier than it expects.
    wake: Arc<Wake>,
}

impl Default for PendingMap {
    fn default() -> Self {
        PendingMap {
            shards: std::array::from_fn(|_| Mutex::new(Ids::default())),
            count: AtomicUsize::new(0),
            wake: Arc::new(Wake::new()),
        }
    }
}

impl Drop for PendingMap {
    fn drop(&mut self) {
        self.wake.close();
    }
}

/// A shard's lock, even after a panic elsewhere poisoned it.
fn lock_shard(shard: &Mutex<Ids>) -> MutexGuard<'_, Ids> {
    shard.lock().unwrap_or_else(|p| p.into_inner())
}

impl PendingMap {
    fn lock(&self, id: i64) -> MutexGuard<'_, Ids> {
        lock_shard(&self.shards[(id as u64 as usize) % SHARDS])
    }

    fn take(&self, id: i64) -> Option<Pending> {
        let taken = self.lock(id).remove(&id);
        if taken.is_some() {
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
        taken
    }

    /// The sweeper's alarm, for the sweeper task.
    pub(crate) fn wake(&self) -> Arc<Wake> {
        self.wake.clone()
    }

    /// Registers a waiter; returns how many are now in flight.
    pub(crate) fn insert(&self, id: i64, pending: Pending) -> usize {
        let due = pending.due().zip(pending.deadline.map(|d| d.idle));
        let replaced = self.lock(id).insert(id, pending).is_some();
        // After the insert: a sweep that misses this entry has been told.
        if let Some((due, idle)) = due {
            self.wake.by(due, idle);
        }
        if replaced {
            self.count.load(Ordering::Relaxed)
        } else {
            self.count.fetch_add(1, Ordering::Relaxed) + 1
        }
    }

    /// Completes a request; false when nobody waits for this id.
    pub(crate) fn complete(&self, id: i64, outcome: Result<Bytes>) -> bool {
        match self.take(id) {
            Some(p) => {
                if let Some(tx) = p.tx {
                    let _ = tx.send(outcome);
                }
                true
            }
            None => false,
        }
    }

    /// Settles every call whose deadline is past `now` (with the deadline
    /// marker); returns the earliest deadline still ahead.
    pub(crate) fn expire(&self, now: Instant) -> Option<Instant> {
        let mut next: Option<Instant> = None;
        for shard in &self.shards {
            for p in lock_shard(shard).values_mut() {
                let Some(due) = p.due() else { continue };
                if due <= now {
                    if let Some(tx) = p.tx.take() {
                        let _ = tx.send(Err(deadline_marker()));
                    }
                } else {
                    next = Some(next.map_or(due, |n| n.min(due)));
                }
            }
        }
        next
    }

    pub(crate) fn remove(&self, id: i64) -> bool {
        self.take(id).is_some()
    }

    pub(crate) fn contains(&self, id: i64) -> bool {
        self.lock(id).contains_key(&id)
    }

    /// Routes a progress notification to its call; false when no call has
    /// that token.
    pub(crate) fn progress(&self, token: i64, params: &ProgressNotificationParams) -> bool {
        let callback = {
            let mut map = self.lock(token);
            let Some(p) = map.get_mut(&token) else {
                return false;
            };
            if !p.tracks_progress {
                return true;
            }
            p.last_progress = Some(Instant::now());
            p.on_progress.clone()
        };
        if let Some(cb) = callback {
            cb(params);
        }
        true
    }

    /// Fails every waiter (the connection is gone).
    pub(crate) fn fail_all(&self, make: impl Fn() -> Error) {
        for shard in &self.shards {
            let drained: Vec<Pending> = lock_shard(shard).drain().map(|(_, p)| p).collect();
            self.count.fetch_sub(drained.len(), Ordering::Relaxed);
            for tx in drained.into_iter().filter_map(|p| p.tx) {
                let _ = tx.send(Err(make()));
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::hash::{BuildHasher, BuildHasherDefault};

    use super::{IdHasher, SHARDS};

    /// The ids of one shard (every 16th) spread over a table's buckets.
    #[test]
    fn ids_of_one_shard_spread_over_buckets() {
        let hasher = BuildHasherDefault::<IdHasher>::default();
        let buckets = 256u64;
        let used: HashSet<u64> = (0..1024i64)
            .map(|n| 3 + n * SHARDS as i64)
            .map(|id| hasher.hash_one(id) & (buckets - 1))
            .collect();
        assert!(
            used.len() as u64 > buckets * 9 / 10,
            "{} of {buckets}",
            used.len()
        );
    }
}
