//! Every stdio server's process group this process has started and not yet
//! taken down, so a program that is told to stop (SIGINT, SIGTERM, SIGHUP,
//! a closed stdout) can end them all before it exits.
//!
//! Dropping a client already kills its group; this is for the exits that
//! skip destructors or cannot wait for them: a signal handler, or
//! `std::process::exit`. A server started in its own process group gets
//! none of the terminal's signals, so without this it would outlive us.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

static LIVE: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

fn live() -> std::sync::MutexGuard<'static, BTreeSet<i32>> {
    LIVE.lock().unwrap_or_else(|p| p.into_inner())
}

pub(super) fn register(pgid: i32) {
    if pgid > 0 {
        live().insert(pgid);
    }
}

pub(super) fn forget(pgid: i32) {
    live().remove(&pgid);
}

pub(super) fn signal_group(pgid: i32, signal: i32) {
    if pgid > 0 {
        // SAFETY: killpg has no memory-safety preconditions; ESRCH (group
        // already gone) is expected and ignored.
        unsafe {
            libc::killpg(pgid, signal);
        }
    }
}

fn group_alive(pgid: i32) -> bool {
    // SAFETY: as above; signal 0 only checks that the group exists.
    unsafe { libc::killpg(pgid, 0) == 0 }
}

/// How many stdio server process groups are running now.
pub fn live_groups() -> usize {
    live().len()
}

/// Ends every stdio server this process started and still runs: SIGTERM to
/// each process group, up to `grace` for them to go, then SIGKILL to what
/// is left. For a signal handler or any exit that does not drop its
/// clients; the clients see their servers as closed. Blocks the calling
/// thread for at most `grace` (polling every 10 ms).
pub fn terminate_all(grace: Duration) {
    let groups: Vec<i32> = live().iter().copied().collect();
    for &g in &groups {
        signal_group(g, libc::SIGTERM);
    }
    let deadline = Instant::now() + grace;
    while groups.iter().any(|&g| group_alive(g)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    for &g in &groups {
        signal_group(g, libc::SIGKILL);
        forget(g);
    }
}
