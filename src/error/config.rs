//! A configuration that could not be used, with where it came from.

use std::fmt;

/// A setting that could not be used: in a config file (`mcpServers`, an
/// agent file, a policy table), in a server's entry, or given to a builder.
///
/// Each part of the place is optional, and the message names those that
/// are known: `servers.json: server "gh": field "timeout": must be a
/// number`. Build one with [`ConfigError::new`] and the `in_*` methods.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigError {
    /// The file the setting came from: its path as given, or `<json>` /
    /// `<toml>` for text parsed from a string. `None` for settings made
    /// in code.
    pub file: Option<String>,
    /// The server (the `mcpServers` entry) the setting belongs to.
    pub server: Option<String>,
    /// The field, as a path into the entry (`auth.client_id`,
    /// `args[2]`, `defaults.timeout`).
    pub field: Option<String>,
    /// The environment variable that set the field, when one did
    /// (`SWITCHBOARD_TIMEOUT`).
    pub set_by: Option<String>,
    /// What is wrong, and where it helps, how to fix it.
    pub reason: String,
}

impl ConfigError {
    /// An error with only its reason; add the place with the `in_*`
    /// methods.
    pub fn new(reason: impl Into<String>) -> Self {
        ConfigError {
            file: None,
            server: None,
            field: None,
            set_by: None,
            reason: reason.into(),
        }
    }

    /// The same error, in `file`.
    #[must_use]
    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    /// The same error, in the entry of `server`.
    #[must_use]
    pub fn in_server(mut self, server: impl Into<String>) -> Self {
        self.server = Some(server.into());
        self
    }

    /// The same error, at `field`.
    #[must_use]
    pub fn in_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// The same error, noting that the environment variable `var` set the
    /// field.
    #[must_use]
    pub fn set_by(mut self, var: impl Into<String>) -> Self {
        self.set_by = Some(var.into());
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(file) = &self.file {
            write!(f, "{file}: ")?;
        }
        if let Some(server) = &self.server {
            write!(f, "server {server:?}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "field {field:?}")?;
            if let Some(var) = &self.set_by {
                write!(f, " (set by {var})")?;
            }
            f.write_str(": ")?;
        }
        f.write_str(&self.reason)
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_every_known_part_of_the_place() {
        let e = ConfigError::new("must be a number")
            .in_file("servers.json")
            .in_server("gh")
            .in_field("timeout")
            .set_by("SWITCHBOARD_TIMEOUT");
        assert_eq!(
            e.to_string(),
            "servers.json: server \"gh\": field \"timeout\" (set by SWITCHBOARD_TIMEOUT): must be a number"
        );
        assert_eq!(
            ConfigError::new("bad").in_file("a.toml").to_string(),
            "a.toml: bad"
        );
        assert_eq!(ConfigError::new("bad").to_string(), "bad");
    }
}
