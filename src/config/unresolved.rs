//! A server whose entry could not be completed: a placeholder without a
//! value, or an `envFile` that cannot be read. It fails alone; the other
//! servers of the file load and run.

use std::path::PathBuf;

use crate::{ConfigError, Error};

/// What was missing.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Unresolved {
    /// `${input:ID}` got no value: no `--input`, no environment variable
    /// ([`super::input_env_var`]), no answer and no `default`.
    Input {
        /// The input's id.
        id: String,
    },
    /// `${VAR}` or `${env:VAR}` with `VAR` unset and no default.
    EnvVar {
        /// The variable.
        name: String,
    },
    /// An editor variable with no value: `${workspaceFolder}` in text not
    /// read from a file, `${userHome}` with `HOME` unset.
    EditorVar {
        /// The variable, as written (`workspaceFolder`).
        name: String,
    },
    /// A placeholder Switchboard does not expand (`${command:...}`).
    Unsupported {
        /// What was between the braces.
        placeholder: String,
    },
    /// The `envFile` could not be read or parsed.
    EnvFile {
        /// The file, resolved against the workspace folder.
        path: PathBuf,
        /// Why (never a value from the file).
        reason: String,
    },
}

/// One server that did not load, with why.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnresolvedServer {
    /// The server's name.
    pub name: String,
    /// The field that needed the value (`env.TOKEN`, `args[1]`, `envFile`).
    pub field: String,
    /// What was missing.
    pub reason: Unresolved,
    /// Whether the entry says `disabled: true` (or `enabled: false`).
    pub disabled: bool,
    /// The whole error: file, server, field, and how to fix it.
    pub problem: ConfigError,
}

impl UnresolvedServer {
    /// The error starting this server gives ([`Error::Config`] with
    /// [`UnresolvedServer::problem`]).
    pub fn error(&self) -> Error {
        Error::Config(self.problem.clone())
    }
}
