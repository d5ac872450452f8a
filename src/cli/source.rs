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
