//! A [`FormFiller`] backed by a chat model: the form becomes a function the
//! model must call, so its answer arrives as arguments shaped by the form's
//! own schema (and is validated against it like any other answer).

use futures_util::future::BoxFuture;
use serde_json::Value;

use super::callback::{FillError, FormFiller, FormPrompt};
use crate::model::{ChatMessage, ChatRequest, ChatTool, ChatToolChoice, ModelClient};
use crate::protocol::JsonObject;

/// The function the model is asked to call.
const SUBMIT: &str = "submit_form";

/// Fills forms by asking an OpenAI-compatible model.
#[derive(Debug, Clone)]
pub struct ModelFiller {
    client: ModelClient,
    instructions: String,
}

impl ModelFiller {
    /// A filler over `client`.
    pub fn new(client: ModelClient) -> Self {
        ModelFiller {
            client,
            instructions: "You fill in forms that tools send on the user's behalf. Call \
                submit_form with a value for every field you can answer truthfully from the \
                message; keep the prefilled values unless the message says otherwise."
                .into(),
        }
    }

    /// Replaces the system instructions.
    pub fn instructions(mut self, text: impl Into<String>) -> Self {
        self.instructions = text.into();
        self
    }

    fn request(&self, form: &FormPrompt) -> ChatRequest {
        let schema = serde_json::to_value(&form.schema).unwrap_or(Value::Null);
        let prefilled = Value::Object(form.prefilled.clone());
        let mut request = ChatRequest::new(self.client.endpoint().model.clone())
            .message(ChatMessage::system(self.instructions.clone()))
            .message(ChatMessage::user(format!(
                "The MCP server {:?} asks:\n{}\n\nPrefilled values: {prefilled}",
                form.server, form.message
            )));
        request.tools = vec![ChatTool {
            name: SUBMIT.into(),
            description: Some("Submit the form's values".into()),
            parameters: schema,
        }];
        request.tool_choice = Some(ChatToolChoice::Function(SUBMIT.into()));
        request.temperature = Some(0.0);
        request
    }
}

impl FormFiller for ModelFiller {
    fn fill(&self, form: FormPrompt) -> BoxFuture<'static, Result<JsonObject, FillError>> {
        let request = self.request(&form);
        let client = self.client.clone();
        Box::pin(async move {
            let reply = client
                .chat(&request)
                .await
                .map_err(|e| FillError(client.redact(&e.to_string())))?;
            // The function call, else a JSON object in the text (some
            // servers ignore tool_choice).
            let values = match reply.tool_calls.iter().find(|c| c.name == SUBMIT) {
                Some(call) => call.parsed.clone(),
                None => serde_json::from_str::<Value>(strip_fences(&reply.text)).ok(),
            };
            match values {
                Some(Value::Object(map)) => Ok(map),
                _ => Err(FillError(
                    "the model did not answer the form with a JSON object".into(),
                )),
            }
        })
    }
}

fn strip_fences(text: &str) -> &str {
    let t = text.trim();
    let t = t
        .strip_prefix("```json")
        .or_else(|| t.strip_prefix("```"))
        .unwrap_or(t);
    t.strip_suffix("```").unwrap_or(t).trim()
}

/// A policy from a config file's `elicitation` table. Rules that `fill`
/// get a [`ModelFiller`] over the endpoint the environment names
/// (`OPENAI_BASE_URL`, `OPENAI_API_KEY`, `SWITCHBOARD_MODEL`, read through
/// `env`); without one, such a table is an error, not a silent decline.
pub fn policy_from_table(
    table: &Value,
    env: impl Fn(&str) -> Option<String>,
) -> crate::Result<super::Policy> {
    use super::{ElicitationConfig, MissingRequired, PolicyConfig, RuleAction};
    let elicitation: ElicitationConfig = serde_json::from_value(table.clone())
        .map_err(|e| crate::Error::config_field("elicitation", e.to_string()))?;
    let fills = elicitation.default == RuleAction::Fill
        || elicitation.missing_required == MissingRequired::Fill
        || elicitation
            .rules
            .iter()
            .any(|r| r.action == RuleAction::Fill);
    let config = PolicyConfig {
        elicitation,
        ..PolicyConfig::default()
    };
    let mut builder = super::Policy::builder(config);
    if fills {
        let endpoint = crate::sampling::ModelConfig::default()
            .endpoint(&env)
            .map_err(|e| e.within("elicitation.model"))?;
        builder = builder.filler(ModelFiller::new(ModelClient::new(endpoint)?));
    }
    builder.build().map_err(crate::Error::from)
}
