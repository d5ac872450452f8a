//! Declaring a test server: its tools, resources, templates, prompts,
//! completions and faults, gathered by [`TestServerBuilder`] into an
//! immutable [`Spec`] that every connection shares.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use serde_json::{json, Map, Value};

use super::context::{ToolContext, ToolError};
use super::eras::{Eras, StateStore};
use super::faults::{Fault, FaultRule};
use super::uri_template::UriTemplate;
use super::{Hub, TestServer};

pub(crate) type ToolFn =
    Arc<dyn Fn(ToolContext, Value) -> BoxFuture<'static, Result<Value, ToolError>> + Send + Sync>;
pub(crate) type TemplateFn = Arc<
    dyn Fn(String, HashMap<String, String>) -> BoxFuture<'static, Result<ResourceBody, String>>
        + Send
        + Sync,
>;
pub(crate) type PromptFn =
    Arc<dyn Fn(HashMap<String, String>) -> BoxFuture<'static, Result<Value, String>> + Send + Sync>;
pub(crate) type CompleteFn =
    Arc<dyn Fn(String, HashMap<String, String>) -> BoxFuture<'static, Vec<String>> + Send + Sync>;

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

    pub(crate) fn to_json(&self) -> Value {
        Value::Object(self.json.clone())
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

    pub(crate) fn required(&self) -> impl Iterator<Item = &str> {
        self.arguments.iter().filter(|a| a.1).map(|a| a.0.as_str())
    }

    pub(crate) fn prompt_description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("name".into(), Value::String(self.name.clone()));
        if let Some(t) = &self.title {
            out.insert("title".into(), Value::String(t.clone()));
        }
        if let Some(d) = &self.description {
            out.insert("description".into(), Value::String(d.clone()));
        }
        let args: Vec<Value> = self
            .arguments
            .iter()
            .map(|(name, required, description)| {
                let mut a = json!({"name": name, "required": required});
                if let (Some(d), Some(obj)) = (description, a.as_object_mut()) {
                    obj.insert("description".into(), Value::String(d.clone()));
                }
                a
            })
            .collect();
        out.insert("arguments".into(), Value::Array(args));
        Value::Object(out)
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

    pub(crate) fn uri(&self) -> &str {
        &self.uri
    }

    pub(crate) fn mime(&self) -> Option<&str> {
        self.mime_type.as_deref()
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut v = json!({"uri": self.uri, "name": self.name});
        if let Some(obj) = v.as_object_mut() {
            if let Some(m) = &self.mime_type {
                obj.insert("mimeType".into(), Value::String(m.clone()));
            }
            if let Some(d) = &self.description {
                obj.insert("description".into(), Value::String(d.clone()));
            }
        }
        v
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

    pub(crate) fn mime(&self) -> Option<&str> {
        self.mime_type.as_deref()
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut v = json!({"uriTemplate": self.uri_template, "name": self.name});
        if let Some(obj) = v.as_object_mut() {
            if let Some(m) = &self.mime_type {
                obj.insert("mimeType".into(), Value::String(m.clone()));
            }
            if let Some(d) = &self.description {
                obj.insert("description".into(), Value::String(d.clone()));
            }
        }
        v
    }
}

/// What `completion/complete` refers to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CompletionRef {
    /// An argument of the prompt with this name (`ref/prompt`).
    Prompt(String),
    /// A variable of the resource template with this URI template (`ref/resource`).
    Resource(String),
}

impl CompletionRef {
    /// `ref/prompt` for the named prompt.
    pub fn prompt(name: impl Into<String>) -> Self {
        CompletionRef::Prompt(name.into())
    }

    /// `ref/resource` for the given URI template.
    pub fn resource(uri_template: impl Into<String>) -> Self {
        CompletionRef::Resource(uri_template.into())
    }
}

#[derive(Clone)]
pub(crate) enum Completer {
    /// Values starting with what the user typed.
    Static(Vec<String>),
    /// Called with the typed value and the other arguments.
    Dynamic(CompleteFn),
}

pub(crate) struct Tool {
    pub(crate) def: ToolDef,
    pub(crate) handler: ToolFn,
}

pub(crate) struct Resource {
    pub(crate) def: ResourceDef,
    pub(crate) body: ResourceBody,
}

pub(crate) struct Template {
    pub(crate) def: TemplateDef,
    pub(crate) pattern: UriTemplate,
    pub(crate) handler: TemplateFn,
}

pub(crate) struct Prompt {
    pub(crate) def: PromptDef,
    pub(crate) handler: PromptFn,
}

/// Everything a server was built with; shared, never mutated.
pub(crate) struct Spec {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) instructions: Option<String>,
    pub(crate) tools: Vec<Tool>,
    pub(crate) resources: Vec<Resource>,
    pub(crate) templates: Vec<Template>,
    pub(crate) prompts: Vec<Prompt>,
    /// Skill entries (SEP-2640), served by `skills/list` and `skills/get`.
    pub(crate) skills: Vec<Value>,
    pub(crate) completers: HashMap<(CompletionRef, String), Completer>,
    pub(crate) page_size: Option<usize>,
    pub(crate) eras: Eras,
    pub(crate) ttl_ms: u64,
    pub(crate) tool_faults: HashMap<String, FaultRule>,
    pub(crate) method_faults: HashMap<String, FaultRule>,
}

impl Spec {
    pub(crate) fn tool(&self, name: &str) -> Option<&Tool> {
        self.tools.iter().find(|t| t.def.name() == name)
    }

    pub(crate) fn prompt(&self, name: &str) -> Option<&Prompt> {
        self.prompts.iter().find(|p| p.def.name() == name)
    }

    pub(crate) fn server_info(&self) -> Value {
        json!({"name": self.name, "version": self.version})
    }

    /// Capabilities, advertising only what was registered.
    pub(crate) fn capabilities(&self) -> Value {
        let mut caps = Map::new();
        if !self.tools.is_empty() {
            caps.insert("tools".into(), json!({"listChanged": true}));
        }
        if !self.resources.is_empty() || !self.templates.is_empty() {
            caps.insert(
                "resources".into(),
                json!({"subscribe": true, "listChanged": true}),
            );
        }
        if !self.prompts.is_empty() {
            caps.insert("prompts".into(), json!({"listChanged": true}));
        }
        if !self.skills.is_empty() {
            caps.insert(
                "extensions".into(),
                json!({ crate::protocol::SKILLS_EXTENSION: {} }),
            );
        }
        caps.insert("completions".into(), json!({}));
        caps.insert("logging".into(), json!({}));
        Value::Object(caps)
    }
}

/// Builds a [`TestServer`]; start with [`TestServer::builder`].
pub struct TestServerBuilder {
    spec: Spec,
}

impl TestServerBuilder {
    pub(crate) fn new(name: impl Into<String>) -> Self {
        TestServerBuilder {
            spec: Spec {
                name: name.into(),
                version: "0.0.0".into(),
                instructions: None,
                tools: Vec::new(),
                resources: Vec::new(),
                templates: Vec::new(),
                prompts: Vec::new(),
                skills: Vec::new(),
                completers: HashMap::new(),
                page_size: None,
                eras: Eras::Both,
                ttl_ms: 60_000,
                tool_faults: HashMap::new(),
                method_faults: HashMap::new(),
            },
        }
    }

    /// Sets the version reported in `serverInfo`.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.spec.version = version.into();
        self
    }

    /// Sets the instructions given by `initialize` and `server/discover`.
    pub fn instructions(mut self, text: impl Into<String>) -> Self {
        self.spec.instructions = Some(text.into());
        self
    }

    /// Adds a tool. The handler returns a whole `CallToolResult` (an object
    /// with `content`), or any other value, which is sent as its JSON text
    /// plus `structuredContent`. `Err` becomes an `isError: true` result
    /// (see [`ToolError`]). A later tool with the same name replaces it.
    pub fn tool<F, Fut>(mut self, def: ToolDef, handler: F) -> Self
    where
        F: Fn(ToolContext, Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, ToolError>> + Send + 'static,
    {
        let handler: ToolFn = Arc::new(move |ctx, args| Box::pin(handler(ctx, args)));
        self.spec.tools.retain(|t| t.def.name() != def.name());
        self.spec.tools.push(Tool { def, handler });
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
        self.spec.resources.push(Resource { def, body });
        self
    }

    /// Serves a skill (the skills extension, SEP-2640): the entry is listed
    /// by `skills/list` and returned by `skills/get`, and the server
    /// declares `io.modelcontextprotocol/skills`. The entry is served as
    /// given, so it can lie about its files; serve the files themselves as
    /// resources (a template lets a test count the reads).
    pub fn skill(mut self, entry: crate::protocol::Skill) -> Self {
        self.spec
            .skills
            .push(serde_json::to_value(entry).unwrap_or_default());
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
        let handler: TemplateFn = Arc::new(move |uri, vars| Box::pin(handler(uri, vars)));
        let pattern = UriTemplate::parse(&def.uri_template);
        self.spec.templates.push(Template {
            def,
            pattern,
            handler,
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
        let handler: PromptFn = Arc::new(move |args| Box::pin(handler(args)));
        self.spec.prompts.retain(|p| p.def.name() != def.name());
        self.spec.prompts.push(Prompt { def, handler });
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
        let values = values.into_iter().map(Into::into).collect();
        self.spec
            .completers
            .insert((target, argument.into()), Completer::Static(values));
        self
    }

    /// Completes `argument` of `target` with a function of the typed value
    /// and the other arguments already given (`context.arguments`).
    pub fn completer<F, Fut>(mut self, target: CompletionRef, argument: &str, complete: F) -> Self
    where
        F: Fn(String, HashMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<String>> + Send + 'static,
    {
        let f: CompleteFn = Arc::new(move |value, context| Box::pin(complete(value, context)));
        self.spec
            .completers
            .insert((target, argument.into()), Completer::Dynamic(f));
        self
    }

    /// Splits list results into pages of `n` items with opaque cursors.
    pub fn page_size(mut self, n: usize) -> Self {
        self.spec.page_size = Some(n.max(1));
        self
    }

    /// Chooses which protocol eras the server speaks (default: both).
    pub fn eras(mut self, eras: Eras) -> Self {
        self.spec.eras = eras;
        self
    }

    /// Sets `ttlMs` on cacheable results of the modern era (default 60 000).
    pub fn ttl_ms(mut self, ttl: u64) -> Self {
        self.spec.ttl_ms = ttl;
        self
    }

    /// Makes every call of tool `name` misbehave with `fault`.
    pub fn tool_fault(mut self, name: impl Into<String>, fault: Fault) -> Self {
        self.spec
            .tool_faults
            .insert(name.into(), FaultRule::always(fault));
        self
    }

    /// Makes only the first `times` calls of tool `name` misbehave, counted
    /// across all connections (to test restarts and retries).
    pub fn tool_fault_times(mut self, name: impl Into<String>, fault: Fault, times: usize) -> Self {
        self.spec
            .tool_faults
            .insert(name.into(), FaultRule::times(fault, times));
        self
    }

    /// Makes every request of `method` (e.g. `server/discover`) misbehave.
    pub fn method_fault(mut self, method: impl Into<String>, fault: Fault) -> Self {
        self.spec
            .method_faults
            .insert(method.into(), FaultRule::always(fault));
        self
    }

    /// Finishes the server.
    pub fn build(self) -> TestServer {
        TestServer {
            spec: Arc::new(self.spec),
            hub: Arc::new(Hub::default()),
            states: Arc::new(StateStore::new()),
        }
    }
}
