//! What a terminal gets beyond plain text: colour on stderr (unless
//! `NO_COLOR` is set), and live feedback (progress bars, the bench line,
//! a fleet's connect lines) only when both stdout and stderr are
//! terminals and `--json` is off. Piped, the output stays plain.

use std::borrow::Cow;
use std::io::IsTerminal;

use super::args::Global;

/// A colour for a label or a mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Paint {
    /// Errors and failures.
    Red,
    /// Success marks.
    Green,
    /// Warnings.
    Yellow,
    /// Notes and secondary text.
    Dim,
}

impl Paint {
    const fn code(self) -> &'static str {
        match self {
            Paint::Red => "31",
            Paint::Green => "32",
            Paint::Yellow => "33",
            Paint::Dim => "2",
        }
    }
}

/// Whether `NO_COLOR` (any non-empty value, as no-color.org says) asks
/// for no colour.
fn no_color() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Whether stderr gets colour: a terminal, and no `NO_COLOR`.
pub(super) fn stderr_colour() -> bool {
    std::io::stderr().is_terminal() && !no_color()
}

/// Whether stdout gets colour: a terminal, no `NO_COLOR`, no `--json`.
pub(super) fn stdout_colour(global: &Global) -> bool {
    !global.json && std::io::stdout().is_terminal() && !no_color()
}

/// `text` in `paint` when `on`, else as it is.
pub(super) fn paint(text: &str, paint: Paint, on: bool) -> Cow<'_, str> {
    if on {
        Cow::Owned(format!("\x1b[{}m{text}\x1b[0m", paint.code()))
    } else {
        Cow::Borrowed(text)
    }
}

/// Whether live feedback is drawn: stdout and stderr are terminals and
/// `--json` is off.
pub(super) fn live(global: &Global) -> bool {
    !global.json && std::io::stdout().is_terminal() && std::io::stderr().is_terminal()
}

/// Prints `label: message` on stderr, the label coloured on a terminal.
pub(super) fn report(label: &str, paint_as: Paint, message: &str) {
    let on = stderr_colour();
    eprintln!(
        "{}: {}",
        paint(label, paint_as, on),
        super::output::terminal_safe(message)
    );
}
