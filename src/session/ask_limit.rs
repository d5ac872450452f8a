//! A bound on the work a server can queue in this client by asking: each
//! server request (handshake era) holds a slot from the moment it is read
//! until its answer has been handed to the transport. A server that sends
//! requests faster than it reads our answers (a million pings, or pings
//! while its stdin is full) would otherwise grow one task per request
//! without limit. Requests beyond the bound are shed: not answered at all
//! (an answer could not be written either), with one warning per burst.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::log_budget::{Admit, LogBudget};

/// Server requests answered or waiting to be written at once, per session.
/// A real server has a handful in flight (sampling, elicitation, roots).
pub(crate) const MAX_SERVER_REQUESTS: usize = 1024;

/// Counts the slots in use; logs what it sheds.
pub(crate) struct AskLimit {
    in_flight: Arc<AtomicUsize>,
    shed: LogBudget,
}

/// One request's slot, given back when dropped (answered, cancelled,
/// aborted at the end of the session).
pub(crate) struct AskSlot(Arc<AtomicUsize>);

impl Drop for AskSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl AskLimit {
    pub(crate) fn new() -> Self {
        AskLimit {
            in_flight: Arc::new(AtomicUsize::new(0)),
            shed: LogBudget::new(1, Duration::from_secs(10)),
        }
    }

    /// A slot for one more request, or `None` (and a warning, once per
    /// burst) when the bound is reached.
    pub(crate) fn acquire(&self, server: &str, method: &str) -> Option<AskSlot> {
        if self.in_flight.fetch_add(1, Ordering::AcqRel) < MAX_SERVER_REQUESTS {
            return Some(AskSlot(self.in_flight.clone()));
        }
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
        if let Admit::Log { suppressed } = self.shed.admit() {
            tracing::warn!(
                server,
                %method,
                limit = MAX_SERVER_REQUESTS,
                shed_before = suppressed,
                "the server sends requests faster than it reads our answers: shedding them unanswered (one warning per {:?}; shed_before counts the quiet ones)",
                self.shed.window()
            );
        }
        None
    }
}
