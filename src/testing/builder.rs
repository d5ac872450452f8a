//! Declaring a test server in JSON-friendly terms: its tools, resources,
//! templates, prompts, completions and faults, gathered by
//! [`TestServerBuilder`] into a [`Registry`] and a [`Server`] of the core.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use serde_json::{json, Map, Value};

use super::context::{ToolContext, ToolError};
use super::faults::{Fault, FaultRule, Faults};
use super::shapes::{contents, tool_result};
use super::TestServer;
use crate::protocol::{
    codes, CallToolResult, Era, ErrorObject, GetPromptResult, Implementation, Prompt,
    PromptArgument, ReadResourceResult, Resource, ResourceTemplate, Tool,
};
use crate::server::{CompletionRef, Eras, Registry, Server, ServerError};

/// A tool's description, as `tools/list` shows it.
#[derive(Debug, Clone)]
pub struct ToolDef {
    json: Map<String, Value>,
}

impl ToolDef {
    /// A tool named `name` taking any object (`{"type": "object"}`).
    pub fn new(name: impl Into<String>) -> Self {
        let mut json = Map::new();
        json.insert("name".into(), Value::String(name.into()));
        json.insert("inputSchema".into(), json!({"type": "object"}));
        ToolDef { json }
    }

    /// Sets the human-readable title.
    pub fn title(self, title: impl Into<String>) -> Self {
        self.set("title", Value::String(title.into()))
    }

    /// Sets the description.
    pub fn description(self, text: impl Into<String>) -> Self {
        self.set("description", Value::String(text.into()))
    }

    /// Sets the JSON Schema of the arguments.
    pub fn input_schema(self, schema: Value) -> Self {
        self.set("inputSchema", schema)
    }

    /// Sets the JSON Schema of `structuredContent`.
    pub fn output_schema(self, schema: Value) -> Self {
        self.set("outputSchema", schema)
    }

    /// Sets the annotations (`readOnlyHint`, ...).
    pub fn annotations(self, annotations: Value) -> Self {
        self.set("annotations", annotations)
    }

    /// Sets any other field of the tool object verbatim.
    pub fn set(mut self, key: &str, value: Value) -> Self {
        self.json.insert(key.into(), value);
        self
    }

    /// The tool's name.
    pub fn name(&self) -> &str {
        self.json.get("name").and_then(Value::as_str).unwrap_or("")
    }

    /// The typed tool.
    ///
    /// # Panics
    /// When a field set by hand does not fit the MCP `Tool` schema (a
    /// mistake in the test, found when the server is built).
    fn to_tool(&self) -> Tool {
        serde_json::from_value(Value::Object(self.json.clone())).unwrap_or_else(|e| {
            panic!(
                "ToolDef {:?} does not fit the Tool schema: {e}",
                self.name()
            )
        })
    }
}

/// A prompt's description, as `prompts/list` shows it.
#[derive(Debug, Clone)]
pub struct PromptDef {
    name: String,
    title: Option<String>,
    description: Option<String>,
    arguments: Vec<(String, bool, Option<String>)>,
}

impl PromptDef {
    /// A prompt named `name` with no arguments.
    pub fn new(name: impl Into<String>) -> Self {
        PromptDef {
            name: name.into(),
            title: None,
            description: None,
            arguments: Vec::new(),
        }
    }

    /// Sets the human-readable title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Adds an argument; `prompts/get` without a required one is -32602.
    pub fn argument(mut self, name: impl Into<String>, required: bool) -> Self {
        self.arguments.push((name.into(), required, None));
        self
    }

    /// Adds a described argument.
    pub fn argument_described(
        mut self,
        name: impl Into<String>,
        required: bool,
        description: impl Into<String>,
    ) -> Self {
        self.arguments
            .push((name.into(), required, Some(description.into())));
        self
    }

    /// The prompt's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn to_prompt(&self) -> Prompt {
        let arguments = self
            .arguments
            .iter()
            .map(|(name, required, description)| PromptArgument {
                name: name.clone(),
                required: Some(*required),
                description: description.clone(),
                ..Default::default()
            })
            .collect();
        Prompt {
            name: self.name.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            arguments: Some(arguments),
            ..Default::default()
        }
    }
}

/// The content of a static resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceBody {
    /// Text, sent as `text`.
    Text(String),
    /// Bytes, sent base64-encoded as `blob`.
    Blob(Vec<u8>),
}

/// A resource's description, as `resources/list` shows it.
#[derive(Debug, Clone)]
pub struct ResourceDef {
    uri: String,
    name: String,
    mime_type: Option<String>,
    description: Option<String>,
}

impl ResourceDef {
    /// A resource at `uri`, named after it.
    pub fn new(uri: impl Into<String>) -> Self {
        let uri = uri.into();
        ResourceDef {
            name: uri.clone(),
            uri,
            mime_type: None,
            description: None,
        }
    }

    /// Sets the name.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the MIME type.
    pub fn mime_type(mut self, mime: impl Into<String>) -> Self {
        self.mime_type = Some(mime.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    fn to_resource(&self) -> Resource {
        Resource {
            uri: self.uri.clone(),
            name: self.name.clone(),
            mime_type: self.mime_type.clone(),
            description: self.description.clone(),
            ..Default::default()
        }
    }
}

/// A resource template's description, as `resources/templates/list` shows it.
#[derive(Debug, Clone)]
pub struct TemplateDef {
    uri_template: String,
    name: String,
    mime_type: Option<String>,
    description: Option<String>,
}

impl TemplateDef {
    /// A template such as `greet://{name}` (RFC 6570 level 1).
    pub fn new(uri_template: impl Into<String>, name: impl Into<String>) -> Self {
        TemplateDef {
            uri_template: uri_template.into(),
            name: name.into(),
            mime_type: None,
            description: None,
        }
    }

    /// Sets the MIME type of what it produces.
    pub fn mime_type(mut self, mime: impl Into<String>) -> Self {
        self.mime_type = Some(mime.into());
        self
    }

    /// Sets the description.
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    fn to_template(&self) -> ResourceTemplate {
        ResourceTemplate {
            uri_template: self.uri_template.clone(),
            name: self.name.clone(),
            mime_type: self.mime_type.clone(),
            description: self.description.clone(),
            ..Default::default()
        }
    }
}

/// Builds a [`TestServer`]; start with [`TestServer::builder`].
pub struct TestServerBuilder {
    info: Implementation,
    registry: Registry,
    eras: Eras,
    ttl_ms: u64,
    faults: Faults,
}

impl TestServerBuilder {
    pub(crate) fn new(name: impl Into<String>) -> Self {
        let info = Implementation::new(name, "0.0.0");
        TestServerBuilder {
            registry: Registry::new(info.clone()),
            info,
            eras: Eras::Both,
            ttl_ms: 60_000,
            faults: Faults::default(),
        }
    }

    /// Sets the version reported in `serverInfo`.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.info.version = version.into();
        self
    }

    /// Sets the instructions given by `initialize` and `server/discover`.
    pub fn instructions(mut self, text: impl Into<String>) -> Self {
        self.registry = self.registry.instructions(text);
        self
    }

    /// Adds a tool. The handler returns a whole `CallToolResult` (an object
    /// with `content`), or any other value, which is sent as its JSON text
    /// plus `structuredContent`. `Err` becomes an `isError: true` result
    /// (see [`ToolError`]), as does a panic. A later tool with the same
    /// name replaces it.
    ///
    /// # Panics
    /// When `def` has a field that does not fit the MCP `Tool` schema.
    pub fn tool<F, Fut>(mut self, def: ToolDef, handler: F) -> Self
    where
        F: Fn(ToolContext, Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, ToolError>> + Send + 'static,
    {
        let name: Arc<str> = def.name().into();
        let handler = Arc::new(handler);
        self.registry = self.registry.tool(def.to_tool(), move |cx, args| {
            let (handler, name) = (handler.clone(), name.clone());
            async move {
                let modern = cx.era() == Era::Modern;
                let run = handler(ToolContext::new(cx), Value::Object(args));
                // A panicking handler is a failed tool, not a dead connection.
                let outcome = AssertUnwindSafe(run)
                    .catch_unwind()
                    .await
                    .unwrap_or_else(|_| Err(ToolError::Failed(format!("tool {name} panicked"))));
                match outcome {
                    Ok(value) => {
                        serde_json::from_value::<CallToolResult>(tool_result(value, modern))
                            .map_err(|e| {
                                ServerError::internal(format!(
                                "tool {name} returned a value that is not a CallToolResult: {e}"
                            ))
                            })
                    }
                    Err(ToolError::Protocol(err)) => Err(ServerError::Protocol(err)),
                    Err(other) => Ok(CallToolResult::error(other.to_string())),
                }
            }
        });
        self
    }

    /// Adds a static resource named after its URI.
    pub fn resource(
        self,
        uri: impl Into<String>,
        mime_type: impl Into<String>,
        body: ResourceBody,
    ) -> Self {
        self.resource_with(ResourceDef::new(uri).mime_type(mime_type), body)
    }

    /// Adds a static resource with a full description.
    pub fn resource_with(mut self, def: ResourceDef, body: ResourceBody) -> Self {
        let read = contents(&def.uri, def.mime_type.as_deref(), &body);
        self.registry = self.registry.resource(def.to_resource(), vec![read]);
        self
    }

    /// Serves a skill (the skills extension, SEP-2640): the entry is listed
    /// by `skills/list` and returned by `skills/get`, and the server
    /// declares `io.modelcontextprotocol/skills`. The entry is served as
    /// given, so it can lie about its files; serve the files themselves as
    /// resources (a template lets a test count the reads).
    pub fn skill(mut self, entry: crate::protocol::Skill) -> Self {
        self.registry = self.registry.skill(entry);
        self
    }

    /// Adds a resource template such as `greet://{name}`. The handler gets
    /// the URI read and the variables matched; `Err` means "not found".
    pub fn template<F, Fut>(
        self,
        uri_template: impl Into<String>,
        name: impl Into<String>,
        handler: F,
    ) -> Self
    where
        F: Fn(String, HashMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ResourceBody, String>> + Send + 'static,
    {
        self.template_with(TemplateDef::new(uri_template, name), handler)
    }

    /// Adds a resource template with a full description.
    pub fn template_with<F, Fut>(mut self, def: TemplateDef, handler: F) -> Self
    where
        F: Fn(String, HashMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ResourceBody, String>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let mime = def.mime_type.clone();
        self.registry = self
            .registry
            .resource_template(def.to_template(), move |cx, uri, vars| {
                let (handler, mime) = (handler.clone(), mime.clone());
                async move {
                    match handler(uri.clone(), vars).await {
                        Ok(body) => Ok(ReadResourceResult {
                            contents: vec![contents(&uri, mime.as_deref(), &body)],
                            ..Default::default()
                        }),
                        // Not found, with the handler's own words.
                        Err(why) => Err(ServerError::Protocol(ErrorObject {
                            code: match cx.era() {
                                Era::Modern => codes::INVALID_PARAMS,
                                Era::Handshake => codes::RESOURCE_NOT_FOUND_LEGACY,
                            },
                            message: why,
                            data: Some(json!({ "uri": uri })),
                        })),
                    }
                }
            });
        self
    }

    /// Adds a prompt. The handler gets the arguments and returns either the
    /// `messages` array or a whole `GetPromptResult` object; `Err` becomes a
    /// -32603 error. Missing required arguments are refused before it runs.
    pub fn prompt<F, Fut>(mut self, def: PromptDef, handler: F) -> Self
    where
        F: Fn(HashMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, String>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        self.registry = self.registry.prompt(def.to_prompt(), move |_cx, args| {
            let handler = handler.clone();
            async move {
                let value = handler(args.into_iter().collect())
                    .await
                    .map_err(ServerError::Internal)?;
                let value = match value {
                    Value::Array(messages) => Value::Object(Map::from_iter([(
                        "messages".to_owned(),
                        Value::Array(messages),
                    )])),
                    other => other,
                };
                serde_json::from_value::<GetPromptResult>(value).map_err(|e| {
                    ServerError::internal(format!("the prompt is not a GetPromptResult: {e}"))
                })
            }
        });
        self
    }

    /// Completes `argument` of `target` from a fixed list: the values that
    /// start with what was typed.
    pub fn completion_values<I, S>(
        mut self,
        target: CompletionRef,
        argument: &str,
        values: I,
    ) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.registry = self.registry.completion_values(target, argument, values);
        self
    }

    /// Completes `argument` of `target` with a function of the typed value
    /// and the other arguments already given (`context.arguments`).
    pub fn completer<F, Fut>(mut self, target: CompletionRef, argument: &str, complete: F) -> Self
    where
        F: Fn(String, HashMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<String>> + Send + 'static,
    {
        let complete = Arc::new(complete);
        self.registry = self
            .registry
            .completer(target, argument, move |_cx, value, context| {
                complete(value, context)
            });
        self
    }

    /// Splits list results into pages of `n` items with opaque cursors.
    pub fn page_size(mut self, n: usize) -> Self {
        self.registry = self.registry.page_size(n);
        self
    }

    /// Chooses which protocol eras the server speaks (default: both).
    pub fn eras(mut self, eras: Eras) -> Self {
        self.eras = eras;
        self
    }

    /// Sets `ttlMs` on cacheable results of the modern era (default 60 000).
    pub fn ttl_ms(mut self, ttl: u64) -> Self {
        self.ttl_ms = ttl;
        self
    }

    /// Makes every call of tool `name` misbehave with `fault`.
    pub fn tool_fault(mut self, name: impl Into<String>, fault: Fault) -> Self {
        self.faults
            .tools
            .insert(name.into(), FaultRule::always(fault));
        self
    }

    /// Makes only the first `times` calls of tool `name` misbehave, counted
    /// across all connections (to test restarts and retries).
    pub fn tool_fault_times(mut self, name: impl Into<String>, fault: Fault, times: usize) -> Self {
        self.faults
            .tools
            .insert(name.into(), FaultRule::times(fault, times));
        self
    }

    /// Makes every request of `method` (e.g. `server/discover`) misbehave.
    pub fn method_fault(mut self, method: impl Into<String>, fault: Fault) -> Self {
        self.faults
            .methods
            .insert(method.into(), FaultRule::always(fault));
        self
    }

    /// Finishes the server.
    pub fn build(self) -> TestServer {
        let tools = self.registry.tool_names().count();
        let registry = self.registry.with_info(self.info);
        let mut server = Server::builder(registry)
            .eras(self.eras)
            .ttl_ms(i64::try_from(self.ttl_ms).unwrap_or(i64::MAX));
        if !self.faults.is_empty() {
            server = server.interceptor(self.faults);
        }
        TestServer {
            server: server.build(),
            eras: self.eras,
            tools,
        }
    }
}
