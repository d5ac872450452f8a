//! The live view of an agent run on stderr: a status line redrawn in place
//! on a terminal, plain lines otherwise. The model's text goes to stdout
//! as it streams (unless `--json`).

use super::shutdown::{flush_stdout, out, outln};
use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::Instant;

use crate::agent::{RunObserver, Step, ToolCallRecord, Transcript};

const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// Prints a run's progress.
pub(super) struct LiveView {
    terminal: bool,
    /// Print the model's text to stdout as it comes.
    echo_text: bool,
    state: Mutex<State>,
}

struct State {
    started: Instant,
    step: u32,
    running: Vec<String>,
    frame: usize,
    /// Whether the last thing on stdout was streamed text without a
    /// newline yet.
    mid_text: bool,
}

impl LiveView {
    pub(super) fn new(echo_text: bool) -> Self {
        LiveView {
            terminal: std::io::stderr().is_terminal(),
            echo_text,
            state: Mutex::new(State {
                started: Instant::now(),
                step: 0,
                running: Vec::new(),
                frame: 0,
                mid_text: false,
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Redraws the status line (terminal) or prints `line` (otherwise).
    fn status(&self, s: &mut State, line: &str) {
        let mut err = std::io::stderr().lock();
        if self.terminal {
            s.frame = (s.frame + 1) % SPINNER.len();
            let running = if s.running.is_empty() {
                String::new()
            } else {
                format!(" [{}]", s.running.join(", "))
            };
            let _ = write!(
                err,
                "\r\x1b[2K{} {:>5.1}s step {} {line}{running}",
                SPINNER[s.frame],
                s.started.elapsed().as_secs_f64(),
                s.step
            );
        } else {
            let _ = writeln!(err, "[{:>6.1}s] {line}", s.started.elapsed().as_secs_f64());
        }
        let _ = err.flush();
    }

    fn clear(&self) {
        if self.terminal {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

impl RunObserver for LiveView {
    fn step_started(&self, index: u32, tools_offered: usize) {
        let mut s = self.state();
        s.step = index;
        self.status(
            &mut s,
            &format!("asking the model ({tools_offered} tools offered)"),
        );
    }

    fn text(&self, delta: &str) {
        if !self.echo_text {
            return;
        }
        self.clear();
        out!("{delta}");
        flush_stdout();
        self.state().mid_text = !delta.ends_with('\n');
    }

    fn tool_started(&self, _id: &str, name: &str) {
        let mut s = self.state();
        if s.mid_text {
            outln!();
            s.mid_text = false;
        }
        s.running.push(name.to_owned());
        self.status(&mut s, &format!("calling {name}"));
    }

    fn tool_finished(&self, call: &ToolCallRecord) {
        let mut s = self.state();
        if let Some(i) = s.running.iter().position(|n| n == &call.name) {
            s.running.remove(i);
        }
        let first = call.output.lines().next().unwrap_or("");
        let first: String = first.chars().take(100).collect();
        let mark = if call.is_error { "✗" } else { "✓" };
        self.clear();
        let _ = writeln!(
            std::io::stderr(),
            "  {mark} {} ({} ms): {first}",
            call.name,
            call.ms
        );
    }

    fn step_finished(&self, step: &Step) {
        let mut s = self.state();
        if s.mid_text {
            outln!();
            s.mid_text = false;
        }
        let line = format!(
            "step {} done: {} tool calls, model {} ms, tools {} ms, {} tokens",
            step.index,
            step.tool_calls.len(),
            step.model_ms,
            step.tools_ms,
            step.tokens.total
        );
        self.status(&mut s, &line);
        if self.terminal {
            let _ = writeln!(std::io::stderr());
        }
    }

    fn finished(&self, t: &Transcript) {
        self.clear();
        let _ = writeln!(
            std::io::stderr(),
            "{}: {} in {:.1}s, {} steps, {} tool calls, {} tokens",
            t.agent,
            t.stop,
            t.ms as f64 / 1000.0,
            t.steps.len(),
            t.tool_calls().count(),
            t.tokens.total
        );
    }
}
