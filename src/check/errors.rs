//! How the server fails: an unknown tool, bad arguments and an unknown
//! method get the right JSON-RPC codes (or `isError`); `ping` answers;
//! a cancellation is taken quietly and the server goes on.

use std::time::Duration;

use serde_json::{json, Value};

use super::checker::Checker;
use super::probe::{received, Probe};
use super::report::Finding;
use super::tools::required;
use crate::protocol::{codes, Era};

/// A name no server has.
const NO_TOOL: &str = "switchboard-check-no-such-tool";
/// A method no server has.
const NO_METHOD: &str = "switchboard/no-such-method";

fn is_error_result(v: &Value) -> bool {
    v.get("isError").and_then(Value::as_bool) == Some(true)
}

/// Runs the error checks.
pub(super) async fn check(p: &Probe, c: &mut Checker, tools: &[Value]) {
    unknown_tool(p, c).await;
    bad_arguments(p, c, tools).await;
    unknown_method(p, c).await;
    ping(p, c).await;
    cancellation(p, c, tools).await;
}

async fn unknown_tool(p: &Probe, c: &mut Checker) {
    c.ran("errors.unknown-tool");
    let x = p
        .ask("tools/call", json!({"name": NO_TOOL, "arguments": {}}))
        .await;
    let rule = "server/tools (error handling): an unknown tool is a protocol error, -32602 (Invalid params)";
    match (&x.reply, x.code()) {
        (_, Some(codes::INVALID_PARAMS)) => {}
        (Ok(r), _) if is_error_result(r) => c.find(
            Finding::note(
                "errors.unknown-tool",
                "an unknown tool is answered with isError, not -32602",
            )
            .sent(x.sent.clone())
            .received(x.received())
            .rule(rule)
            .fix("answer an unknown tool name with the JSON-RPC error -32602"),
        ),
        (Ok(_), _) => c.find(
            Finding::error(
                "errors.unknown-tool",
                "calling a tool that does not exist succeeds",
            )
            .sent(x.sent.clone())
            .received(x.received())
            .rule(rule)
            .fix("answer an unknown tool name with the JSON-RPC error -32602"),
        ),
        (Err(_), Some(code)) => c.find(
            Finding::warning(
                "errors.unknown-tool",
                format!("an unknown tool gets error {code}, not -32602"),
            )
            .sent(x.sent.clone())
            .received(x.received())
            .rule(rule)
            .fix("answer an unknown tool name with -32602"),
        ),
        (Err(_), None) => c.find(
            Finding::error(
                "errors.unknown-tool",
                "calling an unknown tool gets no answer",
            )
            .sent(x.sent.clone())
            .received(x.received())
            .rule("basic: every request gets a response, a result or an error")
            .fix("answer an unknown tool name with -32602"),
        ),
    }
}

async fn bad_arguments(p: &Probe, c: &mut Checker, tools: &[Value]) {
    let Some(tool) = tools.iter().find(|t| !required(t).is_empty()) else {
        c.skip("errors.bad-arguments", "no tool has a required argument");
        return;
    };
    c.ran("errors.bad-arguments");
    let name = tool.get("name").and_then(Value::as_str).unwrap_or("");
    let x = p
        .ask("tools/call", json!({"name": name, "arguments": {}}))
        .await;
    let fine =
        x.code() == Some(codes::INVALID_PARAMS) || x.reply.as_ref().is_ok_and(is_error_result);
    if fine {
        return;
    }
    let finding = match (&x.reply, x.code()) {
        (Ok(_), _) => Finding::warning(
            "errors.bad-arguments",
            format!("tool {name:?} succeeds without its required arguments {:?}", required(tool)),
        ),
        (Err(_), Some(code)) => Finding::warning(
            "errors.bad-arguments",
            format!("tool {name:?} without its required arguments gets error {code}, not -32602 or isError"),
        ),
        (Err(_), None) => Finding::error(
            "errors.bad-arguments",
            format!("tool {name:?} without its required arguments gets no answer"),
        ),
    };
    c.find(
        finding
            .subject(format!("tool {name:?}"))
            .sent(x.sent.clone())
            .received(x.received())
            .rule("server/tools (error handling): arguments that break inputSchema are an error: -32602, or a result with isError")
            .fix("validate arguments against inputSchema before running the tool"),
    );
}

async fn unknown_method(p: &Probe, c: &mut Checker) {
    c.ran("errors.unknown-method");
    let x = p.ask(NO_METHOD, json!({})).await;
    if x.code() == Some(codes::METHOD_NOT_FOUND) {
        return;
    }
    let finding = match (&x.reply, x.code()) {
        (Ok(_), _) => Finding::error("errors.unknown-method", format!("{NO_METHOD} succeeds")),
        (Err(_), Some(code)) => Finding::warning(
            "errors.unknown-method",
            format!("an unknown method gets error {code}, not -32601"),
        ),
        (Err(_), None) => {
            Finding::error("errors.unknown-method", "an unknown method gets no answer")
        }
    };
    c.find(
        finding
            .sent(x.sent.clone())
            .received(x.received())
            .rule("JSON-RPC 2.0 (error object): a method that does not exist is -32601 (Method not found)")
            .fix("answer every method you do not implement with -32601"),
    );
}

async fn ping(p: &Probe, c: &mut Checker) {
    if p.era() == Era::Modern {
        c.skip("errors.ping", "ping is gone in 2026-07-28");
        return;
    }
    c.ran("errors.ping");
    let x = p.ask("ping", json!({})).await;
    if x.reply.is_err() {
        c.find(
            Finding::error("errors.ping", "ping fails")
                .sent(x.sent.clone())
                .received(x.received())
                .rule(
                    "basic/utilities/ping: the receiver MUST respond promptly with an empty result",
                )
                .fix("answer ping with {}"),
        );
    }
}

/// A cancelled call must not cost the connection: the call is dropped
/// in flight (the client sends `notifications/cancelled`), and the server
/// answers the next request.
async fn cancellation(p: &Probe, c: &mut Checker, tools: &[Value]) {
    c.ran("errors.cancellation");
    let tool = tools.iter().find(|t| super::tools::safe_to_call(t));
    let sent = match tool {
        Some(tool) => {
            let name = tool.get("name").and_then(Value::as_str).unwrap_or("");
            let args = super::calls::arguments_for(tool);
            let call = p.client.call_tool(name, args.clone());
            let _ = tokio::time::timeout(Duration::from_millis(2), call).await;
            json!({"method": "tools/call", "params": {"name": name, "arguments": args}, "then": "notifications/cancelled"})
        }
        None => {
            let list = p.client.request::<Value>("tools/list", json!({}));
            let _ = tokio::time::timeout(Duration::from_millis(1), list).await;
            json!({"method": "tools/list", "then": "notifications/cancelled"})
        }
    };
    let after = p.ask("tools/list", json!({})).await;
    if after.reply.is_err() {
        c.find(
            Finding::error("errors.cancellation", "after a cancelled request the server stops answering")
                .sent(sent)
                .received(received(&after.reply))
                .rule("basic/utilities/cancellation: a receiver stops the cancelled work (or ignores a cancellation it cannot honour) and goes on")
                .fix("on notifications/cancelled, stop that request's work; for an unknown or finished id, do nothing"),
        );
    }
}
