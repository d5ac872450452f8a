//! The tool-call replay policy on redelivery (the design's §3.6): a pure
//! table, so every case is tested. Whether a tool may be called again is
//! the same [`ReplayPolicy`] a client applies to calls cut by a restart of
//! its server (an agent definition's `[tools] replay`, `replay_allow`,
//! `replay_deny`, over the namespaced names).

pub use crate::client::{Replay, ReplayPolicy};

/// What the journal holds for a call when an attempt reaches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalState {
    /// Nothing: no earlier attempt reached it.
    Absent,
    /// An earlier attempt started it and was lost before it finished.
    Started,
    /// An earlier attempt finished it; its result is stored.
    Done,
}

/// What to do with the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayAction {
    /// Use the stored result; do not call.
    Reuse,
    /// Call the tool.
    Call,
    /// Do not call; tell the model the outcome is unknown.
    ReportUnknown,
}

/// The table of §3.6; `replays` is what the policy says of the tool
/// ([`ReplayPolicy::replays`]).
pub fn replay_action(state: JournalState, replays: bool) -> ReplayAction {
    match (state, replays) {
        (JournalState::Done, _) => ReplayAction::Reuse,
        (JournalState::Absent, _) => ReplayAction::Call,
        (JournalState::Started, true) => ReplayAction::Call,
        (JournalState::Started, false) => ReplayAction::ReportUnknown,
    }
}

/// What the model reads for a call whose outcome was lost.
pub const OUTCOME_UNKNOWN: &str = "Error: outcome unknown: the worker running this call was lost; it was not repeated. Check before retrying.";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::ToolAnnotations;
    use JournalState::*;
    use ReplayAction::*;

    #[test]
    fn the_replay_table_has_every_case_of_the_design() {
        let safe = ToolAnnotations {
            read_only_hint: Some(true),
            ..ToolAnnotations::default()
        };
        let side_effecting = ToolAnnotations {
            destructive_hint: Some(true),
            ..ToolAnnotations::default()
        };
        // (journal state, class, setting) -> action: 3 x 2 x 3 cases.
        let cases = [
            (Done, &safe, Replay::Never, Reuse),
            (Done, &safe, Replay::Safe, Reuse),
            (Done, &safe, Replay::Always, Reuse),
            (Done, &side_effecting, Replay::Never, Reuse),
            (Done, &side_effecting, Replay::Safe, Reuse),
            (Done, &side_effecting, Replay::Always, Reuse),
            (Absent, &safe, Replay::Never, Call),
            (Absent, &safe, Replay::Safe, Call),
            (Absent, &safe, Replay::Always, Call),
            (Absent, &side_effecting, Replay::Never, Call),
            (Absent, &side_effecting, Replay::Safe, Call),
            (Absent, &side_effecting, Replay::Always, Call),
            (Started, &safe, Replay::Never, ReportUnknown),
            (Started, &safe, Replay::Safe, Call),
            (Started, &safe, Replay::Always, Call),
            (Started, &side_effecting, Replay::Never, ReportUnknown),
            (Started, &side_effecting, Replay::Safe, ReportUnknown),
            (Started, &side_effecting, Replay::Always, Call),
        ];
        for (state, hints, mode, want) in cases {
            let replays = ReplayPolicy::new(mode).replays("s_tool", Some(hints));
            assert_eq!(
                replay_action(state, replays),
                want,
                "{state:?} {hints:?} {mode:?}"
            );
        }
        // The operator has the last word over the annotations.
        let denied = ReplayPolicy::default().deny(["s_*"]);
        assert_eq!(
            replay_action(Started, denied.replays("s_tool", Some(&safe))),
            ReportUnknown
        );
        assert_eq!(ReplayPolicy::default().mode, Replay::Safe);
    }
}
