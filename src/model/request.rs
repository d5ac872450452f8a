//! A chat completion request: our own plain types (what sampling and the
//! agent build), sent as async-openai's request types
//! ([`CreateChatCompletionRequest`]) plus the few fields they cannot carry
//! exactly (a provider's own knobs, the token-limit field the endpoint
//! reads, the temperature as given).

use async_openai::types::chat as wire;
use serde::Serialize;
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

    /// The wire body: async-openai's request, serialised, with `extra`
    /// fields added (never replacing one set here). `stream` adds
    /// `"stream": true` and asks for usage in the last chunk.
    pub fn to_json(&self, field: MaxTokensField, stream: bool) -> Value {
        let request = wire::CreateChatCompletionRequest {
            model: self.model.clone(),
            messages: self.messages.iter().map(ChatMessage::to_wire).collect(),
            tools: (!self.tools.is_empty())
                .then(|| self.tools.iter().map(ChatTool::to_wire).collect()),
            tool_choice: self.tool_choice.as_ref().map(ChatToolChoice::to_wire),
            stop: (!self.stop.is_empty())
                .then(|| wire::StopConfiguration::StringArray(self.stop.clone())),
            stream: stream.then_some(true),
            stream_options: stream.then_some(wire::ChatCompletionStreamOptions {
                include_usage: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        };
        // The crate's types serialise infallibly (no maps with non-string keys).
        let mut body = match serde_json::to_value(request) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        // Set here, not in the crate's type: its temperature is an f32 (0.7
        // would go out as 0.699999988) and its token limit a u32.
        if let Some(t) = self.temperature {
            body.insert("temperature".into(), Value::from(t));
        }
        if let Some(n) = self.max_tokens {
            body.insert(field.as_str().into(), Value::from(n));
        }
        for (k, v) in &self.extra {
            body.entry(k.clone()).or_insert_with(|| v.clone());
        }
        Value::Object(body)
    }
}

/// One message of the conversation (sent tagged by `role`).
#[derive(Debug, Clone, PartialEq)]
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
        content: Option<String>,
        /// The calls it made.
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

impl ChatMessage {
    fn to_wire(&self) -> wire::ChatCompletionRequestMessage {
        match self {
            ChatMessage::System { content } => {
                wire::ChatCompletionRequestSystemMessage::from(content.as_str()).into()
            }
            ChatMessage::User { content } => {
                wire::ChatCompletionRequestUserMessage::from(match content {
                    UserContent::Text(t) => {
                        wire::ChatCompletionRequestUserMessageContent::from(t.as_str())
                    }
                    UserContent::Parts(p) => p
                        .iter()
                        .map(ContentPart::to_wire)
                        .collect::<Vec<_>>()
                        .into(),
                })
                .into()
            }
            ChatMessage::Assistant {
                content,
                tool_calls,
            } => wire::ChatCompletionRequestAssistantMessage {
                content: content.as_deref().map(Into::into),
                tool_calls: (!tool_calls.is_empty())
                    .then(|| tool_calls.iter().map(ChatToolCall::to_wire).collect()),
                ..Default::default()
            }
            .into(),
            ChatMessage::Tool {
                tool_call_id,
                content,
            } => wire::ChatCompletionRequestToolMessage {
                content: content.as_str().into(),
                tool_call_id: tool_call_id.clone(),
            }
            .into(),
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

impl ContentPart {
    fn to_wire(&self) -> wire::ChatCompletionRequestUserMessageContentPart {
        match self {
            ContentPart::Text { text } => {
                wire::ChatCompletionRequestMessageContentPartText::from(text.as_str()).into()
            }
            ContentPart::ImageUrl { image_url } => {
                wire::ChatCompletionRequestMessageContentPartImage::from(wire::ImageUrl::from(
                    image_url.url.as_str(),
                ))
                .into()
            }
            ContentPart::InputAudio { input_audio } => {
                let format = match input_audio.format {
                    AudioFormat::Wav => wire::InputAudioFormat::Wav,
                    AudioFormat::Mp3 => wire::InputAudioFormat::Mp3,
                };
                let input_audio = wire::InputAudio {
                    data: input_audio.data.clone(),
                    format,
                };
                wire::ChatCompletionRequestMessageContentPartAudio {
                    input_audio,
                    prompt_cache_breakpoint: None,
                }
                .into()
            }
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

impl ChatToolCall {
    fn to_wire(&self) -> wire::ChatCompletionMessageToolCalls {
        let function = wire::FunctionCall {
            name: self.name.clone(),
            arguments: self.arguments.clone(),
        };
        wire::ChatCompletionMessageToolCall {
            id: self.id.clone(),
            function,
        }
        .into()
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

impl ChatTool {
    fn to_wire(&self) -> wire::ChatCompletionTools {
        wire::ChatCompletionTools::Function(wire::ChatCompletionTool {
            function: wire::FunctionObject {
                name: self.name.clone(),
                description: self.description.clone(),
                parameters: Some(self.parameters.clone()),
                strict: None,
            },
        })
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

impl ChatToolChoice {
    fn to_wire(&self) -> wire::ChatCompletionToolChoiceOption {
        use wire::{ChatCompletionToolChoiceOption as C, ToolChoiceOptions as O};
        match self {
            ChatToolChoice::Auto => C::Mode(O::Auto),
            ChatToolChoice::Required => C::Mode(O::Required),
            ChatToolChoice::None => C::Mode(O::None),
            ChatToolChoice::Function(name) => C::Function(name.as_str().into()),
        }
    }
}
