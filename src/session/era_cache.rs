//! The era a server speaks, remembered per HTTP origin (scheme, host, port
//! and path) for the life of the process (CLIENT_CHECKLIST A3: "cache it
//! per origin; re-probe if the assumption later fails").
//!
//! Only what the probe found is kept: a later connection to a server known
//! to speak the handshake era goes straight to `initialize` instead of
//! waiting for `server/discover` to fail first. A cached choice that fails
//! is forgotten and the server is probed again. Bounded to
//! [`MAX_ENTRIES`]; the least recently stored origin goes first.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::protocol::Era;

/// How many origins are remembered.
pub(crate) const MAX_ENTRIES: usize = 256;

struct Eras {
    /// Origin → (era, when stored).
    map: HashMap<String, (Era, u64)>,
    tick: u64,
}

static ERAS: Mutex<Option<Eras>> = Mutex::new(None);

fn with<T>(f: impl FnOnce(&mut Eras) -> T) -> T {
    let mut guard = ERAS.lock().unwrap_or_else(|p| p.into_inner());
    let eras = guard.get_or_insert_with(|| Eras {
        map: HashMap::new(),
        tick: 0,
    });
    f(eras)
}

/// The era last learned for `origin`.
pub(crate) fn get(origin: &str) -> Option<Era> {
    with(|e| e.map.get(origin).map(|(era, _)| *era))
}

/// Remembers the era of `origin`.
pub(crate) fn put(origin: &str, era: Era) {
    with(|e| {
        e.tick += 1;
        let tick = e.tick;
        if !e.map.contains_key(origin) && e.map.len() >= MAX_ENTRIES {
            let oldest = e
                .map
                .iter()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| k.clone());
            if let Some(k) = oldest {
                e.map.remove(&k);
            }
        }
        e.map.insert(origin.to_owned(), (era, tick));
    })
}

/// Forgets `origin` (its cached era failed).
pub(crate) fn forget(origin: &str) {
    with(|e| {
        e.map.remove(origin);
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_and_forgetting() {
        let key = |i: usize| format!("http://era-cache-test:{i}/mcp");
        for i in 0..MAX_ENTRIES + 10 {
            put(&key(i), Era::Handshake);
        }
        assert_eq!(get(&key(0)), None, "the oldest went first");
        assert_eq!(get(&key(MAX_ENTRIES + 9)), Some(Era::Handshake));
        with(|e| assert!(e.map.len() <= MAX_ENTRIES));
        put(&key(MAX_ENTRIES + 9), Era::Modern);
        assert_eq!(get(&key(MAX_ENTRIES + 9)), Some(Era::Modern));
        forget(&key(MAX_ENTRIES + 9));
        assert_eq!(get(&key(MAX_ENTRIES + 9)), None);
    }
}
