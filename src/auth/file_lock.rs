//! An advisory lock (`flock(2)`) on a sibling `.lock` file, held around
//! each read-merge-write of a file that several writers share: store
//! instances in one process (each takes the lock through its own open
//! file, so they exclude each other like processes do) and other
//! processes.
//!
//! The lock file is created once (mode 0600, never through a symlink) and
//! never deleted: deleting it would let two writers lock two different
//! files of the same name.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::AuthErrorKind;
use crate::{Error, Result};

/// The longest pause between two attempts to take a busy lock.
const MAX_PAUSE: Duration = Duration::from_millis(10);

/// An exclusive lock, released when dropped (closing the file releases it).
#[derive(Debug)]
pub(crate) struct FileLock {
    _file: File,
}

impl FileLock {
    /// Takes the exclusive lock on `path` (created if missing), waiting
    /// up to `wait` for another holder to let go. A symlink at `path` is
    /// refused.
    pub(crate) fn exclusive(path: &Path, wait: Duration) -> Result<FileLock> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
            .map_err(|e| {
                Error::auth(
                    AuthErrorKind::Store,
                    format!("token store lock {}: cannot open it: {e}", path.display()),
                )
            })?;
        let end = Instant::now() + wait;
        let mut pause = Duration::from_millis(1);
        loop {
            // SAFETY: flock only reads the descriptor, which `file` owns
            // and keeps open for the call.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc == 0 {
                return Ok(FileLock { _file: file });
            }
            let err = io::Error::last_os_error();
            match err.raw_os_error() {
                Some(libc::EWOULDBLOCK) | Some(libc::EINTR) => {}
                _ => {
                    return Err(Error::auth(
                        AuthErrorKind::Store,
                        format!("token store lock {}: cannot lock it: {err}", path.display()),
                    ))
                }
            }
            let now = Instant::now();
            if now >= end {
                return Err(Error::auth(
                    AuthErrorKind::Store,
                    format!(
                        "token store lock {}: still held by another writer after {wait:?}",
                        path.display()
                    ),
                ));
            }
            std::thread::sleep(pause.min(end - now));
            pause = (pause * 2).min(MAX_PAUSE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits_then_gives_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = FileLock::exclusive(&path, Duration::from_secs(1)).unwrap();
        let started = Instant::now();
        let err = FileLock::exclusive(&path, Duration::from_millis(50)).unwrap_err();
        assert!(err.to_string().contains("still held"), "{err}");
        assert!(started.elapsed() >= Duration::from_millis(50));
        drop(held);
        FileLock::exclusive(&path, Duration::from_millis(50)).unwrap();
    }
}
