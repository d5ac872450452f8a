//! A progress bar on stderr, redrawn in place, for a call whose server
//! sends `notifications/progress` (drawn only when
//! [`super::style::live`]; a small implementation of what `indicatif`
//! does, without its dependencies).

use std::io::Write;
use std::sync::Mutex;

use super::style::{paint, stderr_colour, Paint};

/// How many cells the bar has.
const WIDTH: usize = 30;
/// The longest message shown beside the bar, in characters.
const MESSAGE: usize = 60;

/// One call's bar. Nothing is drawn until the first update.
pub(super) struct Bar {
    label: String,
    colour: bool,
    drawn: Mutex<bool>,
}

impl Bar {
    /// A bar for `label` (the tool's name).
    pub(super) fn new(label: &str) -> Bar {
        Bar {
            label: label.to_owned(),
            colour: stderr_colour(),
            drawn: Mutex::new(false),
        }
    }

    /// Redraws the bar: `progress` of `total` (a count without a bar when
    /// the total is unknown), and the server's message.
    pub(super) fn update(&self, progress: f64, total: Option<f64>, message: Option<&str>) {
        let mut line = format!("{} ", self.label);
        match total.filter(|t| *t > 0.0 && t.is_finite()) {
            Some(total) => {
                let done = (progress / total).clamp(0.0, 1.0);
                let filled = (done * WIDTH as f64).round() as usize;
                let bar = format!("{}{}", "█".repeat(filled), "░".repeat(WIDTH - filled));
                line.push_str(&format!(
                    "{} {}/{} {:>3.0}%",
                    paint(&bar, Paint::Green, self.colour),
                    number(progress),
                    number(total),
                    done * 100.0
                ));
            }
            None => line.push_str(&number(progress)),
        }
        if let Some(message) = message.filter(|m| !m.is_empty()) {
            let first = super::output::first_line(Some(message));
            let short: String = first.chars().take(MESSAGE).collect();
            line.push_str(&format!(
                " {}",
                paint(
                    &super::output::terminal_safe(&short),
                    Paint::Dim,
                    self.colour
                )
            ));
        }
        let mut drawn = self.drawn.lock().unwrap_or_else(|p| p.into_inner());
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{line}");
        let _ = err.flush();
        *drawn = true;
    }

    /// Clears the bar's line, if one was drawn.
    pub(super) fn finish(&self) {
        let drawn = self.drawn.lock().unwrap_or_else(|p| p.into_inner());
        if *drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

/// A progress value: whole numbers without decimals.
fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n:.1}")
    }
}

/// The options for a `call` of `tool`: with `live`, a progress callback
/// drawing the returned bar (which the caller clears when the call ends).
pub(super) fn call_options(
    live: bool,
    tool: &str,
) -> (crate::CallOptions, Option<std::sync::Arc<Bar>>) {
    if !live {
        return (crate::CallOptions::new(), None);
    }
    let bar = std::sync::Arc::new(Bar::new(tool));
    let drawing = bar.clone();
    let options = crate::CallOptions::new()
        .on_progress(move |p| drawing.update(p.progress, p.total, p.message.as_deref()));
    (options, Some(bar))
}
