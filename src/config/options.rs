//! How a config file is loaded: input values, which servers will be
//! started, how to ask for what is missing, and the workspace folder.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use super::inputs::InputSpec;

/// Asks for an input's value; `None` when it cannot (no terminal, end of
/// input).
pub type Prompt = Arc<dyn Fn(&InputSpec) -> Option<String> + Send + Sync>;

/// Options for [`super::FleetConfig::load`]. The default gives no input
/// values (the environment still can), asks nobody, treats every server
/// as one that will be started, takes the workspace folder from the
/// file's path and reads this process's environment.
#[derive(Clone, Default)]
pub struct LoadOptions {
    pub(crate) inputs: BTreeMap<String, String>,
    pub(crate) only: Option<String>,
    pub(crate) prompt: Option<Prompt>,
    pub(crate) workspace_folder: Option<PathBuf>,
    pub(crate) env: Option<HashMap<String, String>>,
}

impl LoadOptions {
    /// The defaults (see [`LoadOptions`]).
    pub fn new() -> Self {
        LoadOptions::default()
    }

    /// The value of `${input:ID}` (the CLI's `--input ID=VALUE`); wins over
    /// the environment and the prompt. Default: none.
    pub fn input(mut self, id: impl Into<String>, value: impl Into<String>) -> Self {
        self.inputs.insert(id.into(), value.into());
        self
    }

    /// Only the server `name` will be started (the CLI's `--server`): the
    /// prompt is used for its inputs only. Default: every enabled server.
    pub fn only(mut self, name: impl Into<String>) -> Self {
        self.only = Some(name.into());
        self
    }

    /// Asks for inputs that have no value, once per input, only for
    /// servers that will be started; e.g. [`super::terminal_prompt`].
    /// Default: nobody is asked.
    pub fn prompt(
        mut self,
        prompt: impl Fn(&InputSpec) -> Option<String> + Send + Sync + 'static,
    ) -> Self {
        self.prompt = Some(Arc::new(prompt));
        self
    }

    /// The folder `${workspaceFolder}` names. Default: the parent of the
    /// file's folder when that is `.vscode` or `.cursor`, else the file's
    /// own folder; none for text read from a string.
    pub fn workspace_folder(mut self, folder: impl Into<PathBuf>) -> Self {
        self.workspace_folder = Some(folder.into());
        self
    }

    /// The environment `${VAR}`, `SWITCHBOARD_INPUT_*` and the
    /// `SWITCHBOARD__...` overrides are read from. Default: this process's.
    pub fn environment(mut self, env: HashMap<String, String>) -> Self {
        self.env = Some(env);
        self
    }

    /// Whether the server `name` will be started.
    pub(crate) fn selects(&self, name: &str) -> bool {
        self.only.as_deref().is_none_or(|o| o == name)
    }
}

impl fmt::Debug for LoadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadOptions")
            .field("inputs", &self.inputs.keys().collect::<Vec<_>>())
            .field("only", &self.only)
            .field("prompt", &self.prompt.is_some())
            .field("workspace_folder", &self.workspace_folder)
            .field("env", &self.env.as_ref().map(|e| e.len()))
            .finish()
    }
}
