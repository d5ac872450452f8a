//! Requests awaiting their reply: the id → waiter map, per-call progress
//! routing, and the waiting itself (idle deadline reset by progress, plus a
//! hard cap).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{oneshot, Notify};
use tokio::time::Instant;

use super::handlers::ProgressCallback;
use crate::protocol::ProgressNotificationParams;
use crate::{Error, Result};

/// Progress routing of one call.
pub(crate) struct CallProgress {
    pub(crate) callback: Option<ProgressCallback>,
    pub(crate) touched: Notify,
}

pub(crate) struct Pending {
    pub(crate) tx: oneshot::Sender<Result<Bytes>>,
    pub(crate) progress: Option<Arc<CallProgress>>,
}

/// The map of in-flight requests.
#[derive(Default)]
pub(crate) struct PendingMap {
    map: Mutex<HashMap<i64, Pending>>,
}

impl PendingMap {
    fn lock(&self) -> MutexGuard<'_, HashMap<i64, Pending>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a waiter; returns how many are now in flight.
    pub(crate) fn insert(&self, id: i64, pending: Pending) -> usize {
        let mut map = self.lock();
        map.insert(id, pending);
        map.len()
    }

    /// Completes a request; false when nobody waits for this id.
    pub(crate) fn complete(&self, id: i64, outcome: Result<Bytes>) -> bool {
        match self.lock().remove(&id) {
            Some(p) => {
                let _ = p.tx.send(outcome);
                true
            }
            None => false,
        }
    }

    pub(crate) fn remove(&self, id: i64) -> bool {
        self.lock().remove(&id).is_some()
    }

    pub(crate) fn contains(&self, id: i64) -> bool {
        self.lock().contains_key(&id)
    }

    /// Routes a progress notification to its call; false when no call has
    /// that token.
    pub(crate) fn progress(&self, token: i64, params: &ProgressNotificationParams) -> bool {
        let route = match self.lock().get(&token) {
            Some(p) => p.progress.clone(),
            None => return false,
        };
        if let Some(route) = route {
            route.touched.notify_one();
            if let Some(cb) = &route.callback {
                cb(params);
            }
        }
        true
    }

    /// Fails every waiter (the connection is gone).
    pub(crate) fn fail_all(&self, make: impl Fn() -> Error) {
        let drained: Vec<Pending> = self.lock().drain().map(|(_, p)| p).collect();
        for p in drained {
            let _ = p.tx.send(Err(make()));
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }
}

/// Waits for a reply: `idle` without reply or progress, `cap` in all.
pub(crate) async fn wait_reply(
    rx: &mut oneshot::Receiver<Result<Bytes>>,
    progress: Option<&CallProgress>,
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
            _ = async {
                match progress {
                    Some(p) => p.touched.notified().await,
                    None => std::future::pending().await,
                }
            } => {
                sleep.as_mut().reset((Instant::now() + idle).min(hard));
            }
            _ = &mut sleep => return Err(start.elapsed()),
        }
    }
}
