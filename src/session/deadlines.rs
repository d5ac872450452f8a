//! One sweeper per session enforces every call's deadline, instead of a
//! timer per call: a call registers its deadline with its entry in the
//! pending map, and the sweeper sleeps until the earliest one.
//!
//! Calls with the same timeout end in the order they start, so a new call
//! is almost never the earliest: registering it is one atomic load. The
//! sweeper wakes about once per timeout period (or when a call's deadline
//! passes), scans the map, settles what is due and sleeps again. Progress
//! moves a deadline later; the sweeper finds that when it wakes. When the
//! map is empty but calls keep coming (one at a time, each done before a
//! sweep), it naps for the shortest idle deadline it has seen, so those
//! calls need not ring it either; once calls stop, it sleeps until rung.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

use super::Shared;

/// No deadline ahead.
const NONE: u64 = u64::MAX;

/// The sweeper's alarm clock, shared by the pending map and the sweeper.
pub(crate) struct Wake {
    /// Deadlines as nanoseconds after this.
    base: Instant,
    /// The earliest deadline the sweeper will wake for.
    next: AtomicU64,
    /// Rung when a deadline earlier than `next` arrives, and at the end.
    ring: Notify,
    /// The shortest idle deadline any call has had, in nanoseconds: how
    /// long the sweeper may nap while calls come and go.
    shortest_idle: AtomicU64,
    /// The pending map is gone: the sweeper ends.
    closed: AtomicBool,
}

impl Wake {
    pub(crate) fn new() -> Self {
        Wake {
            base: Instant::now(),
            next: AtomicU64::new(NONE),
            ring: Notify::new(),
            shortest_idle: AtomicU64::new(NONE),
            closed: AtomicBool::new(false),
        }
    }

    fn nanos(&self, at: Instant) -> u64 {
        // Saturates: a deadline centuries away is "none" in effect.
        u64::try_from(at.saturating_duration_since(self.base).as_nanos()).unwrap_or(NONE - 1)
    }

    /// Makes sure the sweeper wakes by `at`, the deadline of a call with
    /// this `idle` deadline.
    pub(crate) fn by(&self, at: Instant, idle: Duration) {
        let idle = u64::try_from(idle.as_nanos()).unwrap_or(NONE);
        if idle < self.shortest_idle.load(Ordering::Relaxed) {
            self.shortest_idle.fetch_min(idle, Ordering::Relaxed);
        }
        let at = self.nanos(at);
        if at < self.next.load(Ordering::Acquire) && at < self.next.fetch_min(at, Ordering::AcqRel)
        {
            self.ring.notify_one();
        }
    }

    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::Release);
        self.ring.notify_one();
    }
}

/// Starts the sweeper of a new session's pending map. It holds the session
/// only while it sweeps, and ends when the session is dropped.
pub(crate) fn spawn(shared: &Arc<Shared>) {
    let wake = shared.pending.wake();
    let session = Arc::downgrade(shared);
    tokio::spawn(sweep(wake, session));
}

async fn sweep(wake: Arc<Wake>, session: Weak<Shared>) {
    // The last request id seen: whether calls came since the last sweep.
    let mut last_id = 0;
    loop {
        let rung = wake.ring.notified();
        tokio::pin!(rung);
        // Registered before reading `next`: a deadline that arrives after
        // the read rings this.
        rung.as_mut().enable();
        if wake.closed.load(Ordering::Acquire) {
            return;
        }
        match wake.next.load(Ordering::Acquire) {
            NONE => rung.await,
            next => {
                let at = wake.base + Duration::from_nanos(next);
                tokio::select! {
                    _ = rung => {}
                    _ = tokio::time::sleep_until(at) => {}
                }
            }
        }
        if wake.closed.load(Ordering::Acquire) {
            return;
        }
        let Some(shared) = session.upgrade() else {
            return;
        };
        // Forget the old alarm before the scan: a call registered during
        // the scan lowers it again (and rings), one registered before is
        // seen by the scan.
        wake.next.store(NONE, Ordering::Release);
        let id = shared.next_id.load(Ordering::Relaxed);
        let now = Instant::now();
        let next = match shared.pending.expire(now) {
            Some(next) => Some(next),
            // Nothing in flight, but calls are coming (one after another,
            // each done before a sweep sees it): nap for the shortest idle
            // deadline, so that the next calls, whose deadlines all lie
            // beyond the nap, need not ring.
            None if id != last_id => match wake.shortest_idle.load(Ordering::Relaxed) {
                NONE => None,
                idle => Some(now + Duration::from_nanos(idle)),
            },
            // Quiet: sleep until a call rings.
            None => None,
        };
        last_id = id;
        if let Some(next) = next {
            wake.next.fetch_min(wake.nanos(next), Ordering::AcqRel);
        }
    }
}
