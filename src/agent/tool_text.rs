//! A tool's result as the model is shown it: text it can read, errors it
//! can react to, images where the model takes them.

use serde_json::Value;

use crate::model::ContentPart;
use crate::protocol::{ContentBlock, ResourceContents};
use crate::{Error, ToolOutput};

/// Longest tool result handed to the model, in bytes; the rest is cut with
/// a note saying how much was left out.
pub const MAX_RESULT_BYTES: usize = 32 * 1024;

/// A tool call's outcome, ready for the conversation.
pub(crate) struct Rendered {
    pub(crate) text: String,
    pub(crate) is_error: bool,
    /// Images, for a model that takes them.
    pub(crate) images: Vec<ContentPart>,
}

/// Renders a successful call (which may still be an `isError` result).
pub(crate) fn render(output: &ToolOutput) -> Rendered {
    let mut parts: Vec<String> = Vec::new();
    let mut images = Vec::new();
    for block in &output.content {
        match block {
            ContentBlock::Text(t) => parts.push(t.text.clone()),
            ContentBlock::Image(i) => {
                parts.push(format!(
                    "[image: {}, {} bytes]",
                    i.mime_type,
                    i.data.len() * 3 / 4
                ));
                images.push(ContentPart::image_base64(&i.mime_type, &i.data));
            }
            ContentBlock::Audio(a) => parts.push(format!(
                "[audio: {}, {} bytes]",
                a.mime_type,
                a.data.len() * 3 / 4
            )),
            ContentBlock::ResourceLink(l) => {
                parts.push(format!("[resource link: {} ({})]", l.uri, l.name))
            }
            ContentBlock::Resource(r) => parts.push(match &r.resource {
                ResourceContents::Text(t) => format!("[resource {}]\n{}", t.uri, t.text),
                ResourceContents::Blob(b) => format!(
                    "[resource {}: {}, {} bytes]",
                    b.uri,
                    b.mime_type.as_deref().unwrap_or("binary"),
                    b.blob.len() * 3 / 4
                ),
            }),
        }
    }
    let mut text = parts.join("\n");
    if let Some(structured) = output.structured() {
        // Servers usually repeat structured output as text; add it only
        // when the text does not already carry the same value.
        let repeated = serde_json::from_str::<Value>(&text).is_ok_and(|v| &v == structured);
        if !repeated {
            let json = structured.to_string();
            if text.is_empty() {
                text = json;
            } else {
                text.push_str("\n[structured] ");
                text.push_str(&json);
            }
        }
    }
    let is_error = output.is_error();
    if is_error {
        text = format!("Error from the tool: {text}");
    }
    Rendered {
        text: cut(text),
        is_error,
        images,
    }
}

/// Renders a call that did not produce a result.
pub(crate) fn render_error(error: &Error) -> Rendered {
    let text = match error {
        Error::ServerRestarted => format!(
            "Error: the server restarted during the call, so it may or may not have run (it was not sent again: check before retrying): {error}"
        ),
        _ => format!("Error: {error}"),
    };
    Rendered {
        text: cut(text),
        is_error: true,
        images: Vec::new(),
    }
}

fn cut(mut text: String) -> String {
    if text.len() <= MAX_RESULT_BYTES {
        return text;
    }
    let mut end = MAX_RESULT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let left_out = text.len() - end;
    text.truncate(end);
    text.push_str(&format!("\n[... {left_out} more bytes left out]"));
    text
}
