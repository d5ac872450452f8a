//! An [`Agent`] from its [`AgentDefinition`]: the fleet from its servers,
//! the model from its `[model]` table and the environment.

use std::sync::Arc;

use super::definition::{AgentDefinition, ModelSettings, Provider};
use super::model::ChatModel;
use super::planner::Planner;
use super::run::Agent;
use crate::model::{ChatToolChoice, MaxTokensField, ModelClient};
use crate::sampling::ModelConfig;
use crate::{Fleet, Result};

impl Agent {
    /// Starts the definition's servers and connects its model. Servers
    /// that fail to start are reported in [`Fleet::health`] and retried on
    /// use; a model that cannot be configured (no model name, a bad key)
    /// is an error naming the missing setting.
    pub async fn from_definition(definition: &AgentDefinition) -> Result<Agent> {
        let model = model_for(&definition.model, |name| std::env::var(name).ok())
            .map_err(|e| e.within("model").in_file(&definition.origin))?;
        Self::from_definition_with_model(definition, model).await
    }

    /// As [`Agent::from_definition`], with the model given (a planner, a
    /// model of your own).
    pub async fn from_definition_with_model(
        definition: &AgentDefinition,
        model: Arc<dyn ChatModel>,
    ) -> Result<Agent> {
        let fleet = Fleet::builder()
            .config(definition.servers.clone())
            .build()
            .await?;
        let mut b = Agent::builder_arc(fleet, model)
            .name(definition.name.clone())
            .tools(definition.tools.clone())
            .limits(definition.limits);
        if let Some(p) = &definition.system_prompt {
            b = b.system_prompt(p.clone());
        }
        if let Some(t) = definition.model.temperature {
            b = b.temperature(t);
        }
        if let Some(n) = definition.model.max_tokens {
            b = b.max_tokens(n);
        }
        if !definition.model.extra.is_empty() {
            b = b.request_extra(definition.model.extra.clone());
        }
        match definition.model.tool_choice.as_deref() {
            Some("required") => b = b.tool_choice(ChatToolChoice::Required),
            Some("none") => b = b.tool_choice(ChatToolChoice::None),
            _ => {}
        }
        Ok(b.vision(definition.model.vision.unwrap_or(false)).build())
    }
}

/// The model a `[model]` table names, reading variables through `get`.
pub fn model_for(
    settings: &ModelSettings,
    get: impl Fn(&str) -> Option<String>,
) -> Result<Arc<dyn ChatModel>> {
    if settings.provider == Provider::Planner {
        return Ok(Arc::new(Planner::new()));
    }
    // The same rules as a config file's `sampling` model: unset values
    // come from the environment.
    let config = ModelConfig {
        base_url: settings.base_url.clone(),
        api_key_env: settings.api_key_env.clone(),
        model: settings.model.clone(),
        models: Vec::new(),
        max_tokens_field: match settings.max_tokens_field.as_deref() {
            Some("max_completion_tokens") => MaxTokensField::MaxCompletionTokens,
            _ => MaxTokensField::MaxTokens,
        },
        timeout_secs: settings.timeout_secs.map(|s| s as f64),
    };
    let endpoint = config.endpoint(&get)?;
    let client = ModelClient::new(endpoint)?;
    if settings.stream == Some(false) {
        return Ok(Arc::new(super::model::Unstreamed(client)));
    }
    Ok(Arc::new(client))
}
