//! An [`Agent`] from its [`AgentDefinition`]: the fleet from its servers,
//! the model from its `[model]` table and the environment.

use std::sync::Arc;
use std::time::Duration;

use super::definition::{AgentDefinition, ModelSettings, Provider};
use super::model::ChatModel;
use super::planner::Planner;
use super::run::Agent;
use crate::model::{ApiKey, MaxTokensField, ModelClient, ModelEndpoint};
use crate::{Error, Fleet, Result};

impl Agent {
    /// Starts the definition's servers and connects its model. Servers
    /// that fail to start are reported in [`Fleet::health`] and retried on
    /// use; a model that cannot be configured (no model name, a bad key)
    /// is an error naming the missing setting.
    pub async fn from_definition(definition: &AgentDefinition) -> Result<Agent> {
        let model = model_for(&definition.model, |name| std::env::var(name).ok())
            .map_err(|e| Error::Config(format!("{}: model: {e}", definition.origin)))?;
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
    let nonempty = |name: &str| get(name).filter(|v| !v.trim().is_empty());
    let model = settings
        .model
        .clone()
        .or_else(|| nonempty("SWITCHBOARD_MODEL"))
        .ok_or_else(|| {
            Error::Config(
                "no model name: set model.model or SWITCHBOARD_MODEL (and OPENAI_BASE_URL, OPENAI_API_KEY)".into(),
            )
        })?;
    let base_url = settings
        .base_url
        .clone()
        .or_else(|| nonempty("OPENAI_BASE_URL"))
        .unwrap_or_else(|| "https://api.openai.com/v1".into());
    let key_var = settings.api_key_env.as_deref().unwrap_or("OPENAI_API_KEY");
    let mut endpoint = ModelEndpoint::new(base_url, model);
    if let Some(key) = nonempty(key_var) {
        endpoint.api_key = ApiKey::new(key);
    }
    if settings.max_tokens_field.as_deref() == Some("max_completion_tokens") {
        endpoint = endpoint.max_tokens_field(MaxTokensField::MaxCompletionTokens);
    }
    if let Some(secs) = settings.timeout_secs {
        endpoint = endpoint.timeout(Duration::from_secs(secs.max(1)));
    }
    let client = ModelClient::new(endpoint).map_err(|e| Error::Config(e.to_string()))?;
    if settings.stream == Some(false) {
        return Ok(Arc::new(super::model::Unstreamed(client)));
    }
    Ok(Arc::new(client))
}
