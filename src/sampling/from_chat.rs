//! A chat reply → the MCP `CreateMessageResult`.

use serde_json::{Map, Value};

use crate::model::ChatReply;
use crate::protocol::{
    CreateMessageResult, Role, SamplingContent, SamplingMessageContent, StopReason, TextContent,
    ToolUseContent,
};
use crate::session::HandlerError;

/// Maps the reply: its text to a text block, each tool call to a `tool_use`
/// block (whose arguments must be a JSON object, else an internal error),
/// `finish_reason` to `stopReason` (`stop`→`endTurn`, `length`→`maxTokens`,
/// `tool_calls`/`function_call`→`toolUse`, `content_filter` and others
/// kept verbatim), and `model` to the model that answered.
pub fn create_message_result(reply: &ChatReply) -> Result<CreateMessageResult, HandlerError> {
    let mut blocks = Vec::new();
    if !reply.text.is_empty() || reply.tool_calls.is_empty() {
        blocks.push(SamplingContent::Text(TextContent::new(reply.text.clone())));
    }
    for call in &reply.tool_calls {
        let input = match &call.parsed {
            Some(Value::Object(map)) => map.clone(),
            _ => {
                return Err(HandlerError::internal(format!(
                    "the model called {:?} with arguments that are not a JSON object: {}",
                    call.name,
                    crate::model::excerpt_str(&call.arguments)
                )))
            }
        };
        blocks.push(SamplingContent::ToolUse(ToolUseContent {
            id: call.id.clone(),
            name: call.name.clone(),
            input,
            ..Default::default()
        }));
    }
    let content = if blocks.len() == 1 {
        SamplingMessageContent::Single(blocks.remove(0))
    } else {
        SamplingMessageContent::Multiple(blocks)
    };
    Ok(CreateMessageResult {
        role: Role::Assistant,
        content,
        model: reply.model.clone(),
        stop_reason: stop_reason(reply),
        meta: None,
        extra: Map::new(),
    })
}

fn stop_reason(reply: &ChatReply) -> Option<StopReason> {
    let reason = match reply.finish_reason.as_deref() {
        Some("stop") => StopReason::EndTurn,
        Some("length") => StopReason::MaxTokens,
        Some("tool_calls" | "function_call") => StopReason::ToolUse,
        Some(other) => StopReason::Other(other.to_owned()),
        // Some servers omit it: infer from what came back.
        None if !reply.tool_calls.is_empty() => StopReason::ToolUse,
        None => StopReason::EndTurn,
    };
    Some(reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ToolCall;

    #[test]
    fn maps_finish_reasons() {
        let mut r = ChatReply {
            text: "hi".into(),
            model: "m".into(),
            ..Default::default()
        };
        for (wire, want) in [
            ("stop", StopReason::EndTurn),
            ("length", StopReason::MaxTokens),
            ("tool_calls", StopReason::ToolUse),
            ("content_filter", StopReason::Other("content_filter".into())),
        ] {
            r.finish_reason = Some(wire.into());
            assert_eq!(create_message_result(&r).unwrap().stop_reason, Some(want));
        }
    }

    #[test]
    fn tool_calls_need_object_arguments() {
        let mut r = ChatReply {
            model: "m".into(),
            tool_calls: vec![ToolCall::new("c1", "f", "{\"a\":1}".into())],
            ..Default::default()
        };
        let ok = create_message_result(&r).unwrap();
        assert!(matches!(
            ok.content,
            SamplingMessageContent::Single(SamplingContent::ToolUse(_))
        ));
        for bad in ["[1]", "not json", "3"] {
            r.tool_calls = vec![ToolCall::new("c1", "f", bad.into())];
            let err = create_message_result(&r).unwrap_err();
            assert_eq!(err.code, crate::protocol::codes::INTERNAL_ERROR);
            assert!(err.message.contains("not a JSON object"), "{err}");
        }
    }
}
