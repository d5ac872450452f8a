//! The tool-call replay policy on redelivery (the design's §3.6): a pure
//! table, so every case is tested.

/// The operator's setting (`[tools] replay` in the design; default `Safe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplaySetting {
    /// Never call again a tool whose earlier call's outcome was lost.
    Never,
    /// Call again only tools declared `readOnlyHint` or `idempotentHint`.
    #[default]
    Safe,
    /// Call any tool again (at-least-once for everything).
    Always,
}

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

/// A tool's class, from its annotations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolClass {
    /// `readOnlyHint` or `idempotentHint` is true.
    Safe,
    /// Anything else (destructive, open-world, or no annotations).
    SideEffecting,
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

/// The table of §3.6.
pub fn replay_action(
    state: JournalState,
    class: ToolClass,
    setting: ReplaySetting,
) -> ReplayAction {
    match (state, class, setting) {
        (JournalState::Done, _, _) => ReplayAction::Reuse,
        (JournalState::Absent, _, _) => ReplayAction::Call,
        (JournalState::Started, _, ReplaySetting::Always) => ReplayAction::Call,
        (JournalState::Started, ToolClass::Safe, ReplaySetting::Safe) => ReplayAction::Call,
        (JournalState::Started, _, _) => ReplayAction::ReportUnknown,
    }
}

/// What the model reads for a call whose outcome was lost.
pub const OUTCOME_UNKNOWN: &str = "Error: outcome unknown: the worker running this call was lost; it was not repeated. Check before retrying.";

#[cfg(test)]
mod tests {
    use super::*;
    use JournalState::*;
    use ReplayAction::*;
    use ReplaySetting::*;
    use ToolClass::SideEffecting;

    #[test]
    fn the_replay_table_has_every_case_of_the_design() {
        // (journal state, class, setting) -> action: 3 x 2 x 3 cases.
        let cases = [
            (Done, ToolClass::Safe, Never, Reuse),
            (Done, ToolClass::Safe, ReplaySetting::Safe, Reuse),
            (Done, ToolClass::Safe, Always, Reuse),
            (Done, SideEffecting, Never, Reuse),
            (Done, SideEffecting, ReplaySetting::Safe, Reuse),
            (Done, SideEffecting, Always, Reuse),
            (Absent, ToolClass::Safe, Never, Call),
            (Absent, ToolClass::Safe, ReplaySetting::Safe, Call),
            (Absent, ToolClass::Safe, Always, Call),
            (Absent, SideEffecting, Never, Call),
            (Absent, SideEffecting, ReplaySetting::Safe, Call),
            (Absent, SideEffecting, Always, Call),
            (Started, ToolClass::Safe, Never, ReportUnknown),
            (Started, ToolClass::Safe, ReplaySetting::Safe, Call),
            (Started, ToolClass::Safe, Always, Call),
            (Started, SideEffecting, Never, ReportUnknown),
            (Started, SideEffecting, ReplaySetting::Safe, ReportUnknown),
            (Started, SideEffecting, Always, Call),
        ];
        for (state, class, setting, want) in cases {
            assert_eq!(
                replay_action(state, class, setting),
                want,
                "{state:?} {class:?} {setting:?}"
            );
        }
        assert_eq!(ReplaySetting::default(), ReplaySetting::Safe);
    }
}
