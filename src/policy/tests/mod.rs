//! Unit tests of the policy's pure parts.

mod config;
mod defaults;
mod engine;
mod limits;
mod url;

use serde_json::{json, Value};

use crate::protocol::{ElicitRequestParams, ElicitationSchema};

/// A form schema from JSON.
pub(super) fn schema(v: Value) -> ElicitationSchema {
    serde_json::from_value(v).expect("a schema")
}

/// A form request from a message and schema JSON.
pub(super) fn form(message: &str, schema: Value) -> ElicitRequestParams {
    serde_json::from_value(json!({"message": message, "requestedSchema": schema}))
        .expect("a form request")
}

/// A URL request.
pub(super) fn url(message: &str, url: &str) -> ElicitRequestParams {
    serde_json::from_value(json!({"mode": "url", "message": message, "url": url}))
        .expect("a url request")
}
