//! [`Registry`]: the static [`ServerHandler`](super::ServerHandler), for a
//! server whose tools, resources, templates, prompts, completions and
//! skills are known when it is built, each with its async handler.
//!
//! ```
//! use serde_json::json;
//! use switchboard::protocol::{CallToolResult, Implementation, Tool};
//! use switchboard::server::{Registry, Server, ServerError};
//!
//! let tool = Tool {
//!     name: "add".into(),
//!     input_schema: json!({"type": "object"}).as_object().cloned().unwrap_or_default(),
//!     ..Default::default()
//! };
//! let registry = Registry::new(Implementation::new("calc", "1.0.0")).tool(tool, |_cx, args| async move {
//!     let a = args.get("a").and_then(|v| v.as_f64());
//!     let b = args.get("b").and_then(|v| v.as_f64());
//!     match (a, b) {
//!         (Some(a), Some(b)) => Ok(CallToolResult::structured(json!({"sum": a + b}))),
//!         _ => Err(ServerError::invalid_params("a and b must be numbers")),
//!     }
//! });
//! let server = Server::new(registry);
//! # let _ = server;
//! ```

mod arguments;
mod serve;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::context::Context;
use super::error::ServerError;
use super::uri_template::UriTemplate;
use crate::protocol::{
    CallToolResult, GetPromptResult, Implementation, JsonObject, Prompt, ReadResourceResult,
    Resource, ResourceContents, ResourceTemplate, Skill, TaskSupport, Tool,
};

type ToolFn = Arc<
    dyn Fn(Context, JsonObject) -> BoxFuture<'static, Result<CallToolResult, ServerError>>
        + Send
        + Sync,
>;
type TemplateFn = Arc<
    dyn Fn(
            Context,
            String,
            HashMap<String, String>,
        ) -> BoxFuture<'static, Result<ReadResourceResult, ServerError>>
        + Send
        + Sync,
>;
type PromptFn = Arc<
    dyn Fn(
            Context,
            BTreeMap<String, String>,
        ) -> BoxFuture<'static, Result<GetPromptResult, ServerError>>
        + Send
        + Sync,
>;
type CompleteFn = Arc<
    dyn Fn(Context, String, HashMap<String, String>) -> BoxFuture<'static, Vec<String>>
        + Send
        + Sync,
>;

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
enum Completer {
    /// Values starting with what the user typed.
    Static(Vec<String>),
    /// Called with the typed value and the other arguments.
    Dynamic(CompleteFn),
}

struct Template {
    template: ResourceTemplate,
    pattern: UriTemplate,
    read: TemplateFn,
}

/// A server's offer, registered up front. Capabilities follow what was
/// registered (tools, resources, prompts each with `listChanged`;
/// resources with `subscribe`; the skills extension when skills were
/// added; the tasks extension when task tools were), plus `completions`
/// and `logging`. Lists are served whole
/// unless [`Registry::page_size`] is set.
pub struct Registry {
    info: Implementation,
    instructions: Option<String>,
    tools: Vec<(Tool, ToolFn)>,
    resources: Vec<(Resource, Vec<ResourceContents>)>,
    templates: Vec<Template>,
    prompts: Vec<(Prompt, PromptFn)>,
    completers: HashMap<(CompletionRef, String), Completer>,
    skills: Vec<Skill>,
    /// The tools that may run as tasks, with their mode.
    task_tools: HashMap<String, TaskSupport>,
    page_size: Option<usize>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("info", &self.info)
            .field("tools", &self.tools.len())
            .field("resources", &self.resources.len())
            .field("templates", &self.templates.len())
            .field("prompts", &self.prompts.len())
            .field("skills", &self.skills.len())
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// An empty registry for the server `info` (name and version).
    pub fn new(info: Implementation) -> Self {
        Registry {
            info,
            instructions: None,
            tools: Vec::new(),
            resources: Vec::new(),
            templates: Vec::new(),
            prompts: Vec::new(),
            completers: HashMap::new(),
            skills: Vec::new(),
            task_tools: HashMap::new(),
            page_size: None,
        }
    }

    /// Sets the instructions given by `initialize` and `server/discover`
    /// (default: none).
    pub fn instructions(mut self, text: impl Into<String>) -> Self {
        self.instructions = Some(text.into());
        self
    }

    /// Adds a tool that may run as a task (the tasks extension, 2026-07-28;
    /// the registry then declares it): `Optional` runs it as a task for a
    /// client that declares the extension and as a plain call for one
    /// that does not; `Required` refuses the latter with -32021 (see
    /// [`ServerHandler::task_support`](crate::server::ServerHandler::task_support)).
    /// `Forbidden` is [`Registry::tool`].
    pub fn task_tool<F, Fut>(mut self, tool: Tool, support: TaskSupport, handler: F) -> Self
    where
        F: Fn(Context, JsonObject) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CallToolResult, ServerError>> + Send + 'static,
    {
        match support {
            TaskSupport::Forbidden => self.task_tools.remove(&tool.name),
            support => self.task_tools.insert(tool.name.clone(), support),
        };
        self.tool(tool, handler)
    }

    /// Adds a tool; `handler` gets the call's arguments (`{}` when absent),
    /// once they are checked against the tool's `inputSchema`: arguments
    /// that break it get a result with `isError` naming what is wrong, and
    /// the handler is not called. A later tool with the same name replaces
    /// it.
    pub fn tool<F, Fut>(mut self, tool: Tool, handler: F) -> Self
    where
        F: Fn(Context, JsonObject) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CallToolResult, ServerError>> + Send + 'static,
    {
        let check = arguments::ArgumentCheck::for_tool(&tool);
        let handler: ToolFn = Arc::new(move |cx, args| match check.check(args) {
            Ok(args) => Box::pin(handler(cx, args)),
            Err(refused) => Box::pin(std::future::ready(Ok(*refused))),
        });
        match self.tools.iter_mut().find(|(t, _)| t.name == tool.name) {
            Some(slot) => *slot = (tool, handler),
            None => self.tools.push((tool, handler)),
        }
        self
    }

    /// Adds a static resource with its contents.
    pub fn resource(mut self, resource: Resource, contents: Vec<ResourceContents>) -> Self {
        self.resources.push((resource, contents));
        self
    }

    /// Adds a resource template (RFC 6570 level 1, e.g. `greet://{name}`);
    /// `read` gets the URI and the variables it matched.
    pub fn resource_template<F, Fut>(mut self, template: ResourceTemplate, read: F) -> Self
    where
        F: Fn(Context, String, HashMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ReadResourceResult, ServerError>> + Send + 'static,
    {
        let read: TemplateFn = Arc::new(move |cx, uri, vars| Box::pin(read(cx, uri, vars)));
        let pattern = UriTemplate::parse(&template.uri_template);
        self.templates.push(Template {
            template,
            pattern,
            read,
        });
        self
    }

    /// Adds a prompt; `handler` gets the arguments, after the registry
    /// refused a request missing a required one (-32602). A result
    /// without a description gets the prompt's. A later prompt with the
    /// same name replaces it.
    pub fn prompt<F, Fut>(mut self, prompt: Prompt, handler: F) -> Self
    where
        F: Fn(Context, BTreeMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<GetPromptResult, ServerError>> + Send + 'static,
    {
        let handler: PromptFn = Arc::new(move |cx, args| Box::pin(handler(cx, args)));
        match self.prompts.iter_mut().find(|(p, _)| p.name == prompt.name) {
            Some(slot) => *slot = (prompt, handler),
            None => self.prompts.push((prompt, handler)),
        }
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
        self.completers
            .insert((target, argument.into()), Completer::Static(values));
        self
    }

    /// Completes `argument` of `target` with a function of the typed value
    /// and the other arguments already given (`context.arguments`).
    pub fn completer<F, Fut>(mut self, target: CompletionRef, argument: &str, complete: F) -> Self
    where
        F: Fn(Context, String, HashMap<String, String>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<String>> + Send + 'static,
    {
        let f: CompleteFn = Arc::new(move |cx, value, args| Box::pin(complete(cx, value, args)));
        self.completers
            .insert((target, argument.into()), Completer::Dynamic(f));
        self
    }

    /// Serves a skill (the skills extension, SEP-2640) through
    /// `skills/list` and `skills/get`, as given; serve its files as
    /// resources.
    pub fn skill(mut self, skill: Skill) -> Self {
        self.skills.push(skill);
        self
    }

    /// Splits list results into pages of `n` items (at least 1) with
    /// opaque cursors (default: one page).
    pub fn page_size(mut self, n: usize) -> Self {
        self.page_size = Some(n.max(1));
        self
    }

    /// Replaces who the server says it is.
    pub fn with_info(mut self, info: Implementation) -> Self {
        self.info = info;
        self
    }

    /// The name of every registered tool, in order.
    pub fn tool_names(&self) -> impl Iterator<Item = &str> {
        self.tools.iter().map(|(t, _)| t.name.as_str())
    }
}
