//! OpenTelemetry (feature `otel`): `tracing` spans become OTel spans,
//! exported over OTLP/HTTP with protobuf bodies, and trace context goes
//! both ways through `_meta`.
//!
//! - Out: [`super::current`] reads the current `tracing` span's OTel
//!   context first, so a request sent inside any span of yours carries
//!   that span as its parent.
//! - In: the server core runs each request's handler in a span
//!   `mcp.server` (OTel kind server, named after the method) whose parent
//!   is the request's `traceparent`; what the handler sends on is that
//!   span's child.
//!
//! Nothing is exported until a [`Exporter`]'s [`Exporter::layer`] is part of
//! the program's `tracing` subscriber:
//!
//! ```no_run
//! use tracing_subscriber::prelude::*;
//! # fn main() -> Result<(), switchboard::trace::otel::OtelError> {
//! let exporter = switchboard::trace::otel::Exporter::from_env("my-agent")?;
//! tracing_subscriber::registry().with(exporter.layer()).init();
//! // ... run; at exit, flush what is queued:
//! exporter.shutdown()?;
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState, TracerProvider as _,
};
use opentelemetry::Context;
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;
use tracing_opentelemetry::{OpenTelemetryLayer, OpenTelemetrySpanExt};
use tracing_subscriber::registry::LookupSpan;

use super::TraceContext;

/// How long one export may take (connect included). Default of the OTLP
/// exporter specification.
pub const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// An exporter could not be built (a bad endpoint, no HTTP client) or
/// could not flush at shutdown.
#[derive(Debug, thiserror::Error)]
#[error("OpenTelemetry export: {0}")]
pub struct OtelError(String);

/// Spans exported over OTLP/HTTP (protobuf) in batches, as the SDK's batch
/// processor sends them (at most every 5 s or 512 spans, on a thread of
/// its own). Dropping it flushes what is queued.
#[derive(Debug)]
pub struct Exporter {
    provider: SdkTracerProvider,
}

impl Exporter {
    /// Exports to where the standard environment says:
    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as given, else
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, else
    /// `http://localhost:4318/v1/traces`; headers from
    /// `OTEL_EXPORTER_OTLP_HEADERS`. Spans name `service` as
    /// `service.name`.
    pub fn from_env(service: &str) -> Result<Exporter, OtelError> {
        Exporter::build(service, None)
    }

    /// Exports to `traces_url` (the full URL, `.../v1/traces`).
    pub fn to_url(service: &str, traces_url: &str) -> Result<Exporter, OtelError> {
        Exporter::build(service, Some(traces_url))
    }

    fn build(service: &str, url: Option<&str>) -> Result<Exporter, OtelError> {
        let client = blocking_client()?;
        let mut builder = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(client)
            .with_protocol(Protocol::HttpBinary)
            .with_timeout(EXPORT_TIMEOUT);
        if let Some(url) = url {
            builder = builder.with_endpoint(url);
        }
        let exporter = builder.build().map_err(|e| OtelError(e.to_string()))?;
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(
                Resource::builder()
                    .with_service_name(service.to_owned())
                    .build(),
            )
            .build();
        Ok(Exporter { provider })
    }

    /// The `tracing` layer that records spans for this exporter.
    pub fn layer<S>(&self) -> OpenTelemetryLayer<S, SdkTracer>
    where
        S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    {
        tracing_opentelemetry::layer().with_tracer(self.provider.tracer("switchboard"))
    }

    /// Sends every span still queued and stops. Blocks until the batch
    /// thread is done (at most [`EXPORT_TIMEOUT`] per batch).
    pub fn shutdown(self) -> Result<(), OtelError> {
        self.provider
            .shutdown()
            .map_err(|e| OtelError(e.to_string()))
    }
}

/// The OTLP exporter's own client: a blocking reqwest client (the batch
/// processor exports from a plain thread, outside any tokio runtime) with
/// the crate's TLS provider and redirect policy. reqwest refuses to build
/// one on a runtime thread, so it is built on a thread of its own.
fn blocking_client() -> Result<reqwest::blocking::Client, OtelError> {
    let built = std::thread::spawn(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::blocking::Client::builder()
            .connect_timeout(EXPORT_TIMEOUT)
            .timeout(EXPORT_TIMEOUT)
            .redirect(crate::http_client::redirect_policy())
            .build()
    })
    .join()
    .map_err(|_| OtelError("the HTTP client's thread panicked".into()))?;
    built.map_err(|e| OtelError(e.to_string()))
}

/// The current `tracing` span's OTel context as a [`TraceContext`], when
/// it has a valid one (an OTel layer is installed and the span records).
pub(crate) fn current_span_context() -> Option<TraceContext> {
    let cx = tracing::Span::current().context();
    let span = cx.span();
    let sc = span.span_context();
    if !sc.is_valid() {
        return None;
    }
    let state = sc.trace_state().header();
    TraceContext::new(
        sc.trace_id().to_bytes(),
        sc.span_id().to_bytes(),
        sc.is_sampled(),
    )
    .map(|t| t.with_tracestate(Some(&state)))
}

/// The span a server request's handler runs in: OTel kind server, named
/// after `method`, the child of the request's context when it had one.
pub(crate) fn server_span(method: &str, parent: Option<&TraceContext>) -> tracing::Span {
    let span = tracing::info_span!(
        "mcp.server",
        otel.name = method,
        otel.kind = "server",
        mcp.method.name = method,
    );
    if let Some(parent) = parent {
        // Fails only when no OTel layer is installed: then nothing records.
        let _ = span.set_parent(remote(parent));
    }
    span
}

/// An OTel context whose current span is the remote `parent`.
fn remote(parent: &TraceContext) -> Context {
    let state = parent
        .tracestate()
        .and_then(|s| s.parse::<TraceState>().ok())
        .unwrap_or_default();
    let sc = SpanContext::new(
        TraceId::from_bytes(parent.trace_id()),
        SpanId::from_bytes(parent.parent_id()),
        TraceFlags::new(parent.flags()),
        true,
        state,
    );
    Context::new().with_remote_span_context(sc)
}
