//! Log lines at the default verbosity: `warning: MESSAGE (field=value)`,
//! like the CLI's own `error:` lines, without the timestamp, level column
//! and module path of `tracing`'s default format (which `-v` and up keep,
//! for the detail).

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use super::style::{paint, Paint};

/// The plain format: a label, the message, the other fields after it.
pub(super) struct Plain {
    /// Colour the label (stderr is a terminal and `NO_COLOR` is unset).
    pub(super) colour: bool,
}

#[derive(Default)]
struct Fields {
    message: String,
    rest: Vec<String>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = value.to_owned();
        } else {
            self.rest.push(format!("{}={value}", field.name()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.message = format!("{value:?}");
        } else {
            self.rest.push(format!("{}={value:?}", field.name()));
        }
    }
}

impl<S, N> FormatEvent<S, N> for Plain
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        _ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let (label, colour) = match *event.metadata().level() {
            Level::ERROR => ("error", Paint::Red),
            Level::WARN => ("warning", Paint::Yellow),
            Level::INFO => ("info", Paint::Dim),
            _ => ("debug", Paint::Dim),
        };
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut line = fields.message;
        if !fields.rest.is_empty() {
            let _ = write!(line, " ({})", fields.rest.join(", "));
        }
        writeln!(
            writer,
            "{}: {}",
            paint(label, colour, self.colour),
            super::output::terminal_safe(&line)
        )
    }
}
