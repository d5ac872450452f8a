//! The command's `tracing` subscriber: log lines on stderr (filtered by
//! `-v` and `SWITCHBOARD_LOG`) and, with the `otel` feature, spans exported
//! over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set.

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

use super::{log_format, style};

/// What must outlive the command: the span exporter, flushed at exit.
pub(crate) struct Telemetry {
    #[cfg(feature = "otel")]
    exporter: Option<crate::trace::otel::Exporter>,
}

impl Telemetry {
    /// A span for the whole command, when spans are exported: requests the
    /// command sends are its children. None for the long-running
    /// `gateway` and `worker`, whose requests are traces of their own.
    pub(crate) fn command_span(&self, name: &str) -> tracing::Span {
        #[cfg(feature = "otel")]
        if self.exporter.is_some() && !matches!(name, "gateway" | "worker") {
            return tracing::info_span!("switchboard", otel.name = name, otel.kind = "client");
        }
        let _ = name;
        tracing::Span::none()
    }

    /// Sends the spans still queued (a no-op without export).
    pub(crate) fn finish(self) {
        #[cfg(feature = "otel")]
        if let Some(exporter) = self.exporter {
            if let Err(e) = exporter.shutdown() {
                tracing::warn!("{e}");
            }
        }
    }
}

/// Installs the subscriber for verbosity `verbose`.
pub(crate) fn init(verbose: u8) -> Telemetry {
    // Servers' own log messages are shown from -v on.
    let default = match verbose {
        0 => "warn,switchboard::server_log=off",
        // -v: the servers' log messages and their stderr lines.
        1 => "info,switchboard::server_stderr=debug",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SWITCHBOARD_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let colour = style::stderr_colour();
    let lines = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(colour);
    // The default: `warning: ...` lines; -v and up: timestamps, levels
    // and module paths, for the detail.
    let lines = if verbose == 0 {
        lines.event_format(log_format::Plain { colour }).boxed()
    } else {
        lines.boxed()
    };
    let registry = tracing_subscriber::registry().with(lines.with_filter(filter));
    #[cfg(feature = "otel")]
    {
        let exporter = otel_exporter();
        let spans = exporter.as_ref().map(|e| {
            e.layer()
                .with_filter(tracing_subscriber::filter::LevelFilter::INFO)
        });
        let _ = registry.with(spans).try_init();
        Telemetry { exporter }
    }
    #[cfg(not(feature = "otel"))]
    {
        let _ = registry.try_init();
        Telemetry {}
    }
}

/// The exporter the standard environment asks for, if it asks.
#[cfg(feature = "otel")]
fn otel_exporter() -> Option<crate::trace::otel::Exporter> {
    let set = |var| std::env::var_os(var).is_some_and(|v| !v.is_empty());
    if !set("OTEL_EXPORTER_OTLP_ENDPOINT") && !set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") {
        return None;
    }
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "switchboard".into());
    match crate::trace::otel::Exporter::from_env(&service) {
        Ok(exporter) => Some(exporter),
        Err(e) => {
            eprintln!("warning: spans are not exported: {e}");
            None
        }
    }
}
