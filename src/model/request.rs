//! A chat completion request, serialised to exactly the OpenAI wire JSON.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use super::endpoint::MaxTokensField;

/// A request to `POST /chat/completions`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChatRequest {
    /// The model name.
    pub model: String,
    /// The conversation.
    pub messages: Vec<ChatMessage>,
    /// Functions the model may call (omitted when empty).
    pub tools: Vec<ChatTool>,
    /// How the model may use the tools.
    pub tool_choice: Option<ChatToolChoice>,
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// The token limit, sent in the endpoint's [`MaxTokensField`].
    pub max_tokens: Option<u64>,
    /// Stop sequences (omitted when empty).
    pub stop: Vec<String>,
    /// More top-level fields, copied as they are (a provider's own knobs).
    pub extra: Map<String, Value>,
}

impl ChatRequest {
    /// An empty request for a model.
    pub fn new(model: impl Into<String>) -> Self {
        ChatRequest {
            model: model.into(),
            ..Default::default()
        }
    }

    /// Appends a message.
    pub fn message(mut self, message: ChatMessage) -> Self {
        self.messages.push(message);
        self
    }

    /// The wire body. `stream` adds `"stream": true` (and asks for usage in
    /// the last chunk).
    pub fn to_json(&self, field: MaxTokensField, stream: bool) -> Value {
        let mut body = Map::new();
        body.insert("model".into(), Value::String(self.model.clone()));
        body.insert("messages".into(), to_value(&self.messages));
        if !self.tools.is_empty() {
            body.insert("tools".into(), to_value(&self.tools));
        }
        if let Some(choice) = &self.tool_choice {
            body.insert("tool_choice".into(), to_value(choice));
        }
        if let Some(t) = self.temperature {
            body.insert("temperature".into(), Value::from(t));
        }
        if let Some(n) = self.max_tokens {
            body.insert(field.as_str().into(), Value::from(n));
        }
        if !self.stop.is_empty() {
            body.insert("stop".into(), to_value(&self.stop));
        }
        if stream {
            body.insert("stream".into(), Value::Bool(true));
            body.insert(
                "stream_options".into(),
                serde_json::json!({"include_usage": true}),
            );
        }
        for (k, v) in &self.extra {
            body.entry(k.clone()).or_insert_with(|| v.clone());
        }
        Value::Object(body)
    }
}

fn to_value<T: Serialize>(v: &T) -> Value {
    // Our types serialise infallibly (no maps with non-string keys).
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// One message of the conversation, tagged by `role`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
pub enum ChatMessage {
    /// Instructions for the model.
    System {
        /// The text.
        content: String,
    },
    /// The user's turn.
    User {
        /// Text, or parts (text, images, audio).
        content: UserContent,
    },
    /// The model's earlier turn.
    Assistant {
        /// Its text (absent when it only called tools).
        #[serde(skip_serializing_if = "Option::is_none")]
        content: Option<String>,
        /// The calls it made.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ChatToolCall>,
    },
    /// The result of one tool call.
    Tool {
        /// The `id` of the call it answers.
        tool_call_id: String,
        /// The result as text.
        content: String,
    },
}

impl ChatMessage {
    /// A system message.
    pub fn system(text: impl Into<String>) -> Self {
        ChatMessage::System {
            content: text.into(),
        }
    }
    /// A user message with plain text.
    pub fn user(text: impl Into<String>) -> Self {
        ChatMessage::User {
            content: UserContent::Text(text.into()),
        }
    }
    /// An assistant message with plain text.
    pub fn assistant(text: impl Into<String>) -> Self {
        ChatMessage::Assistant {
            content: Some(text.into()),
            tool_calls: Vec::new(),
        }
    }
    /// A tool result.
    pub fn tool(tool_call_id: impl Into<String>, content: impl Into<String>) -> Self {
        ChatMessage::Tool {
            tool_call_id: tool_call_id.into(),
            content: content.into(),
        }
    }
}

/// The content of a user message: a string, or an array of parts.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum UserContent {
    /// Plain text.
    Text(String),
    /// Several parts.
    Parts(Vec<ContentPart>),
}

/// A part of a user message, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    /// `{"type": "text", "text": ...}`.
    Text {
        /// The text.
        text: String,
    },
    /// `{"type": "image_url", "image_url": {"url": ...}}`.
    ImageUrl {
        /// The image.
        image_url: ImageUrl,
    },
    /// `{"type": "input_audio", "input_audio": {"data": ..., "format": ...}}`.
    InputAudio {
        /// The audio.
        input_audio: InputAudio,
    },
}

impl ContentPart {
    /// A text part.
    pub fn text(text: impl Into<String>) -> Self {
        ContentPart::Text { text: text.into() }
    }
    /// An image as a `data:` URI from base64 data and its MIME type.
    pub fn image_base64(mime_type: &str, data: &str) -> Self {
        ContentPart::ImageUrl {
            image_url: ImageUrl {
                url: format!("data:{mime_type};base64,{data}"),
            },
        }
    }
    /// Base64 audio in a format the API takes.
    pub fn audio_base64(format: AudioFormat, data: impl Into<String>) -> Self {
        ContentPart::InputAudio {
            input_audio: InputAudio {
                data: data.into(),
                format,
            },
        }
    }
}

/// An image reference (a URL or a `data:` URI).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImageUrl {
    /// The URL.
    pub url: String,
}

/// Inline audio.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputAudio {
    /// Base64 data.
    pub data: String,
    /// Its format.
    pub format: AudioFormat,
}

/// The audio formats `input_audio` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AudioFormat {
    /// WAV.
    Wav,
    /// MP3.
    Mp3,
}

impl AudioFormat {
    /// The format for a MIME type, when the API takes it.
    pub fn from_mime(mime: &str) -> Option<Self> {
        let essence = mime.split(';').next().unwrap_or("").trim();
        match essence.to_ascii_lowercase().as_str() {
            "audio/wav" | "audio/x-wav" | "audio/wave" | "audio/vnd.wave" => Some(AudioFormat::Wav),
            "audio/mpeg" | "audio/mp3" | "audio/mpeg3" | "audio/x-mpeg-3" => Some(AudioFormat::Mp3),
            _ => None,
        }
    }
}

/// A call the assistant made, as sent back in history.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatToolCall {
    /// The call id.
    pub id: String,
    /// The function name.
    pub name: String,
    /// The arguments as a JSON string.
    pub arguments: String,
}

impl Serialize for ChatToolCall {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("type", "function")?;
        m.serialize_entry(
            "function",
            &serde_json::json!({"name": self.name, "arguments": self.arguments}),
        )?;
        m.end()
    }
}

/// A function the model may call.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatTool {
    /// Its name.
    pub name: String,
    /// What it does.
    pub description: Option<String>,
    /// JSON Schema of its arguments.
    pub parameters: Value,
}

impl Serialize for ChatTool {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut function = Map::new();
        function.insert("name".into(), Value::String(self.name.clone()));
        if let Some(d) = &self.description {
            function.insert("description".into(), Value::String(d.clone()));
        }
        function.insert("parameters".into(), self.parameters.clone());
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("type", "function")?;
        m.serialize_entry("function", &function)?;
        m.end()
    }
}

/// `tool_choice`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatToolChoice {
    /// `"auto"`: the model decides.
    Auto,
    /// `"required"`: it must call a tool.
    Required,
    /// `"none"`: it must not.
    None,
    /// It must call this function.
    Function(String),
}

impl Serialize for ChatToolChoice {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ChatToolChoice::Auto => s.serialize_str("auto"),
            ChatToolChoice::Required => s.serialize_str("required"),
            ChatToolChoice::None => s.serialize_str("none"),
            ChatToolChoice::Function(name) => {
                serde_json::json!({"type": "function", "function": {"name": name}}).serialize(s)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
}
