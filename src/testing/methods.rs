//! The MCP methods the test server answers, for a request whose era has
//! already been decided and checked (see `dispatch`).

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use serde_json::{json, Map, Value};

use super::builder::{Completer, CompletionRef, Spec};
use super::context::{LogLevel, ToolContext, ToolError};
use super::dispatch::{Conn, Listen, Req};
use super::eras::{initialize_refused, negotiate};
use super::shapes::{contents, error_result, paginate, tool_result};
use crate::protocol::codes;
use crate::protocol::version::meta;
use crate::protocol::{Era, ErrorObject};

type Outcome = Result<Value, ErrorObject>;

fn invalid(message: impl Into<String>) -> ErrorObject {
    ErrorObject {
        code: codes::INVALID_PARAMS,
        message: message.into(),
        data: None,
    }
}

fn not_found(method: &str) -> ErrorObject {
    ErrorObject {
        code: codes::METHOD_NOT_FOUND,
        message: format!("method not found: {method}"),
        data: None,
    }
}

fn str_param<'a>(params: &'a Value, key: &str) -> Result<&'a str, ErrorObject> {
    params
        .get(key)
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(format!("missing string parameter {key:?}")))
}

/// A JSON object of strings as a map (other values as their JSON text).
fn string_map(value: Option<&Value>) -> HashMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|obj| {
            obj.iter()
                .map(|(k, v)| {
                    let s = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                    (k.clone(), s)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Answers one request; `None` means "no reply" (`subscriptions/listen`).
pub(crate) fn handle(
    conn: Arc<Conn>,
    req: Arc<Req>,
    params: Value,
) -> BoxFuture<'static, Option<Outcome>> {
    Box::pin(async move {
        let spec = conn.spec.clone();
        let has_tools = !spec.tools.is_empty();
        let has_resources = !spec.resources.is_empty() || !spec.templates.is_empty();
        let has_prompts = !spec.prompts.is_empty();
        let has_skills = !spec.skills.is_empty();
        let modern = req.era == Era::Modern;
        let out = match req.method.as_str() {
            "ping" => Ok(json!({})),
            "initialize" if !modern => initialize(&conn, &params),
            "server/discover" if modern => Ok(discover(&spec)),
            "subscriptions/listen" if modern => return listen(&conn, &req, &params),
            "logging/setLevel" if !modern => set_level(&conn, &params),
            "resources/subscribe" | "resources/unsubscribe" if !modern && has_resources => {
                str_param(&params, "uri").map(|uri| {
                    conn.subscribe(uri, req.method == "resources/subscribe");
                    json!({})
                })
            }
            "tools/list" if has_tools => list(&spec, &req, &params, "tools", |s| {
                s.tools.iter().map(|t| t.def.to_json()).collect()
            }),
            "resources/list" if has_resources => list(&spec, &req, &params, "resources", |s| {
                s.resources.iter().map(|r| r.def.to_json()).collect()
            }),
            "resources/templates/list" if has_resources => {
                list(&spec, &req, &params, "resourceTemplates", |s| {
                    s.templates.iter().map(|t| t.def.to_json()).collect()
                })
            }
            "prompts/list" if has_prompts => list(&spec, &req, &params, "prompts", |s| {
                s.prompts.iter().map(|p| p.def.to_json()).collect()
            }),
            "skills/list" if has_skills => {
                list(&spec, &req, &params, "skills", |s| s.skills.clone())
            }
            "skills/get" if has_skills => get_skill(&spec, &req, &params),
            "tools/call" if has_tools => call_tool(&conn, &req, &params).await,
            "resources/read" if has_resources => read_resource(&spec, &req, &params).await,
            "prompts/get" if has_prompts => get_prompt(&spec, &params).await,
            "completion/complete" => complete(&spec, &params).await,
            other => Err(not_found(other)),
        };
        Some(out)
    })
}

fn initialize(conn: &Conn, params: &Value) -> Outcome {
    let requested = params.get("protocolVersion").and_then(Value::as_str);
    if !conn.spec.eras.handshake() {
        return Err(initialize_refused(requested));
    }
    let version = negotiate(requested);
    let capabilities = params
        .get("capabilities")
        .filter(|c| c.is_object())
        .cloned()
        .unwrap_or_else(|| json!({}));
    conn.begin_handshake(version, capabilities)?;
    let mut result = json!({
        "protocolVersion": version.as_str(),
        "capabilities": conn.spec.capabilities(),
        "serverInfo": conn.spec.server_info(),
    });
    if let (Some(text), Some(obj)) = (&conn.spec.instructions, result.as_object_mut()) {
        obj.insert("instructions".into(), json!(text));
    }
    Ok(result)
}

fn discover(spec: &Spec) -> Value {
    let mut result = json!({
        "supportedVersions": [super::eras::MODERN.as_str()],
        "capabilities": spec.capabilities(),
        "ttlMs": spec.ttl_ms,
        "cacheScope": "public",
    });
    if let (Some(text), Some(obj)) = (&spec.instructions, result.as_object_mut()) {
        obj.insert("instructions".into(), json!(text));
    }
    result
}

fn set_level(conn: &Conn, params: &Value) -> Outcome {
    let level = str_param(params, "level")?;
    let level =
        LogLevel::from_wire(level).ok_or_else(|| invalid(format!("unknown level {level:?}")))?;
    conn.set_log_level(level);
    Ok(json!({}))
}

/// Modern caching hints on a cacheable result.
fn cacheable(spec: &Spec, req: &Req, mut result: Value) -> Value {
    if req.era == Era::Modern {
        if let Some(obj) = result.as_object_mut() {
            obj.insert("ttlMs".into(), json!(spec.ttl_ms));
            obj.insert("cacheScope".into(), json!("public"));
        }
    }
    result
}

fn list(
    spec: &Spec,
    req: &Req,
    params: &Value,
    key: &str,
    items: impl FnOnce(&Spec) -> Vec<Value>,
) -> Outcome {
    let (page, next) = paginate(items(spec), params.get("cursor"), spec.page_size)?;
    let mut result = Map::new();
    result.insert(key.into(), Value::Array(page));
    if let Some(next) = next {
        result.insert("nextCursor".into(), Value::String(next));
    }
    Ok(cacheable(spec, req, Value::Object(result)))
}

fn listen(conn: &Conn, req: &Req, params: &Value) -> Option<Outcome> {
    let spec = &conn.spec;
    let asked = params.get("notifications").cloned().unwrap_or_default();
    let flag = |key: &str, supported: bool| {
        supported && asked.get(key).and_then(Value::as_bool).unwrap_or(false)
    };
    let has_resources = !spec.resources.is_empty() || !spec.templates.is_empty();
    let uris: Vec<String> = if has_resources {
        asked
            .get("resourceSubscriptions")
            .and_then(Value::as_array)
            .map(|a| {
                // Only what it can serve: a URI it does not know is left
                // out of the acknowledgement (the agreed subset).
                a.iter()
                    .filter_map(Value::as_str)
                    .filter(|uri| {
                        spec.resources.iter().any(|r| r.def.uri() == *uri)
                            || spec
                                .templates
                                .iter()
                                .any(|t| t.pattern.matches(uri).is_some())
                    })
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let listen = Listen {
        id: req.id.clone(),
        tools: flag("toolsListChanged", !spec.tools.is_empty()),
        prompts: flag("promptsListChanged", !spec.prompts.is_empty()),
        resources: flag("resourcesListChanged", has_resources),
        uris,
    };
    let mut agreed = Map::new();
    for (key, on) in [
        ("toolsListChanged", listen.tools),
        ("promptsListChanged", listen.prompts),
        ("resourcesListChanged", listen.resources),
    ] {
        if on {
            agreed.insert(key.into(), json!(true));
        }
    }
    if !listen.uris.is_empty() {
        agreed.insert("resourceSubscriptions".into(), json!(listen.uris));
    }
    conn.add_listen(listen);
    conn.notify(
        "notifications/subscriptions/acknowledged",
        Some(json!({"notifications": agreed, "_meta": {meta::SUBSCRIPTION_ID: req.id}})),
    );
    None
}

/// The answers a modern retry carries: those behind `requestState`, plus
/// `inputResponses`.
fn round_answers(
    conn: &Conn,
    params: &Value,
    method: &str,
    target: &str,
) -> Result<Map<String, Value>, ErrorObject> {
    let mut answers = match params.get("requestState") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::String(token)) => conn.states.redeem(token, method, target)?,
        Some(_) => return Err(invalid("invalid requestState")),
    };
    if let Some(Value::Object(responses)) = params.get("inputResponses") {
        for (k, v) in responses {
            answers.insert(k.clone(), v.clone());
        }
    }
    Ok(answers)
}

async fn call_tool(conn: &Arc<Conn>, req: &Arc<Req>, params: &Value) -> Outcome {
    let name = str_param(params, "name")?;
    let spec = conn.spec.clone();
    let tool = spec
        .tool(name)
        .ok_or_else(|| invalid(format!("unknown tool: {name}")))?;
    let modern = req.era == Era::Modern;
    let answers = if modern {
        round_answers(conn, params, "tools/call", name)?
    } else {
        Map::new()
    };
    let args = params
        .get("arguments")
        .cloned()
        .unwrap_or_else(|| json!({}));
    let ctx = ToolContext::new(conn.clone(), req.clone(), answers);
    // A panicking handler is a failed tool, not a dead connection.
    let outcome = AssertUnwindSafe((tool.handler)(ctx.clone(), args))
        .catch_unwind()
        .await
        .unwrap_or_else(|_| Err(ToolError::Failed(format!("tool {name} panicked"))));
    let round = ctx.take_round();
    if modern {
        if let Some(capability) = round.missing_capability {
            return Err(ErrorObject {
                code: codes::MISSING_REQUIRED_CLIENT_CAPABILITY,
                message: format!("this tool needs the client capability {capability}"),
                data: Some(json!({"requiredCapabilities": {capability: {}}})),
            });
        }
        if let Some((key, ask)) = round.missing {
            let state = conn.states.mint("tools/call", name, round.answers);
            return Ok(json!({
                "resultType": "input_required",
                "inputRequests": {key: ask},
                "requestState": state,
            }));
        }
    }
    match outcome {
        Ok(value) => Ok(tool_result(value, modern)),
        Err(ToolError::Protocol(err)) => Err(err),
        Err(other) => Ok(error_result(other.to_string())),
    }
}

async fn read_resource(spec: &Spec, req: &Req, params: &Value) -> Outcome {
    let uri = str_param(params, "uri")?;
    let missing = |why: String| ErrorObject {
        code: match req.era {
            Era::Modern => codes::INVALID_PARAMS,
            Era::Handshake => codes::RESOURCE_NOT_FOUND_LEGACY,
        },
        message: why,
        data: Some(json!({"uri": uri})),
    };
    let body = if let Some(r) = spec.resources.iter().find(|r| r.def.uri() == uri) {
        contents(uri, r.def.mime(), &r.body)
    } else {
        let found = spec
            .templates
            .iter()
            .find_map(|t| t.pattern.matches(uri).map(|vars| (t, vars)));
        let Some((template, vars)) = found else {
            return Err(missing(format!("resource not found: {uri}")));
        };
        let produced = (template.handler)(uri.to_owned(), vars).await;
        contents(uri, template.def.mime(), &produced.map_err(missing)?)
    };
    Ok(cacheable(spec, req, json!({"contents": [body]})))
}

fn get_skill(spec: &Spec, req: &Req, params: &Value) -> Outcome {
    let uri = str_param(params, "uri")?;
    let skill = spec
        .skills
        .iter()
        .find(|s| s["uri"] == uri)
        .ok_or_else(|| invalid(format!("unknown skill: {uri}")))?;
    Ok(cacheable(spec, req, json!({ "skill": skill })))
}

async fn get_prompt(spec: &Spec, params: &Value) -> Outcome {
    let name = str_param(params, "name")?;
    let prompt = spec
        .prompt(name)
        .ok_or_else(|| invalid(format!("unknown prompt: {name}")))?;
    let args = string_map(params.get("arguments"));
    if let Some(missing) = prompt.def.required().find(|a| !args.contains_key(*a)) {
        return Err(invalid(format!("missing required argument {missing:?}")));
    }
    match (prompt.handler)(args).await {
        Ok(Value::Array(messages)) => {
            let mut result = json!({"messages": messages});
            if let (Some(d), Some(obj)) = (prompt.def.prompt_description(), result.as_object_mut())
            {
                obj.insert("description".into(), json!(d));
            }
            Ok(result)
        }
        Ok(other) => Ok(other),
        Err(message) => Err(ErrorObject {
            code: codes::INTERNAL_ERROR,
            message,
            data: None,
        }),
    }
}

/// At most this many values per completion, as the spec allows.
const MAX_COMPLETIONS: usize = 100;

async fn complete(spec: &Spec, params: &Value) -> Outcome {
    let reference = params.get("ref").ok_or_else(|| invalid("missing ref"))?;
    let target = match reference.get("type").and_then(Value::as_str) {
        Some("ref/prompt") => {
            let name = str_param(reference, "name")?;
            if spec.prompt(name).is_none() {
                return Err(invalid(format!("unknown prompt: {name}")));
            }
            CompletionRef::Prompt(name.into())
        }
        Some("ref/resource") => CompletionRef::Resource(str_param(reference, "uri")?.into()),
        _ => return Err(invalid("ref.type must be ref/prompt or ref/resource")),
    };
    let argument = params
        .get("argument")
        .ok_or_else(|| invalid("missing argument"))?;
    let arg_name = str_param(argument, "name")?;
    let typed = argument.get("value").and_then(Value::as_str).unwrap_or("");
    let context = string_map(params.get("context").and_then(|c| c.get("arguments")));
    let mut values = match spec.completers.get(&(target, arg_name.to_owned())) {
        Some(Completer::Static(all)) => all
            .iter()
            .filter(|v| v.starts_with(typed))
            .cloned()
            .collect(),
        Some(Completer::Dynamic(f)) => f(typed.to_owned(), context).await,
        None => Vec::new(),
    };
    let total = values.len();
    values.truncate(MAX_COMPLETIONS);
    Ok(json!({"completion": {
        "values": values,
        "total": total,
        "hasMore": total > MAX_COMPLETIONS,
    }}))
}
