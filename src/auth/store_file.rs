//! [`FileTokenStore`]: the [`TokenStore`] kept in one JSON file that
//! several store instances and processes may share.
//!
//! Every change is a read-merge-write under the file's lock
//! (`file_lock.rs`): the file is read again, only the writer's own key is
//! set or removed, and the result replaces the file atomically
//! (`atomic_write.rs`). So no writer overwrites another's entries with a
//! stale copy and no reader sees half a file. A file that does not parse
//! is moved aside (`<name>.corrupt-<unix seconds>`) with a warning and the
//! store starts empty, instead of failing every load. A file that another
//! user owns, or that group or others may write, is refused: tokens
//! planted there would be sent to servers.

use std::fmt;
use std::fs::File;
use std::io::{self, Read as _};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::atomic_write;
use super::file_lock::FileLock;
use super::store::{now_secs, StoreKey, StoredAuth, TokenStore};
use crate::error::AuthErrorKind;
use crate::{Error, Result};

/// How long a change waits for another writer to release the file's lock
/// before failing.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// How many `-<n>` suffixes to try when a `.corrupt-<seconds>` name is taken.
const ASIDE_ATTEMPTS: u32 = 100;

/// Keeps everything in one JSON file, readable and writable by its owner
/// only (mode 0600; its directory is created 0700). Unix only.
///
/// Several instances and processes may share the file: each save or
/// remove holds an advisory lock (`flock` on `<path>.lock`, waiting up to
/// 10 s), re-reads the file and changes only its own key, then writes a
/// new file under a unique temporary name (created exclusively, never
/// through a symlink) and renames it over the old one. A file that is not
/// valid JSON is moved aside to `<path>.corrupt-<unix seconds>` and the
/// store starts empty. A file owned by another user, or writable by group
/// or others, is refused with [`Error::Auth`] naming it (fix: `chmod 600`).
pub struct FileTokenStore {
    path: PathBuf,
}

#[derive(Serialize, Deserialize, Default)]
struct FileContents {
    #[serde(default)]
    entries: Vec<FileEntry>,
}

#[derive(Serialize, Deserialize)]
struct FileEntry {
    #[serde(flatten)]
    key: StoreKey,
    #[serde(flatten)]
    value: StoredAuth,
}

/// What reading the file found.
enum Found {
    Missing,
    Valid(FileContents),
    /// Not valid JSON or not a store: where the parser stopped.
    Corrupt {
        line: usize,
        column: usize,
    },
}

impl FileContents {
    fn get(self, key: &StoreKey) -> Option<StoredAuth> {
        self.entries
            .into_iter()
            .find(|e| &e.key == key)
            .map(|e| e.value)
    }
}

impl FileTokenStore {
    /// A store in the file at `path` (created on first save, with its
    /// directory).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileTokenStore { path: path.into() }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn lock_path(&self) -> PathBuf {
        let mut p = self.path.clone().into_os_string();
        p.push(".lock");
        p.into()
    }

    fn lock(&self) -> Result<FileLock> {
        FileLock::exclusive(&self.lock_path(), LOCK_WAIT)
    }

    /// Reads and parses the file, after checking that only its owner, the
    /// current user, can change it.
    fn read(&self) -> Result<Found> {
        let mut file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Found::Missing),
            Err(e) => return Err(self.io_error("read", e)),
        };
        let meta = file.metadata().map_err(|e| self.io_error("read", e))?;
        self.check_private(&meta)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| self.io_error("read", e))?;
        // The parser's message may quote the file (tokens): keep only
        // where it stopped.
        Ok(match serde_json::from_slice(&bytes) {
            Ok(contents) => Found::Valid(contents),
            Err(e) => Found::Corrupt {
                line: e.line(),
                column: e.column(),
            },
        })
    }

    /// Reads the file under its lock: a corrupt file is moved aside and
    /// counts as empty.
    fn read_locked(&self, _lock: &FileLock) -> Result<FileContents> {
        match self.read()? {
            Found::Missing => Ok(FileContents::default()),
            Found::Valid(contents) => Ok(contents),
            Found::Corrupt { line, column } => {
                let aside = self.move_aside()?;
                tracing::warn!(
                    store = %self.path.display(),
                    moved_to = %aside.display(),
                    line,
                    column,
                    "token store is not valid JSON: moved it aside, starting empty"
                );
                Ok(FileContents::default())
            }
        }
    }

    /// Renames the file to a free `<name>.corrupt-<seconds>[-<n>]`.
    fn move_aside(&self) -> Result<PathBuf> {
        let base = format!("{}.corrupt-{}", self.path.display(), now_secs());
        for n in 0..ASIDE_ATTEMPTS {
            let aside = PathBuf::from(match n {
                0 => base.clone(),
                n => format!("{base}-{n}"),
            });
            // Free names stay free: every writer holds the lock here.
            if std::fs::symlink_metadata(&aside).is_ok() {
                continue;
            }
            std::fs::rename(&self.path, &aside).map_err(|e| self.io_error("move aside", e))?;
            return Ok(aside);
        }
        Err(Error::auth(
            AuthErrorKind::Store,
            format!(
                "token store {}: corrupt, and no free name to move it aside ({base}-*)",
                self.path.display()
            ),
        ))
    }

    fn check_private(&self, meta: &std::fs::Metadata) -> Result<()> {
        let shown = self.path.display();
        // SAFETY: geteuid takes nothing and cannot fail.
        let me = unsafe { libc::geteuid() };
        if meta.uid() != me {
            return Err(Error::auth(
                AuthErrorKind::Store,
                format!(
                    "token store {shown}: refusing to use it: it is owned by uid {}, not by the \
                 current user (uid {me}); if it is yours, run `chown {me} {shown}` and \
                 `chmod 600 {shown}`, else choose another token_store",
                    meta.uid()
                ),
            ));
        }
        let mode = meta.mode() & 0o777;
        if mode & 0o022 != 0 {
            return Err(Error::auth(
                AuthErrorKind::Store,
                format!(
                "token store {shown}: refusing to use it: its mode {mode:03o} lets other users \
                 change it (and plant tokens); run `chmod 600 {shown}`"
            ),
            ));
        }
        Ok(())
    }

    /// Creates the file's directory (mode 0700) if it is missing.
    fn make_dir(&self) -> Result<()> {
        let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) else {
            return Ok(());
        };
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(dir)
            .map_err(|e| self.io_error("create the directory of", e))
    }

    fn write(&self, contents: &FileContents, _lock: &FileLock) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(contents).map_err(|e| {
            Error::auth(
                AuthErrorKind::Store,
                format!("token store: cannot encode: {e}"),
            )
        })?;
        atomic_write::replace(&self.path, &bytes)
    }

    fn io_error(&self, doing: &str, e: io::Error) -> Error {
        Error::Io(io::Error::new(
            e.kind(),
            format!("token store: cannot {doing} {}: {e}", self.path.display()),
        ))
    }
}

impl fmt::Debug for FileTokenStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileTokenStore")
            .field("path", &self.path)
            .finish()
    }
}

impl TokenStore for FileTokenStore {
    fn load(&self, key: &StoreKey) -> Result<Option<StoredAuth>> {
        // A valid file needs no lock: it is only ever replaced whole.
        match self.read()? {
            Found::Missing => Ok(None),
            Found::Valid(contents) => Ok(contents.get(key)),
            Found::Corrupt { .. } => {
                let lock = self.lock()?;
                Ok(self.read_locked(&lock)?.get(key))
            }
        }
    }

    fn save(&self, key: &StoreKey, value: &StoredAuth) -> Result<()> {
        self.make_dir()?;
        let lock = self.lock()?;
        let mut contents = self.read_locked(&lock)?;
        let entry = FileEntry {
            key: key.clone(),
            value: value.clone(),
        };
        match contents.entries.iter_mut().find(|e| &e.key == key) {
            Some(e) => *e = entry,
            None => contents.entries.push(entry),
        }
        self.write(&contents, &lock)
    }

    fn remove(&self, key: &StoreKey) -> Result<()> {
        if let Found::Missing = self.read()? {
            return Ok(());
        }
        let lock = self.lock()?;
        let mut contents = self.read_locked(&lock)?;
        let before = contents.entries.len();
        contents.entries.retain(|e| &e.key != key);
        if contents.entries.len() == before {
            return Ok(());
        }
        self.write(&contents, &lock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::store::tests::{entry, key};

    #[test]
    fn file_store_round_trip_and_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/tokens.json");
        let s = FileTokenStore::new(&path);
        s.save(&key("https://a"), &entry("a")).unwrap();
        s.save(&key("https://b"), &entry("b")).unwrap();
        s.save(&key("https://a"), &entry("a2")).unwrap();
        let again = FileTokenStore::new(&path);
        assert_eq!(again.load(&key("https://a")).unwrap(), Some(entry("a2")));
        assert_eq!(again.load(&key("https://b")).unwrap(), Some(entry("b")));
        again.remove(&key("https://b")).unwrap();
        assert_eq!(again.load(&key("https://b")).unwrap(), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            let dir_mode = std::fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(dir_mode & 0o777, 0o700);
        }
    }
}
