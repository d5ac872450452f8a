//! Warnings a peer can trigger at will (a garbage line, a request we must
//! shed) are rate-limited: the first few of each window are logged, the
//! rest only counted, and the count is reported with the next warning
//! after the window (or when the session ends). A server printing garbage
//! as fast as it can costs a few log lines per window, not one per line.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A budget of log lines per window for one kind of warning.
pub(crate) struct LogBudget {
    first: u32,
    window: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    window_start: Option<Instant>,
    logged: u32,
    suppressed: u64,
}

/// Whether to log this occurrence.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Log it; `suppressed` occurrences before it went unlogged (report
    /// them first when not zero).
    Log { suppressed: u64 },
    /// Count it only.
    Quiet,
}

impl LogBudget {
    /// `first` lines per `window`.
    pub(crate) const fn new(first: u32, window: Duration) -> Self {
        LogBudget {
            first,
            window,
            state: Mutex::new(State {
                window_start: None,
                logged: 0,
                suppressed: 0,
            }),
        }
    }

    /// The window, for the summary line.
    pub(crate) fn window(&self) -> Duration {
        self.window
    }

    /// Decides for one occurrence, now.
    pub(crate) fn admit(&self) -> Admit {
        self.admit_at(Instant::now())
    }

    fn admit_at(&self, now: Instant) -> Admit {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = st
            .window_start
            .is_none_or(|start| now.saturating_duration_since(start) >= self.window);
        if fresh {
            st.window_start = Some(now);
            st.logged = 1;
            return Admit::Log {
                suppressed: std::mem::take(&mut st.suppressed),
            };
        }
        if st.logged < self.first {
            st.logged += 1;
            Admit::Log { suppressed: 0 }
        } else {
            st.suppressed += 1;
            Admit::Quiet
        }
    }

    /// Occurrences not logged and not yet reported (e.g. at the end).
    pub(crate) fn take_suppressed(&self) -> u64 {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        std::mem::take(&mut st.suppressed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_few_per_window_are_logged_and_the_rest_counted() {
        let b = LogBudget::new(3, Duration::from_secs(10));
        let t0 = Instant::now();
        let decisions: Vec<Admit> = (0..1000).map(|_| b.admit_at(t0)).collect();
        assert!(decisions[..3]
            .iter()
            .all(|d| *d == Admit::Log { suppressed: 0 }));
        assert!(decisions[3..].iter().all(|d| *d == Admit::Quiet));
        // The next window's first line carries the count.
        assert_eq!(
            b.admit_at(t0 + Duration::from_secs(10)),
            Admit::Log { suppressed: 997 }
        );
        assert_eq!(b.take_suppressed(), 0);
        for _ in 0..5 {
            b.admit_at(t0 + Duration::from_secs(11));
        }
        assert_eq!(b.take_suppressed(), 3);
    }
}
