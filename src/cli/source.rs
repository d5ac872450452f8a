//! The one server SOURCE on the command line names (a config file of many
//! servers is told apart first, by `crate::client::is_config_path`).

use crate::testing::memory_source;
use crate::{Result, Source};

/// The one server SOURCE names: `memory://demo` is the built-in demo
/// server; anything else is inferred as a library user's string would be
/// ([`Source::infer`]).
pub(crate) fn server(text: &str) -> Result<Source> {
    memory_source(text).unwrap_or_else(|| Source::infer(text))
}

/// A file named on the command line (a config file, an agent
/// definition), checked before it is read: one that is not there is the
/// caller's mistake, said as such, not a configuration error.
pub(super) fn existing_file(path: &std::path::Path, what: &str) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    Err(crate::Error::invalid_argument(format!(
        "{}: no such file (the {what})",
        path.display()
    )))
}
