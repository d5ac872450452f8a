//! The status page at `/`: each server's state, restarts, last error and
//! stderr tail, calls, errors and latency (p50/p99), polled once a second
//! from `/status.json` by a small page that reads well on a phone.

#[cfg(feature = "http-server")]
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
#[cfg(feature = "http-server")]
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::Gateway;

/// The page: static HTML, CSS and a script that renders `/status.json`.
#[cfg(feature = "http-server")]
const PAGE: &str = include_str!("status.html");

impl Gateway {
    /// What the status page shows, as JSON: per server (in config order)
    /// `name`, `state`, `restarts`, `last_error`, `stderr_tail`, `calls`,
    /// `errors`, `p50_ms`, `p99_ms`; and `in_flight`.
    pub fn status(&self) -> Value {
        let metrics = &self.inner.metrics;
        let servers: Vec<Value> = self
            .fleet()
            .health()
            .into_iter()
            .map(|h| {
                let calls = metrics.server_if_any(&h.name);
                let (n, errors) = calls.as_ref().map_or((0, 0), |c| c.counts());
                let ms = |q: f64| {
                    calls
                        .as_ref()
                        .and_then(|c| c.quantile(q))
                        .map(|s| (s * 1e4).round() / 10.0)
                };
                json!({
                    "name": h.name,
                    "state": h.state.as_str(),
                    "restarts": h.restarts,
                    "last_error": h.last_error,
                    "stderr_tail": h.stderr_tail,
                    "calls": n,
                    "errors": errors,
                    "p50_ms": ms(0.5),
                    "p99_ms": ms(0.99),
                })
            })
            .collect();
        json!({"servers": servers, "in_flight": metrics.in_flight()})
    }
}

#[cfg(feature = "http-server")]
pub(super) fn page() -> Response {
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CACHE_CONTROL, "no-store"),
        ],
        PAGE,
    )
        .into_response()
}

#[cfg(feature = "http-server")]
pub(super) fn status_json(gateway: &Gateway) -> Response {
    (
        [
            (CONTENT_TYPE, "application/json"),
            (CACHE_CONTROL, "no-store"),
        ],
        gateway.status().to_string(),
    )
        .into_response()
}
