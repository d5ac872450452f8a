//! Replacing a file's contents in one step: the bytes go to a new
//! temporary file next to it, with a name no one can predict, created
//! exclusively (`O_EXCL`: an existing file or a planted symlink there is
//! never opened) and never through a symlink (`O_NOFOLLOW`), mode 0600;
//! it is synced, renamed over the file, and the directory synced so the
//! rename survives a crash (where the file system can). Readers see the
//! old contents or the new ones, never a part; a failed write removes its
//! temporary file.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use super::pkce::random_string;
use crate::error::AuthErrorKind;
use crate::{Error, Result};

/// How many fresh names to try when one is taken (a name collision is
/// already unlikely: 72 random bits).
const ATTEMPTS: usize = 8;

/// Replaces the contents of `path` with `bytes` (the file ends up mode
/// 0600). Its directory must exist.
pub(crate) fn replace(path: &Path, bytes: &[u8]) -> Result<()> {
    let (dir, name) = match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => (dir, name.to_string_lossy()),
        _ => {
            return Err(Error::auth(
                AuthErrorKind::Store,
                format!("token store {}: not a file path", path.display()),
            ))
        }
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    for _ in 0..ATTEMPTS {
        let tmp = dir.join(format!(".{name}.{}.tmp", random_string(9)?));
        let file = match create_new(&tmp) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(at(&tmp, "create", e)),
        };
        let mut guard = Remove(Some(tmp.clone()));
        fill(file, bytes).map_err(|e| at(&tmp, "write", e))?;
        std::fs::rename(&tmp, path).map_err(|e| at(path, "replace", e))?;
        guard.0 = None;
        // Best effort: the new contents are in place already, and some
        // file systems cannot sync a directory.
        if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
            tracing::debug!(dir = %dir.display(), "token store: directory not synced: {e}");
        }
        return Ok(());
    }
    Err(Error::auth(
        AuthErrorKind::Store,
        format!(
            "token store {}: {ATTEMPTS} temporary names in a row were taken",
            path.display()
        ),
    ))
}

fn create_new(tmp: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(tmp)
}

fn fill(mut file: File, bytes: &[u8]) -> io::Result<()> {
    // The umask may have taken bits away: the owner must read it back.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// An I/O error that says which file and what was being done.
fn at(path: &Path, doing: &str, e: io::Error) -> Error {
    Error::Io(io::Error::new(
        e.kind(),
        format!("token store: cannot {doing} {}: {e}", path.display()),
    ))
}

/// Removes the temporary file unless disarmed (after the rename).
struct Remove(Option<PathBuf>);

impl Drop for Remove {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        replace(&path, b"one").unwrap();
        replace(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_rename_removes_the_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // A directory where the file should be: the rename fails.
        let path = dir.path().join("f.json");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("inside"), b"x").unwrap();
        assert!(replace(&path, b"one").is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
