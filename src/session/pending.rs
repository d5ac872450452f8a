//! Requests awaiting their reply: the id → waiter map, per-call progress
//! routing, and the waiting itself (idle deadline reset by progress, plus a
//! hard cap).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::handlers::ProgressCallback;
use crate::protocol::ProgressNotificationParams;
use crate::{Error, Result};

pub(crate) struct Pending {
    pub(crate) tx: oneshot::Sender<Result<Bytes>>,
    /// Whether progress for this id is expected (a progress token was
    /// sent); progress resets the idle deadline.
    pub(crate) tracks_progress: bool,
    /// Called with each progress notification of this call.
    pub(crate) on_progress: Option<ProgressCallback>,
    /// When progress last arrived (read by the waiter when its idle
    /// deadline passes, so no wake-up per progress message).
    pub(crate) last_progress: Option<Instant>,
}

impl Pending {
    /// A waiter.
    pub(crate) fn new(
        tx: oneshot::Sender<Result<Bytes>>,
        tracks_progress: bool,
        on_progress: Option<ProgressCallback>,
    ) -> Self {
        Pending {
            tx,
            tracks_progress,
            on_progress,
            last_progress: None,
        }
    }
}

/// Shards of the map: callers on different threads insert and the reader
/// completes at once; consecutive ids land in different shards, so they
/// rarely wait for each other's lock.
const SHARDS: usize = 16;

/// The map of in-flight requests.
pub(crate) struct PendingMap {
    shards: [Mutex<HashMap<i64, Pending>>; SHARDS],
    /// How many are in flight, over all shards.
    count: AtomicUsize,
}

impl Default for PendingMap {
    fn default() -> Self {
        PendingMap {
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
            count: AtomicUsize::new(0),
        }
    }
}

/// A shard's lock, even after a panic elsewhere poisoned it.
fn lock_shard(shard: &Mutex<HashMap<i64, Pending>>) -> MutexGuard<'_, HashMap<i64, Pending>> {
    shard.lock().unwrap_or_else(|p| p.into_inner())
}

impl PendingMap {
    fn lock(&self, id: i64) -> MutexGuard<'_, HashMap<i64, Pending>> {
        lock_shard(&self.shards[(id as u64 as usize) % SHARDS])
    }

    fn take(&self, id: i64) -> Option<Pending> {
        let taken = self.lock(id).remove(&id);
        if taken.is_some() {
            self.count.fetch_sub(1, Ordering::Relaxed);
        }
        taken
    }

    /// Registers a waiter; returns how many are now in flight.
    pub(crate) fn insert(&self, id: i64, pending: Pending) -> usize {
        let replaced = self.lock(id).insert(id, pending).is_some();
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
                let _ = p.tx.send(outcome);
                true
            }
            None => false,
        }
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

    /// When progress last arrived for `id`.
    fn last_progress(&self, id: i64) -> Option<Instant> {
        self.lock(id).get(&id).and_then(|p| p.last_progress)
    }

    /// Fails every waiter (the connection is gone).
    pub(crate) fn fail_all(&self, make: impl Fn() -> Error) {
        for shard in &self.shards {
            let drained: Vec<Pending> = lock_shard(shard).drain().map(|(_, p)| p).collect();
            self.count.fetch_sub(drained.len(), Ordering::Relaxed);
            for p in drained {
                let _ = p.tx.send(Err(make()));
            }
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }
}

/// Waits for the reply to `id`: `idle` without reply or progress, `cap` in
/// all. Progress does not wake the waiter: when the idle deadline passes,
/// the last progress time decides whether to wait on.
pub(crate) async fn wait_reply(
    rx: &mut oneshot::Receiver<Result<Bytes>>,
    pending: &PendingMap,
    id: i64,
    idle: Duration,
    cap: Duration,
) -> std::result::Result<Result<Bytes>, Duration> {
    let start = Instant::now();
    let hard = start + cap;
    let sleep = tokio::time::sleep_until((start + idle).min(hard));
    tokio::pin!(sleep);
    loop {
        tokio::select! {
            biased;
            reply = &mut *rx => {
                return Ok(reply.unwrap_or_else(|_| Err(Error::NotConnected("the session ended".into()))));
            }
            _ = &mut sleep => {
                let now = Instant::now();
                match pending.last_progress(id) {
                    Some(at) if at + idle > now && now < hard => {
                        sleep.as_mut().reset((at + idle).min(hard));
                    }
                    _ => return Err(start.elapsed()),
                }
            }
        }
    }
}
