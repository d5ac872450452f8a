//! The log level a 2026-07-28 session asks for in each request's `_meta`
//! (set by `Client::set_log_level`), read by every request: an atomic,
//! not a lock.

use std::sync::atomic::{AtomicU8, Ordering};

use crate::protocol::LoggingLevel;

/// An optional [`LoggingLevel`]: 0 is none, else the level's place in
/// [`LoggingLevel::ALL`] plus one. Default: none.
#[derive(Debug, Default)]
pub(crate) struct LevelCell(AtomicU8);

impl LevelCell {
    /// The level set last, if any.
    pub(crate) fn get(&self) -> Option<LoggingLevel> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            n => LoggingLevel::ALL.get(usize::from(n) - 1).copied(),
        }
    }

    /// Sets the level every later request asks for.
    pub(crate) fn set(&self, level: LoggingLevel) {
        let place = LoggingLevel::ALL
            .iter()
            .position(|l| *l == level)
            .map_or(0, |i| i as u8 + 1);
        self.0.store(place, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_reads_back_as_set() {
        let cell = LevelCell::default();
        assert_eq!(cell.get(), None);
        for level in LoggingLevel::ALL {
            cell.set(level);
            assert_eq!(cell.get(), Some(level));
        }
    }
}
