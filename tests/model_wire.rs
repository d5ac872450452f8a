//! The model layer's wire, without a server: requests serialise to
//! exactly the OpenAI JSON (through async-openai's request types), replies
//! are read tolerantly, endpoints come from the environment.

use serde_json::{json, Value};
use switchboard::model::*;

// ---- request.rs
#[test]
fn serialises_to_the_openai_wire_shape() {
    let mut r = ChatRequest::new("gpt")
        .message(ChatMessage::system("sys"))
        .message(ChatMessage::User {
            content: UserContent::Parts(vec![
                ContentPart::text("look"),
                ContentPart::image_base64("image/png", "AAAA"),
                ContentPart::audio_base64(AudioFormat::Wav, "UklG"),
            ]),
        })
        .message(ChatMessage::Assistant {
            content: None,
            tool_calls: vec![ChatToolCall {
                id: "c1".into(),
                name: "f".into(),
                arguments: "{\"a\":1}".into(),
            }],
        })
        .message(ChatMessage::tool("c1", "2"));
    r.tools.push(ChatTool {
        name: "f".into(),
        description: None,
        parameters: json!({"type": "object"}),
    });
    r.tool_choice = Some(ChatToolChoice::Function("f".into()));
    r.max_tokens = Some(10);
    r.stop = vec!["END".into()];
    assert_eq!(
        r.to_json(MaxTokensField::MaxCompletionTokens, false),
        json!({
            "model": "gpt",
            "messages": [
                {"role": "system", "content": "sys"},
                {"role": "user", "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                    {"type": "input_audio", "input_audio": {"data": "UklG", "format": "wav"}},
                ]},
                {"role": "assistant", "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\":1}"}},
                ]},
                {"role": "tool", "tool_call_id": "c1", "content": "2"},
            ],
            "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
            "tool_choice": {"type": "function", "function": {"name": "f"}},
            "max_completion_tokens": 10,
            "stop": ["END"],
        })
    );
}

#[test]
fn audio_formats_from_mime() {
    assert_eq!(AudioFormat::from_mime("audio/wav"), Some(AudioFormat::Wav));
    assert_eq!(AudioFormat::from_mime("audio/mpeg"), Some(AudioFormat::Mp3));
    assert_eq!(AudioFormat::from_mime("audio/ogg"), None);
}

// ---- reply.rs
fn parse(v: Value) -> Result<ChatReply, ModelError> {
    ChatReply::from_json(v.to_string().as_bytes(), "asked")
}

#[test]
fn reads_text_tool_calls_and_usage() {
    let r = parse(json!({
        "model": "m-1",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": null,
            "tool_calls": [{"id": "c1", "type": "function",
                "function": {"name": "add", "arguments": "{\"a\":1}"}}]}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    }))
    .unwrap();
    assert_eq!(r.model, "m-1");
    assert_eq!(r.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(r.tool_calls[0].parsed, Some(json!({"a": 1})));
    assert_eq!(r.usage.unwrap().total_tokens, 7);
}

#[test]
fn tolerates_odd_but_readable_replies() {
    let r = parse(json!({
        "choices": [{"finish_reason": "eos_token", "message": {"content": [{"type": "text", "text": "hi"}],
            "tool_calls": [{"function": {"name": "f", "arguments": {"x": 1}}}]}}]
    }))
    .unwrap();
    assert_eq!(r.text, "hi");
    assert_eq!(r.model, "asked");
    assert_eq!(r.usage, None);
    assert_eq!(r.finish_reason.as_deref(), Some("eos_token"));
    assert_eq!(r.tool_calls[0].id, "call_0");
    assert_eq!(r.tool_calls[0].arguments, "{\"x\":1}");
}

#[test]
fn unreadable_replies_are_malformed() {
    for bad in [
        json!({}),
        json!({"choices": []}),
        json!({"error": {"message": "x"}}),
    ] {
        assert!(matches!(parse(bad), Err(ModelError::Malformed { .. })));
    }
    assert!(matches!(
        ChatReply::from_json(b"\x00garbage", "m"),
        Err(ModelError::Malformed { .. })
    ));
}

// ---- endpoint.rs
#[test]
fn the_key_never_shows_in_debug() {
    let e = ModelEndpoint::new("http://x/v1/", "m").api_key("sk-secret-123");
    let shown = format!("{e:?}");
    assert!(!shown.contains("sk-secret"), "{shown}");
    assert!(shown.contains("redacted"));
    assert_eq!(e.chat_url(), "http://x/v1/chat/completions");
}

#[test]
fn from_env_needs_a_model_and_defaults_the_rest() {
    let err = ModelEndpoint::from_lookup(|_| None).unwrap_err();
    assert!(err.to_string().contains("SWITCHBOARD_MODEL"), "{err}");
    let e = ModelEndpoint::from_lookup(|n| (n == "SWITCHBOARD_MODEL").then(|| "llama3".into()))
        .unwrap();
    assert_eq!(e.model, "llama3");
    assert_eq!(e.base_url, "https://api.openai.com/v1");
    assert!(e.api_key.is_empty());
}
