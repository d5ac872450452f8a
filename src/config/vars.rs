//! What placeholders are worth while one server entry is read: the
//! environment, the inputs found so far, the workspace folder; and what
//! to tell the user when one has no value.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::dialect::Dialect;
use super::expand::{EditorVar, Placeholder};
use super::inputs::env_var;
use super::unresolved::Unresolved;

/// The values placeholders expand to.
pub(crate) struct Vars<'a> {
    /// The environment snapshot (`${VAR}`, `${env:VAR}`, `$HOME`).
    pub env: &'a HashMap<String, String>,
    /// Input values by id (`${input:ID}`).
    pub inputs: &'a BTreeMap<String, String>,
    /// `${workspaceFolder}`, when known.
    pub workspace: Option<&'a Path>,
    /// The inputs the file declares (for hints).
    pub declared: &'a [String],
}

impl Vars<'_> {
    /// The value of `p`, if it has one.
    pub(crate) fn get(&self, p: &Placeholder) -> Option<String> {
        match p {
            Placeholder::Env(name) => self.env.get(name).cloned(),
            Placeholder::Input(id) => self.inputs.get(id).cloned(),
            Placeholder::Editor(EditorVar::WorkspaceFolder) => {
                self.workspace.map(|w| w.display().to_string())
            }
            Placeholder::Editor(EditorVar::WorkspaceFolderBasename) => self
                .workspace
                .and_then(Path::file_name)
                .map(|n| n.to_string_lossy().into_owned()),
            Placeholder::Editor(EditorVar::UserHome) => self.env.get("HOME").cloned(),
            Placeholder::Editor(EditorVar::PathSeparator) => {
                Some(std::path::MAIN_SEPARATOR.to_string())
            }
            Placeholder::Unsupported(_) => None,
        }
    }

    /// Why `p` has no value and how to give it one, in syntax the file's
    /// owner (`dialect`) understands too.
    pub(crate) fn explain(&self, p: &Placeholder, dialect: Dialect) -> (Unresolved, String) {
        match p {
            Placeholder::Env(name) => {
                let hint = if dialect.has_defaults() {
                    format!(" (write ${{{name}:-default}} to give a default)")
                } else if dialect.has_inputs() {
                    " (set it, or ask for the value with an \"inputs\" entry and \"${input:ID}\")"
                        .to_owned()
                } else {
                    String::new()
                };
                (
                    Unresolved::EnvVar { name: name.clone() },
                    format!("environment variable {name} is not set{hint}"),
                )
            }
            Placeholder::Input(id) => {
                let undeclared = if self.declared.iter().any(|d| d == id) {
                    ""
                } else {
                    " (it is not declared in \"inputs\")"
                };
                (
                    Unresolved::Input { id: id.clone() },
                    format!(
                        "input {id:?} has no value{undeclared}: pass --input {id}=VALUE or set {}",
                        env_var(id)
                    ),
                )
            }
            Placeholder::Editor(var) => {
                let why = match var {
                    EditorVar::UserHome => "HOME is not set",
                    _ => "only known for a config read from a file",
                };
                (
                    Unresolved::EditorVar {
                        name: var.name().to_owned(),
                    },
                    format!("${{{}}} has no value: {why}", var.name()),
                )
            }
            Placeholder::Unsupported(body) => (
                Unresolved::Unsupported {
                    placeholder: body.clone(),
                },
                format!("\"${{{body}}}\" is not supported by Switchboard"),
            ),
        }
    }
}
