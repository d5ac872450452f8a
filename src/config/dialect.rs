//! Whose file this is: the MCP client that owns a config file, guessed
//! from its name and shape, so that an error's hint suggests only syntax
//! both Switchboard and that client understand.

use std::path::Path;

use super::Format;

/// The client a config file belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// Switchboard's own files (and any file we cannot place).
    Switchboard,
    /// Claude Code's `.mcp.json`: `${VAR}` and `${VAR:-default}`.
    ClaudeCode,
    /// Claude Desktop's `claude_desktop_config.json`: no expansion.
    ClaudeDesktop,
    /// Cursor's `.cursor/mcp.json`: `${env:VAR}`, editor variables.
    Cursor,
    /// VS Code's `.vscode/mcp.json` (or any JSON with `servers`): `${env:VAR}`,
    /// `${input:ID}`, editor variables.
    VsCode,
    /// Windsurf's `mcp_config.json`: `${env:VAR}`.
    Windsurf,
    /// Cline's `cline_mcp_settings.json`: no expansion.
    Cline,
    /// Codex's `config.toml` (`mcp_servers`): no expansion.
    Codex,
}

impl Dialect {
    /// The dialect of the file at `path` (if read from one), whose servers
    /// are under `table_key`.
    pub(crate) fn detect(path: Option<&Path>, format: Format, table_key: &str) -> Dialect {
        let file = path
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .unwrap_or("");
        let dir = path
            .and_then(Path::parent)
            .and_then(Path::file_name)
            .and_then(|n| n.to_str())
            .unwrap_or("");
        match (file, dir) {
            ("claude_desktop_config.json", _) => Dialect::ClaudeDesktop,
            (".mcp.json", _) => Dialect::ClaudeCode,
            ("cline_mcp_settings.json", _) => Dialect::Cline,
            ("mcp_config.json", _) => Dialect::Windsurf,
            (_, ".vscode") => Dialect::VsCode,
            (_, ".cursor") => Dialect::Cursor,
            (_, ".codex") => Dialect::Codex,
            _ if table_key == "mcp_servers" => Dialect::Codex,
            _ if table_key == "servers" && format == Format::Json => Dialect::VsCode,
            _ => Dialect::Switchboard,
        }
    }

    /// Whether the owner reads `${VAR:-default}`.
    pub(crate) fn has_defaults(self) -> bool {
        matches!(self, Dialect::Switchboard | Dialect::ClaudeCode)
    }

    /// Whether the owner reads `$$` as a literal `$`.
    pub(crate) fn has_dollar_escape(self) -> bool {
        self == Dialect::Switchboard
    }

    /// Whether the owner has `inputs` and `${input:ID}`.
    pub(crate) fn has_inputs(self) -> bool {
        self == Dialect::VsCode
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(path: &str, key: &str) -> Dialect {
        let format = Format::from_path(Path::new(path)).unwrap_or(Format::Json);
        Dialect::detect(Some(Path::new(path)), format, key)
    }

    #[test]
    fn files_are_placed_by_name_and_shape() {
        assert_eq!(of("/w/.vscode/mcp.json", "servers"), Dialect::VsCode);
        assert_eq!(of("/w/any.json", "servers"), Dialect::VsCode);
        assert_eq!(of("/w/agent.toml", "servers"), Dialect::Switchboard);
        assert_eq!(of("/w/.cursor/mcp.json", "mcpServers"), Dialect::Cursor);
        assert_eq!(of("/w/.mcp.json", "mcpServers"), Dialect::ClaudeCode);
        assert_eq!(
            of("/c/claude_desktop_config.json", "mcpServers"),
            Dialect::ClaudeDesktop
        );
        assert_eq!(of("/c/mcp_config.json", "mcpServers"), Dialect::Windsurf);
        assert_eq!(
            of("/c/cline_mcp_settings.json", "mcpServers"),
            Dialect::Cline
        );
        assert_eq!(of("/h/.codex/config.toml", "mcp_servers"), Dialect::Codex);
        assert_eq!(of("/w/mcp.json", "mcpServers"), Dialect::Switchboard);
        assert_eq!(
            Dialect::detect(None, Format::Json, "mcpServers"),
            Dialect::Switchboard
        );
    }
}
