//! What the CLI adds to an error so the user knows what to do next: the
//! protocol era a `--protocol` asked for, the flag that answers a
//! server's ask. Printed as `note:` lines under the error.

use super::args::Global;
use crate::protocol::{codes, Era, VersionChoice};
use crate::Error;

/// Notes for `e` under these flags (none when there is nothing to add).
pub(super) fn notes(e: &Error, global: &Global) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(note) = era(e, global) {
        notes.push(note);
    }
    if let Some(note) = capability(e) {
        notes.push(note);
    }
    notes
}

/// A `--protocol` of one era against a server of the other: the server
/// does not know the method that starts a session in that era.
fn era(e: &Error, global: &Global) -> Option<String> {
    if e.code() != Some(codes::METHOD_NOT_FOUND) {
        return None;
    }
    let Ok(VersionChoice::Exact(version)) = global.protocol.parse::<VersionChoice>() else {
        return None;
    };
    Some(match version.era() {
        Era::Modern => format!(
            "--protocol {version} is the stateless era (server/discover, no initialize \
             handshake); this server answers only the handshake era: try --protocol auto \
             or a handshake revision such as 2025-11-25"
        ),
        Era::Handshake => format!(
            "--protocol {version} is the handshake era (initialize); this server answers \
             only the stateless era: try --protocol auto or 2026-07-28"
        ),
    })
}

/// A tool that failed (`isError`) saying it needed a client capability:
/// how handshake-era servers report an ask the client did not declare.
pub(super) fn tool_error(text: &str) -> Option<String> {
    let text = text.to_ascii_lowercase();
    if !text.contains("capabilit") {
        return None;
    }
    flag_for(&text)
        .map(|flag| format!("the tool needs the client to answer; answer it with {flag}"))
}

/// The flag that turns on the capability `said` names.
fn flag_for(said: &str) -> Option<&'static str> {
    if said.contains("sampling") {
        Some("--sampling text:REPLY|reject|model")
    } else if said.contains("elicitation") {
        Some("--elicitation decline|cancel|accept-defaults|accept:JSON|model")
    } else if said.contains("roots") {
        Some("--root URI (repeatable)")
    } else {
        None
    }
}

/// A server that needs a client capability the command line did not turn on.
fn capability(e: &Error) -> Option<String> {
    let Error::Protocol {
        code,
        message,
        data,
    } = e
    else {
        return None;
    };
    if *code != codes::MISSING_REQUIRED_CLIENT_CAPABILITY {
        return None;
    }
    let said = format!(
        "{message} {}",
        data.as_ref().map(|d| d.to_string()).unwrap_or_default()
    );
    let Some(flag) = flag_for(&said) else {
        return Some(
            "the server needs a client capability this command did not offer: see \
             --sampling, --elicitation and --root"
                .into(),
        );
    };
    Some(format!(
        "the server asks the client for this; answer it with {flag}"
    ))
}
