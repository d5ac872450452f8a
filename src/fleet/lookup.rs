//! What a fleet says when a namespaced name resolves to nothing: the
//! server the name belongs to is down (say so, with its last error), or
//! the name is not there (say so, and suggest the prefixed name when the
//! caller gave a server's own name).

use super::health::ServerState;
use super::names;
use super::snapshot::Snapshot;
use crate::error::NotFoundKind;
use crate::Error;

/// What kind of name was looked up.
#[derive(Clone, Copy)]
pub(super) enum Looked {
    Tool,
    Prompt,
}

impl Looked {
    fn kind(self) -> NotFoundKind {
        match self {
            Looked::Tool => NotFoundKind::Tool,
            Looked::Prompt => NotFoundKind::Prompt,
        }
    }
}

/// The error for `namespaced`, which `snapshot` (freshly listed) lacks.
pub(super) fn not_found(snapshot: &Snapshot, kind: Looked, namespaced: &str) -> Error {
    let what = kind.kind();
    let members = snapshot.entries.keys().map(String::as_str);
    let owner = names::owner(namespaced, members).and_then(|name| snapshot.server(name));
    if let Some(server) = owner {
        let health = server.health();
        if !matches!(health.state, ServerState::Ready | ServerState::NotStarted) {
            let why = health
                .last_error
                .map(|e| format!(": {}", e.lines().next().unwrap_or_default()))
                .unwrap_or_default();
            return Error::Connect {
                message: format!(
                    "{what} {namespaced:?} is on server {:?}, which is {}{why}",
                    health.name, health.state
                ),
                stderr_tail: health.stderr_tail,
            };
        }
    }
    let suggestions: Vec<&str> = match kind {
        Looked::Tool => snapshot
            .tools
            .iter()
            .filter(|t| {
                snapshot
                    .resolve_tool(&t.name)
                    .is_some_and(|(_, own)| own == namespaced)
            })
            .map(|t| t.name.as_str())
            .collect(),
        Looked::Prompt => snapshot
            .prompts
            .iter()
            .filter(|p| {
                snapshot
                    .resolve_prompt(&p.name)
                    .is_some_and(|(_, own)| own == namespaced)
            })
            .map(|p| p.name.as_str())
            .collect(),
    };
    let hint = match suggestions.as_slice() {
        [] => None,
        [one] => Some(format!("did you mean {one:?}?")),
        many => Some(format!("did you mean one of {many:?}?")),
    };
    Error::not_found(what, namespaced, hint)
}
