//! Roots per server: which directories each server may see, from the
//! configuration and changed at run time.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::PolicyError;
use crate::protocol::Root;

/// The key of [`super::PolicyConfig::roots`] that holds the list for
/// servers not named.
pub const DEFAULT_ROOTS_KEY: &str = "*";

/// Roots by server name, with a list for everyone else.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct RootsTable {
    servers: HashMap<String, Vec<Root>>,
    default: Vec<Root>,
}

impl RootsTable {
    /// From the configuration's `roots` map.
    pub(crate) fn from_config(roots: &BTreeMap<String, Vec<String>>) -> Result<Self, PolicyError> {
        let mut table = RootsTable::default();
        for (server, entries) in roots {
            let list = to_roots(entries)?;
            if server == DEFAULT_ROOTS_KEY {
                table.default = list;
            } else {
                table.servers.insert(server.clone(), list);
            }
        }
        Ok(table)
    }

    /// The roots `server` may see.
    pub(crate) fn for_server(&self, server: &str) -> Vec<Root> {
        self.servers.get(server).unwrap_or(&self.default).clone()
    }

    /// Whether `server` has a list of its own.
    pub(crate) fn is_named(&self, server: &str) -> bool {
        self.servers.contains_key(server)
    }

    /// Replaces one server's list (or, for `None`, the default list).
    pub(crate) fn set(&mut self, server: Option<&str>, roots: Vec<Root>) {
        match server {
            Some(s) => {
                self.servers.insert(s.to_owned(), roots);
            }
            None => self.default = roots,
        }
    }
}

/// Roots from URIs or paths.
pub fn to_roots<S: AsRef<str>>(entries: &[S]) -> Result<Vec<Root>, PolicyError> {
    entries
        .iter()
        .map(|e| root_uri(e.as_ref()).map(Root::new))
        .collect()
}

/// A roots entry as a URI: URIs (`scheme://...`) stay as they are; a plain
/// path becomes a `file://` URI (a relative one against the current
/// directory).
pub fn root_uri(entry: &str) -> Result<String, PolicyError> {
    let fail = |reason: &str| PolicyError::Root {
        entry: entry.to_owned(),
        reason: reason.to_owned(),
    };
    if entry.trim().is_empty() {
        return Err(fail("empty"));
    }
    if entry.contains("://") {
        let url = url::Url::parse(entry).map_err(|e| fail(&e.to_string()))?;
        if url.scheme() != "file" {
            tracing::warn!(root = %entry, "a root that is not a file:// URI; servers may ignore it");
        }
        return Ok(entry.to_owned());
    }
    let path = Path::new(entry);
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| fail(&format!("no current directory to resolve against: {e}")))?
            .join(path)
    };
    crate::protocol::file_uri(&absolute).map_err(|e| fail(&e.to_string()))
}
