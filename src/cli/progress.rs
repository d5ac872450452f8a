//! A progress bar on stderr, redrawn in place, for a call whose server
//! sends `notifications/progress` (drawn only when
//! [`super::style::live`]; a small implementation of what `indicatif`
//! does, without its dependencies).

use std::io::Write;
use std::sync::Mutex;

use super::style::{paint, stderr_colour, Paint};

/// How many cells the bar has.
const WIDTH: usize = 20;
/// The longest line drawn, in characters: redrawing in place only works
/// while the line does not wrap, and 80 columns is the narrowest terminal
/// commonly met.
const LINE: usize = 79;
/// The longest label (tool name) shown.
const LABEL: usize = 24;

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
        let line = render(&self.label, self.colour, progress, total, message);
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

/// The bar's line: at most [`LINE`] characters shown (colour codes aside).
fn render(
    label: &str,
    colour: bool,
    progress: f64,
    total: Option<f64>,
    message: Option<&str>,
) -> String {
    let label: String = label.chars().take(LABEL).collect();
    // Built plain first, to count what the terminal shows.
    let (bar, counts) = match total.filter(|t| *t > 0.0 && t.is_finite()) {
        Some(total) => {
            let done = (progress / total).clamp(0.0, 1.0);
            let filled = (done * WIDTH as f64).round() as usize;
            let bar = format!("{}{}", "█".repeat(filled), "░".repeat(WIDTH - filled));
            let counts = format!(
                "{}/{} {:>3.0}%",
                number(progress),
                number(total),
                done * 100.0
            );
            (Some(bar), counts)
        }
        None => (None, number(progress)),
    };
    let used =
        label.chars().count() + 1 + bar.as_ref().map_or(0, |_| WIDTH + 1) + counts.chars().count();
    let room = LINE.saturating_sub(used + 1);
    let message = message
        .map(|m| super::output::first_line(Some(m)))
        .filter(|m| !m.is_empty() && room > 0)
        .map(|m| m.chars().take(room).collect::<String>());
    let mut line = format!("{label} ");
    if let Some(bar) = &bar {
        line.push_str(&paint(bar, Paint::Green, colour));
        line.push(' ');
    }
    line.push_str(&counts);
    if let Some(message) = message {
        line.push(' ');
        line.push_str(&paint(
            &super::output::terminal_safe(&message),
            Paint::Dim,
            colour,
        ));
    }
    line
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

#[cfg(test)]
mod tests {
    use super::{render, LINE};

    #[test]
    fn a_bar_fits_an_80_column_terminal_whatever_the_name_and_message() {
        let long = "a-tool-with-a-name-much-longer-than-any-label-should-be";
        let line = render(long, false, 3.0, Some(4.0), Some(&"step ".repeat(40)));
        assert!(line.chars().count() <= LINE, "{line}");
        assert!(line.contains("3/4  75%") && line.contains("step"), "{line}");
        let line = render("t", false, 7.0, None, Some("no total\nsecond line"));
        assert_eq!(line, "t 7 no total");
    }
}
