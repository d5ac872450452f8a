//! How a [`Registry`] answers: lookups by name or URI, required prompt
//! arguments, completion from lists or functions, and pages.

use std::collections::HashMap;

use serde_json::Map;

use super::{Completer, CompletionRef, Registry};
use crate::protocol::{
    CallToolRequestParams, CallToolResult, CompleteRequestParams, CompleteResult, Completion,
    GetPromptRequestParams, GetPromptResult, GetSkillRequestParams, GetSkillResult, Implementation,
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListSkillsResult,
    ListToolsResult, PaginatedRequestParams, PromptsCapability, ReadResourceRequestParams,
    ReadResourceResult, Reference, ResourcesCapability, ServerCapabilities, TaskSupport, Tool,
    ToolsCapability, SKILLS_EXTENSION, TASKS_EXTENSION,
};
use crate::server::{paginate, Context, HandlerFuture, ServerError, ServerHandler};

/// At most this many values per completion, as the spec allows.
const MAX_COMPLETIONS: usize = 100;

fn ready<'a, T: Send + 'a>(value: Result<T, ServerError>) -> HandlerFuture<'a, T> {
    Box::pin(std::future::ready(value))
}

impl Registry {
    fn page<T: Clone>(
        &self,
        items: &[T],
        params: &PaginatedRequestParams,
    ) -> Result<(Vec<T>, Option<String>), ServerError> {
        paginate(items, params.cursor.as_deref(), self.page_size)
    }

    fn has_resources(&self) -> bool {
        !self.resources.is_empty() || !self.templates.is_empty()
    }
}

impl ServerHandler for Registry {
    fn info(&self) -> Implementation {
        self.info.clone()
    }

    fn instructions(&self) -> Option<String> {
        self.instructions.clone()
    }

    fn capabilities(&self) -> ServerCapabilities {
        let listed = Some(true);
        ServerCapabilities {
            tools: (!self.tools.is_empty()).then(|| ToolsCapability {
                list_changed: listed,
                ..Default::default()
            }),
            resources: self.has_resources().then(|| ResourcesCapability {
                subscribe: Some(true),
                list_changed: listed,
                ..Default::default()
            }),
            prompts: (!self.prompts.is_empty()).then(|| PromptsCapability {
                list_changed: listed,
                ..Default::default()
            }),
            extensions: {
                let mut on = std::collections::BTreeMap::new();
                if !self.skills.is_empty() {
                    on.insert(SKILLS_EXTENSION.to_owned(), Map::new());
                }
                if !self.task_tools.is_empty() {
                    on.insert(TASKS_EXTENSION.to_owned(), Map::new());
                }
                (!on.is_empty()).then_some(on)
            },
            completions: Some(Map::new()),
            logging: Some(Map::new()),
            ..Default::default()
        }
    }

    fn list_tools(
        &self,
        _cx: Context,
        params: PaginatedRequestParams,
    ) -> HandlerFuture<'_, ListToolsResult> {
        let tools: Vec<_> = self.tools.iter().map(|(t, _)| t.clone()).collect();
        ready(
            self.page(&tools, &params)
                .map(|(tools, next_cursor)| ListToolsResult {
                    tools,
                    next_cursor,
                    ..Default::default()
                }),
        )
    }

    fn task_support(&self, name: &str) -> TaskSupport {
        self.task_tools
            .get(name)
            .cloned()
            .unwrap_or(TaskSupport::Forbidden)
    }

    fn tool(&self, name: &str) -> Option<Tool> {
        self.tools
            .iter()
            .find(|(t, _)| t.name == name)
            .map(|(t, _)| t.clone())
    }

    fn call_tool(
        &self,
        cx: Context,
        params: CallToolRequestParams,
    ) -> HandlerFuture<'_, CallToolResult> {
        let Some((_, handler)) = self.tools.iter().find(|(t, _)| t.name == params.name) else {
            let e = ServerError::invalid_params(format!("unknown tool: {}", params.name));
            return ready(Err(e));
        };
        handler(cx, params.arguments.unwrap_or_default())
    }

    fn list_resources(
        &self,
        _cx: Context,
        params: PaginatedRequestParams,
    ) -> HandlerFuture<'_, ListResourcesResult> {
        let all: Vec<_> = self.resources.iter().map(|(r, _)| r.clone()).collect();
        ready(
            self.page(&all, &params)
                .map(|(resources, next_cursor)| ListResourcesResult {
                    resources,
                    next_cursor,
                    ..Default::default()
                }),
        )
    }

    fn list_resource_templates(
        &self,
        _cx: Context,
        params: PaginatedRequestParams,
    ) -> HandlerFuture<'_, ListResourceTemplatesResult> {
        let all: Vec<_> = self.templates.iter().map(|t| t.template.clone()).collect();
        ready(
            self.page(&all, &params)
                .map(
                    |(resource_templates, next_cursor)| ListResourceTemplatesResult {
                        resource_templates,
                        next_cursor,
                        ..Default::default()
                    },
                ),
        )
    }

    fn read_resource(
        &self,
        cx: Context,
        params: ReadResourceRequestParams,
    ) -> HandlerFuture<'_, ReadResourceResult> {
        let uri = params.uri;
        if let Some((_, contents)) = self.resources.iter().find(|(r, _)| r.uri == uri) {
            return ready(Ok(ReadResourceResult {
                contents: contents.clone(),
                ..Default::default()
            }));
        }
        let found = self
            .templates
            .iter()
            .find_map(|t| t.pattern.matches(&uri).map(|vars| (t, vars)));
        match found {
            Some((template, vars)) => (template.read)(cx, uri, vars),
            None => ready(Err(ServerError::resource_not_found(uri))),
        }
    }

    fn subscribable(&self, uri: &str) -> bool {
        self.resources.iter().any(|(r, _)| r.uri == uri)
            || self
                .templates
                .iter()
                .any(|t| t.pattern.matches(uri).is_some())
    }

    fn list_prompts(
        &self,
        _cx: Context,
        params: PaginatedRequestParams,
    ) -> HandlerFuture<'_, ListPromptsResult> {
        let all: Vec<_> = self.prompts.iter().map(|(p, _)| p.clone()).collect();
        ready(
            self.page(&all, &params)
                .map(|(prompts, next_cursor)| ListPromptsResult {
                    prompts,
                    next_cursor,
                    ..Default::default()
                }),
        )
    }

    fn get_prompt(
        &self,
        cx: Context,
        params: GetPromptRequestParams,
    ) -> HandlerFuture<'_, GetPromptResult> {
        let Some((prompt, handler)) = self.prompts.iter().find(|(p, _)| p.name == params.name)
        else {
            let e = ServerError::invalid_params(format!("unknown prompt: {}", params.name));
            return ready(Err(e));
        };
        let args = params.arguments.unwrap_or_default();
        let missing = prompt
            .arguments
            .iter()
            .flatten()
            .find(|a| a.required == Some(true) && !args.contains_key(&a.name));
        if let Some(missing) = missing {
            let e = ServerError::invalid_params(format!(
                "missing required argument {:?}",
                missing.name
            ));
            return ready(Err(e));
        }
        let run = handler(cx, args);
        let description = prompt.description.clone();
        Box::pin(async move {
            let mut result = run.await?;
            if result.description.is_none() {
                result.description = description;
            }
            Ok(result)
        })
    }

    fn complete(
        &self,
        cx: Context,
        params: CompleteRequestParams,
    ) -> HandlerFuture<'_, CompleteResult> {
        let target = match params.reference {
            Reference::Prompt(p) => {
                if !self.prompts.iter().any(|(known, _)| known.name == p.name) {
                    let e = ServerError::invalid_params(format!("unknown prompt: {}", p.name));
                    return ready(Err(e));
                }
                CompletionRef::Prompt(p.name)
            }
            Reference::Resource(r) => CompletionRef::Resource(r.uri),
        };
        let typed = params.argument.value;
        let context: HashMap<String, String> = params
            .context
            .and_then(|c| c.arguments)
            .map(|a| a.into_iter().collect())
            .unwrap_or_default();
        let completer = self
            .completers
            .get(&(target, params.argument.name))
            .cloned();
        Box::pin(async move {
            let mut values = match completer {
                Some(Completer::Static(all)) => {
                    all.into_iter().filter(|v| v.starts_with(&typed)).collect()
                }
                Some(Completer::Dynamic(f)) => f(cx, typed, context).await,
                None => Vec::new(),
            };
            let total = values.len();
            values.truncate(MAX_COMPLETIONS);
            Ok(CompleteResult {
                completion: Completion {
                    values,
                    total: Some(total as u64),
                    has_more: Some(total > MAX_COMPLETIONS),
                    ..Default::default()
                },
                ..Default::default()
            })
        })
    }

    fn list_skills(
        &self,
        _cx: Context,
        params: PaginatedRequestParams,
    ) -> HandlerFuture<'_, ListSkillsResult> {
        ready(
            self.page(&self.skills, &params)
                .map(|(skills, next_cursor)| ListSkillsResult {
                    skills,
                    next_cursor,
                    ..Default::default()
                }),
        )
    }

    fn get_skill(
        &self,
        _cx: Context,
        params: GetSkillRequestParams,
    ) -> HandlerFuture<'_, GetSkillResult> {
        ready(match self.skills.iter().find(|s| s.uri == params.uri) {
            Some(skill) => Ok(GetSkillResult {
                skill: skill.clone(),
                extra: Map::new(),
            }),
            None => Err(ServerError::invalid_params(format!(
                "unknown skill: {}",
                params.uri
            ))),
        })
    }
}
