//! Answering what the server asks, in both eras, through the same handlers:
//! server-sent JSON-RPC requests (handshake era) and the `inputRequests` of
//! input-required rounds (2026-07-28).

use std::sync::Arc;

use bytes::Bytes;
use serde_json::value::RawValue;
use serde_json::{json, Value};

use super::handlers::{HandlerError, Handlers, RequestContext};
use super::{lock, Shared};
use crate::protocol::jsonrpc::{encode_error, encode_result};
use crate::protocol::{
    codes, ClientCapabilities, ElicitRequestParams, Era, ErrorObject, InputRequest,
};

/// The capabilities our handlers let us declare, and the extensions we
/// implement (the skills extension, SEP-2640).
pub(crate) fn client_capabilities(handlers: &Handlers, era: Era) -> ClientCapabilities {
    let mut caps = serde_json::Map::new();
    if handlers.roots.is_some() {
        caps.insert(
            "roots".into(),
            match era {
                Era::Handshake => json!({"listChanged": true}),
                Era::Modern => json!({}),
            },
        );
    }
    if let Some(s) = &handlers.sampling {
        caps.insert(
            "sampling".into(),
            if s.supports_tools() {
                json!({"tools": {}})
            } else {
                json!({})
            },
        );
    }
    if let Some(e) = &handlers.elicitation {
        caps.insert(
            "elicitation".into(),
            if e.supports_url() {
                json!({"form": {}, "url": {}})
            } else {
                json!({"form": {}})
            },
        );
    }
    // Extensions this client implements whatever the handlers: a server
    // that holds to SEP-2133 serves an extension's methods only to clients
    // that declare it. `extensions` is a 2026-07-28 field; earlier servers
    // ignore it, and those that know the extensions read it there too.
    // The tasks extension too: a tool the server runs as a task is polled
    // to its end by `call_tool` (see `client/task.rs`).
    caps.insert(
        "extensions".into(),
        json!({
            crate::protocol::SKILLS_EXTENSION: {},
            crate::protocol::TASKS_EXTENSION: {},
        }),
    );
    serde_json::from_value(Value::Object(caps)).unwrap_or_default()
}

/// Answers one server request (`sampling/createMessage`,
/// `elicitation/create`, `roots/list`, `ping`) with the result as JSON;
/// another method is `METHOD_NOT_FOUND`.
pub(crate) async fn answer(
    handlers: &Handlers,
    ctx: RequestContext,
    method: &str,
    params: Value,
) -> Result<Value, HandlerError> {
    let invalid = |e: serde_json::Error| HandlerError::invalid_params(format!("{method}: {e}"));
    let ask = match method {
        "ping" => return Ok(json!({})),
        "sampling/createMessage" => {
            InputRequest::CreateMessage(serde_json::from_value(params).map_err(invalid)?)
        }
        "elicitation/create" => {
            InputRequest::Elicit(serde_json::from_value(params).map_err(invalid)?)
        }
        "roots/list" => InputRequest::ListRoots(serde_json::from_value(params).ok()),
        other => {
            return Err(HandlerError {
                code: codes::METHOD_NOT_FOUND,
                message: format!("method not found: {other}"),
            })
        }
    };
    answer_input(handlers, ctx, ask).await
}

/// Answers one typed ask, from a server request (handshake era) or the
/// `inputRequests` of an input-required result (2026-07-28), through the
/// handler for it; a handler we do not have was never declared, so the
/// ask is `METHOD_NOT_FOUND`.
pub(crate) async fn answer_input(
    handlers: &Handlers,
    ctx: RequestContext,
    ask: InputRequest,
) -> Result<Value, HandlerError> {
    let not_declared = |what: &str| HandlerError {
        code: codes::METHOD_NOT_FOUND,
        message: format!("this client does not support {what}"),
    };
    let to_value =
        |v: Result<Value, serde_json::Error>| v.map_err(|e| HandlerError::internal(e.to_string()));
    match ask {
        InputRequest::CreateMessage(params) => {
            let handler = handlers
                .sampling
                .as_ref()
                .ok_or_else(|| not_declared("sampling"))?;
            if !handler.supports_tools() && params.tools.as_ref().is_some_and(|t| !t.is_empty()) {
                return Err(HandlerError::invalid_params(
                    "sampling with tools was requested but this client did not declare sampling.tools",
                ));
            }
            to_value(serde_json::to_value(
                handler.create_message(params, ctx).await?,
            ))
        }
        InputRequest::Elicit(params) => {
            let handler = handlers
                .elicitation
                .as_ref()
                .ok_or_else(|| not_declared("elicitation"))?;
            if matches!(params, ElicitRequestParams::Url(_)) && !handler.supports_url() {
                return Err(HandlerError::invalid_params(
                    "URL-mode elicitation was requested but this client did not declare it",
                ));
            }
            to_value(serde_json::to_value(handler.elicit(params, ctx).await?))
        }
        InputRequest::ListRoots(_) => {
            let handler = handlers
                .roots
                .as_ref()
                .ok_or_else(|| not_declared("roots"))?;
            let roots = handler.list_roots(ctx).await?;
            Ok(json!({ "roots": roots }))
        }
    }
}

/// Answers a handshake-era server request on a task of its own, within the
/// session's bound on requests in flight (see `ask_limit.rs`: beyond it a
/// request is shed, unanswered).
pub(crate) fn spawn_server_request(
    shared: Arc<Shared>,
    id: Box<RawValue>,
    method: String,
    params: Option<Bytes>,
) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::error!("no tokio runtime to answer a server request on");
        return;
    };
    let Some(slot) = shared.asks.acquire(&shared.name, &method) else {
        return;
    };
    let key = id.get().to_owned();
    let task_shared = shared.clone();
    let task_key = key.clone();
    // Hold the map while spawning so the task cannot finish (and remove
    // itself) before it is registered.
    let mut tasks = lock(&shared.server_requests);
    let task = runtime.spawn(async move {
        let shared = task_shared;
        let params = match params.map(|p| serde_json::from_slice::<Value>(&p)) {
            None => Ok(Value::Object(Default::default())),
            Some(Ok(v)) => Ok(v),
            Some(Err(e)) => Err(HandlerError::invalid_params(format!("params are not JSON: {e}"))),
        };
        let ctx = RequestContext {
            server: shared.name.clone(),
            era: Era::Handshake,
        };
        tracing::debug!(server = %shared.name, %method, "server request");
        let outcome = match params {
            Ok(params) => answer(&shared.handlers, ctx, &method, params).await,
            Err(e) => Err(e),
        };
        let frame = match outcome {
            Ok(result) => encode_result(&id, &result),
            Err(e) => {
                tracing::debug!(server = %shared.name, %method, error = %e, "refusing server request");
                encode_error(&id, &ErrorObject::from(e))
            }
        };
        lock(&shared.server_requests).remove(&task_key);
        if let (Ok(frame), Some(out)) = (frame, shared.outbound.get()) {
            let version = shared.negotiated.get().map(|n| n.state.version);
            let _ = out.send(super::frames::response(out, frame, version)).await;
        }
        drop(slot);
    });
    tasks.insert(key, task.abort_handle());
}
