//! Operations endpoints beside `/mcp`: `/healthz` (the process answers),
//! `/readyz` (at least [`Gateway::ready_min`] servers are ready, by
//! default one: 200, else 503), each with a
//! JSON body a person or a probe can read, `/metrics` (Prometheus text
//! format), and the status page: `/` and the `/status.json` it polls.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;

use super::Gateway;
use crate::fleet::ServerState;

impl Gateway {
    /// The operations routes: `/healthz`, `/readyz`, `/metrics`, and the
    /// status page (`/`, `/status.json`), which shows servers' errors and
    /// stderr, guarded as `options` guard the MCP endpoint (hosts and
    /// auth). Merge them into the MCP router
    /// ([`Server::http_router`](crate::server::Server::http_router)).
    pub fn ops_router(&self, options: &crate::server::http::HttpOptions) -> Router {
        let ready = self.clone();
        let metrics = self.clone();
        let status = self.clone();
        let page = Router::new()
            .route("/", get(|| async { super::status::page() }))
            .route(
                "/status.json",
                get(move || {
                    let gateway = status.clone();
                    async move { super::status::status_json(&gateway) }
                }),
            );
        options
            .guard(page)
            .route(
                "/metrics",
                get(move || {
                    let gateway = metrics.clone();
                    async move {
                        (
                            [(
                                axum::http::header::CONTENT_TYPE,
                                "text/plain; version=0.0.4; charset=utf-8",
                            )],
                            gateway.metrics_text(),
                        )
                            .into_response()
                    }
                }),
            )
            .route(
                "/healthz",
                get(|| async { json_response(StatusCode::OK, json!({"status": "ok"})) }),
            )
            .route(
                "/readyz",
                get(move || {
                    let gateway = ready.clone();
                    async move { readiness(&gateway) }
                }),
            )
    }
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn readiness(gateway: &Gateway) -> Response {
    let health = gateway.fleet().health();
    let ready = health
        .iter()
        .filter(|h| h.state == ServerState::Ready)
        .count();
    let servers: serde_json::Map<String, serde_json::Value> = health
        .iter()
        .map(|h| (h.name.clone(), json!(h.state.as_str())))
        .collect();
    let status = if ready >= gateway.inner.ready_min.min(health.len()).max(1) {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let needed = gateway.inner.ready_min;
    json_response(
        status,
        json!({"ready": ready, "needed": needed, "servers": servers}),
    )
}
