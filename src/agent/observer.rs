//! Watching a run as it goes (the CLI's live view).

use super::transcript::{Step, ToolCallRecord, Transcript};

/// Hears a run's progress. All methods have empty defaults; they run on
/// the agent's task and must be quick.
pub trait RunObserver: Send + Sync {
    /// A model turn begins.
    fn step_started(&self, index: u32, tools_offered: usize) {
        let _ = (index, tools_offered);
    }
    /// A piece of the model's text.
    fn text(&self, delta: &str) {
        let _ = delta;
    }
    /// A tool call begins.
    fn tool_started(&self, id: &str, name: &str) {
        let _ = (id, name);
    }
    /// A tool call ended.
    fn tool_finished(&self, call: &ToolCallRecord) {
        let _ = call;
    }
    /// A step ended.
    fn step_finished(&self, step: &Step) {
        let _ = step;
    }
    /// The run ended.
    fn finished(&self, transcript: &Transcript) {
        let _ = transcript;
    }
}

/// An observer that hears nothing.
pub struct Quiet;

impl RunObserver for Quiet {}
