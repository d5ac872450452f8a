//! The requests the core answers, for a request whose era has been decided
//! and checked (see `conn.rs`): the core's own (`initialize`,
//! `server/discover`, `ping`, `logging/setLevel`, subscriptions) and the
//! handler's, each decoded into its typed params, served only when the
//! handler's capabilities declare it, and encoded for its era.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use serde_json::{Map, Value};

use super::conn::{Conn, Handshake};
use super::context::Context;
use super::eras::{initialize_refused, negotiate, MODERN};
use super::error::{error, missing_capability, ServerError};
use super::outgoing::Route;
use super::request::RequestInfo;
use super::subscriptions::Listen;
use super::tasks::{self, ToolCall};
use super::wire::{decode, encode_error, encode_result, InputRequiredOut, WireResult};
use crate::protocol::request::{
    CallTool, CancelTask, Complete, GetPrompt, GetSkill, GetTask, Initialize, ListPrompts,
    ListResourceTemplates, ListResources, ListSkills, ListTools, Listen as ListenRequest,
    ReadResource, Request, SetLevel, Subscribe, SubscriptionsAcknowledged, UpdateTask,
};
use crate::protocol::version::meta as keys;
use crate::protocol::{
    codes, CallToolRequestParams, DiscoverResult, EmptyResult, Era, ErrorObject, InitializeResult,
    InputResponses, ResultType, ServerCapabilities, SubscriptionFilter,
    SubscriptionsAcknowledgedParams, TaskSupport, SKILLS_EXTENSION, TASKS_EXTENSION,
};

type Reply = Result<Bytes, ErrorObject>;

/// Answers one request: the reply frame, or `None` for no reply yet
/// (`subscriptions/listen`).
pub(crate) async fn handle(
    conn: &Arc<Conn>,
    req: &Arc<RequestInfo>,
    params: Option<Bytes>,
) -> Option<Bytes> {
    let handler = conn.shared.handler.clone();
    let caps = handler.capabilities();
    let params = params.as_deref();
    let modern = req.era == Era::Modern;
    let cx = || Context::new(conn.clone(), req.clone(), Map::new());
    let skills = caps.extension(SKILLS_EXTENSION).is_some();
    let tasks_on = caps.extension(TASKS_EXTENSION).is_some();
    macro_rules! serve {
        ($r:ty, |$p:ident| $call:expr) => {
            match decode::<<$r as Request>::Params>(<$r as Request>::METHOD, params) {
                Ok($p) => finish(conn, req, $call.await),
                Err(e) => Err(e),
            }
        };
    }
    let out: Reply = match req.method.as_str() {
        // 2026-07-28 removed `ping`; a stdio client probing the era may
        // still send one without `_meta`, which takes the handshake path.
        "ping" if !modern => encode(conn, req, EmptyResult::default()),
        "initialize" if !modern => initialize(conn, req, caps, params),
        "server/discover" if modern => discover(conn, req, caps),
        "subscriptions/listen" if modern => {
            return listen(conn, req, &caps, params)
                .err()
                .map(|e| encode_error(&req.raw_id, &e))
        }
        "logging/setLevel" if !modern && caps.has_logging() => {
            serve!(SetLevel, |p| async {
                conn.set_log_level(p.level);
                Ok(EmptyResult::default())
            })
        }
        "resources/subscribe" | "resources/unsubscribe"
            if !modern && caps.resources_subscribe() =>
        {
            let on = req.method == Subscribe::METHOD;
            serve!(Subscribe, |p| async {
                handler.subscribe(&p.uri, on).await?;
                conn.subscribe(&p.uri, on);
                Ok(EmptyResult::default())
            })
        }
        "tools/list" if caps.has_tools() => serve!(ListTools, |p| handler.list_tools(cx(), p)),
        "tools/call" if caps.has_tools() => {
            match decode::<<CallTool as Request>::Params>(CallTool::METHOD, params) {
                Ok(p) => call_tool(conn, req, &caps, p).await,
                Err(e) => Err(e),
            }
        }
        "tasks/get" | "tasks/update" | "tasks/cancel" if modern && tasks_on => {
            if !tasks::declared(&req.capabilities) {
                Err(tasks::extension_required(&req.method))
            } else {
                let store = &conn.shared.tasks;
                match req.method.as_str() {
                    "tasks/get" => serve!(GetTask, |p| async {
                        if store.knows(&p.task_id) {
                            tasks::get(store, &p.task_id)
                        } else {
                            handler.get_task(cx(), p).await
                        }
                    }),
                    "tasks/update" => serve!(UpdateTask, |p| async {
                        if store.knows(&p.task_id) {
                            tasks::update(store, &p.task_id, p.input_responses)
                        } else {
                            handler.update_task(cx(), p).await
                        }
                    }),
                    _ => serve!(CancelTask, |p| async {
                        if store.knows(&p.task_id) {
                            tasks::cancel(store, &p.task_id)
                        } else {
                            handler.cancel_task(cx(), p).await
                        }
                    }),
                }
            }
        }
        "resources/list" if caps.has_resources() => {
            serve!(ListResources, |p| handler.list_resources(cx(), p))
        }
        "resources/templates/list" if caps.has_resources() => {
            serve!(ListResourceTemplates, |p| handler
                .list_resource_templates(cx(), p))
        }
        "resources/read" if caps.has_resources() => {
            match decode::<<ReadResource as Request>::Params>(ReadResource::METHOD, params) {
                Ok(mut p) => {
                    let (state, responses) = (p.request_state.take(), p.input_responses.take());
                    let uri = p.uri.clone();
                    rounds(conn, req, &uri, state, responses, |cx| {
                        handler.read_resource(cx, p)
                    })
                    .await
                }
                Err(e) => Err(e),
            }
        }
        "prompts/list" if caps.has_prompts() => {
            serve!(ListPrompts, |p| handler.list_prompts(cx(), p))
        }
        "prompts/get" if caps.has_prompts() => {
            match decode::<<GetPrompt as Request>::Params>(GetPrompt::METHOD, params) {
                Ok(mut p) => {
                    let (state, responses) = (p.request_state.take(), p.input_responses.take());
                    let name = p.name.clone();
                    rounds(conn, req, &name, state, responses, |cx| {
                        handler.get_prompt(cx, p)
                    })
                    .await
                }
                Err(e) => Err(e),
            }
        }
        "completion/complete" if caps.has_completions() => {
            serve!(Complete, |p| handler.complete(cx(), p))
        }
        "skills/list" if skills => serve!(ListSkills, |p| handler.list_skills(cx(), p)),
        "skills/get" if skills => serve!(GetSkill, |p| handler.get_skill(cx(), p)),
        other => Err(error(
            codes::METHOD_NOT_FOUND,
            format!("method not found: {other}"),
        )),
    };
    Some(out.unwrap_or_else(|e| encode_error(&req.raw_id, &e)))
}

/// `tools/call`: a task where the tool and the request allow one (see
/// `tasks.rs`), else the handler's result; rounds either way.
async fn call_tool(
    conn: &Arc<Conn>,
    req: &Arc<RequestInfo>,
    caps: &ServerCapabilities,
    mut p: CallToolRequestParams,
) -> Reply {
    let handler = conn.shared.handler.clone();
    let (state, responses) = (p.request_state.take(), p.input_responses.take());
    let name = p.name.clone();
    let tasks_on = req.era == Era::Modern && caps.extension(TASKS_EXTENSION).is_some();
    let opted = tasks_on && tasks::declared(&req.capabilities);
    let support = if tasks_on {
        handler.task_support(&name)
    } else {
        TaskSupport::Forbidden
    };
    if support == TaskSupport::Required && !opted {
        return Err(tasks::extension_required(&format!("tool {name:?}")));
    }
    rounds(conn, req, &name, state, responses, |cx| async move {
        match (opted, support) {
            (true, TaskSupport::Optional | TaskSupport::Required) => {
                tasks::call(&conn.shared.tasks, conn, req, cx, p).await
            }
            (true, _) => handler.call_tool_or_task(cx, p).await,
            (false, _) => handler.call_tool(cx, p).await.map(ToolCall::Complete),
        }
    })
    .await
}

fn encode<R: WireResult>(conn: &Conn, req: &RequestInfo, result: R) -> Reply {
    let shared = &conn.shared;
    encode_result(
        &req.raw_id,
        result,
        req.era,
        shared.options.ttl_ms,
        &shared.identity,
    )
}

fn finish<R: WireResult>(conn: &Conn, req: &RequestInfo, outcome: Result<R, ServerError>) -> Reply {
    match outcome {
        Ok(result) => encode(conn, req, result),
        Err(e) => Err(e.to_error_object(req.era)),
    }
}

fn initialize(
    conn: &Conn,
    req: &RequestInfo,
    caps: ServerCapabilities,
    params: Option<&[u8]>,
) -> Reply {
    let p = decode::<<Initialize as Request>::Params>(Initialize::METHOD, params)?;
    if !conn.shared.options.eras.handshake() {
        return Err(initialize_refused(&p.protocol_version));
    }
    let version = negotiate(&p.protocol_version);
    conn.begin_handshake(Handshake {
        version,
        capabilities: Arc::new(p.capabilities),
        client_info: Some(Arc::new(p.client_info)),
    })?;
    let shared = &conn.shared;
    let result = InitializeResult {
        protocol_version: version.as_str().into(),
        capabilities: caps,
        server_info: shared.info.clone(),
        instructions: shared.handler.instructions(),
        ..Default::default()
    };
    encode(conn, req, result)
}

fn discover(conn: &Conn, req: &RequestInfo, caps: ServerCapabilities) -> Reply {
    let result = DiscoverResult {
        supported_versions: vec![MODERN.as_str().into()],
        capabilities: caps,
        instructions: conn.shared.handler.instructions(),
        ..Default::default()
    };
    encode(conn, req, result)
}

/// Agrees to what it can of a `subscriptions/listen`, acknowledges it and
/// keeps it; the request is answered only when the subscription ends.
fn listen(
    conn: &Conn,
    req: &RequestInfo,
    caps: &ServerCapabilities,
    params: Option<&[u8]>,
) -> Result<(), ErrorObject> {
    let p = decode::<<ListenRequest as Request>::Params>(ListenRequest::METHOD, params)?;
    let asked = &p.notifications;
    let flag = |asked: Option<bool>, offered: bool| asked == Some(true) && offered;
    let uris: Vec<String> = if caps.resources_subscribe() {
        // Only what it can serve: a URI it does not know is left out of
        // the acknowledgement (the agreed subset).
        let handler = &conn.shared.handler;
        asked
            .resource_subscriptions
            .iter()
            .flatten()
            .filter(|uri| handler.subscribable(uri))
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let listen = Listen {
        id: req.id.clone(),
        raw_id: req.raw_id.clone(),
        tools: flag(asked.tools_list_changed, caps.tools_list_changed()),
        prompts: flag(asked.prompts_list_changed, caps.prompts_list_changed()),
        resources: flag(asked.resources_list_changed, caps.resources_list_changed()),
        uris,
    };
    let on = |b: bool| b.then_some(true);
    let agreed = SubscriptionsAcknowledgedParams {
        notifications: SubscriptionFilter {
            tools_list_changed: on(listen.tools),
            prompts_list_changed: on(listen.prompts),
            resources_list_changed: on(listen.resources),
            resource_subscriptions: (!listen.uris.is_empty()).then(|| listen.uris.clone()),
            extra: Map::new(),
        },
        meta: Some(Map::from_iter([(
            keys::SUBSCRIPTION_ID.to_owned(),
            serde_json::to_value(&req.id).unwrap_or(Value::Null),
        )])),
        extra: Map::new(),
    };
    conn.add_listen(listen);
    conn.notify::<SubscriptionsAcknowledged>(Some(&agreed), Route::During(req.id.clone()));
    Ok(())
}

/// Runs a handler that may ask the client (`tools/call`, `resources/read`,
/// `prompts/get`). In 2026-07-28 it runs with the answers gathered so far
/// (`requestState` and `inputResponses`); if it asked something still
/// unanswered, the reply is `input_required` with those asks and a new
/// `requestState`, whatever the handler returned.
async fn rounds<R, F, Fut>(
    conn: &Arc<Conn>,
    req: &Arc<RequestInfo>,
    target: &str,
    request_state: Option<String>,
    responses: Option<InputResponses>,
    run: F,
) -> Reply
where
    R: WireResult,
    F: FnOnce(Context) -> Fut,
    Fut: Future<Output = Result<R, ServerError>>,
{
    let modern = req.era == Era::Modern;
    let method = req.method.as_str();
    let mut answers = Map::new();
    let mut relayed = None;
    if modern {
        if let Some(token) = &request_state {
            let redeemed = conn.shared.states.redeem(token, method, target)?;
            answers = redeemed.answers;
            relayed = redeemed.relayed;
        }
        for (key, answer) in responses.into_iter().flatten() {
            let answer = serde_json::to_value(answer).map_err(|e| {
                error(
                    codes::INVALID_PARAMS,
                    format!("invalid inputResponses: {e}"),
                )
            })?;
            answers.insert(key, answer);
        }
    }
    let cx = Context::new(conn.clone(), req.clone(), answers);
    cx.set_relayed(relayed);
    let outcome = run(cx.clone()).await;
    // A task's handler goes on running: its round is the task's.
    if modern && !outcome.as_ref().is_ok_and(WireResult::is_task) {
        let round = cx.take_round();
        if let Some(capability) = round.missing_capability {
            return Err(missing_capability(capability));
        }
        if !round.open.is_empty() || round.relay.is_some() {
            let state = conn
                .shared
                .states
                .mint(method, target, round.answers, round.relay);
            let result = InputRequiredOut {
                result_type: ResultType::InputRequired,
                input_requests: round.open,
                request_state: state,
                meta: None,
            };
            return encode(conn, req, result);
        }
    }
    finish(conn, req, outcome)
}
