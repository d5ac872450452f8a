//! [`FileTokenStore`]: the [`TokenStore`] kept in one JSON file.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::store::{lock, StoreKey, StoredAuth, TokenStore};
use crate::{Error, Result};

/// Keeps everything in one JSON file, readable and writable by its owner
/// only (mode 0600 on Unix; its directory is created 0700). Writes go to
/// a temporary file that replaces the old one.
pub struct FileTokenStore {
    path: PathBuf,
    lock: Mutex<()>,
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

impl FileTokenStore {
    /// A store in the file at `path` (created on first save).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FileTokenStore {
            path: path.into(),
            lock: Mutex::new(()),
        }
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<FileContents> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::Auth(format!(
                    "token store {}: unreadable: {e}",
                    self.path.display()
                ))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(FileContents::default()),
            Err(e) => Err(e.into()),
        }
    }

    fn write(&self, contents: &FileContents) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(contents)
            .map_err(|e| Error::Auth(format!("token store: cannot encode: {e}")))?;
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.exists() {
                let mut b = std::fs::DirBuilder::new();
                b.recursive(true);
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
                b.create(dir)?;
            }
        }
        let tmp = self.path.with_extension("tmp");
        {
            use std::io::Write;
            let mut o = std::fs::OpenOptions::new();
            o.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
            let mut f = o.open(&tmp)?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
            }
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        Ok(())
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
        let _g = lock(&self.lock);
        Ok(self
            .read()?
            .entries
            .into_iter()
            .find(|e| &e.key == key)
            .map(|e| e.value))
    }

    fn save(&self, key: &StoreKey, value: &StoredAuth) -> Result<()> {
        let _g = lock(&self.lock);
        let mut contents = self.read()?;
        contents.entries.retain(|e| &e.key != key);
        contents.entries.push(FileEntry {
            key: key.clone(),
            value: value.clone(),
        });
        self.write(&contents)
    }

    fn remove(&self, key: &StoreKey) -> Result<()> {
        let _g = lock(&self.lock);
        let mut contents = self.read()?;
        contents.entries.retain(|e| &e.key != key);
        self.write(&contents)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{ClientCredentials, Tokens};

    fn key(issuer: &str) -> StoreKey {
        StoreKey {
            issuer: issuer.into(),
            resource: "https://mcp.example.com/mcp".into(),
        }
    }

    fn entry(token: &str) -> StoredAuth {
        StoredAuth {
            client: Some(ClientCredentials::new("id", Some("s3cret".into()))),
            tokens: Some(Tokens::bearer(token)),
        }
    }

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
