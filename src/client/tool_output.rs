//! The result of a tool call, with its structured output checked against
//! the tool's `outputSchema`.

use std::ops::Deref;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::protocol::CallToolResult;
use crate::{Error, Result};

/// What a tool call returned. Derefs to the wire [`CallToolResult`].
#[derive(Debug, Clone, PartialEq)]
pub struct ToolOutput {
    tool: String,
    result: CallToolResult,
}

impl ToolOutput {
    pub(crate) fn new(tool: String, result: CallToolResult) -> Self {
        ToolOutput { tool, result }
    }

    /// The tool's name.
    pub fn tool(&self) -> &str {
        &self.tool
    }

    /// True when the tool reported an execution error (`isError`).
    pub fn is_error(&self) -> bool {
        self.result.is_error.unwrap_or(false)
    }

    /// The structured output, if any (already validated against the tool's
    /// `outputSchema` when it has one).
    pub fn structured(&self) -> Option<&Value> {
        self.result.structured_content.as_ref()
    }

    /// Decodes the structured output into `T`. Falls back to parsing the
    /// single text block as JSON for servers that only send text.
    pub fn data<T: DeserializeOwned>(&self) -> Result<T> {
        if self.is_error() {
            return Err(self.failure());
        }
        let value = match &self.result.structured_content {
            Some(v) => v.clone(),
            None => {
                let text = self.result.text();
                serde_json::from_str(&text).map_err(|_| Error::OutputValidation {
                    tool: self.tool.clone(),
                    message: "the result has no structured content and its text is not JSON".into(),
                })?
            }
        };
        serde_json::from_value(value).map_err(|e| Error::OutputValidation {
            tool: self.tool.clone(),
            message: format!("cannot decode structured content: {e}"),
        })
    }

    /// The text content, joined.
    pub fn text(&self) -> String {
        self.result.text()
    }

    /// `Err(ToolFailed)` when the tool reported an error, else `Ok(self)`.
    pub fn into_result(self) -> Result<Self> {
        if self.is_error() {
            Err(self.failure())
        } else {
            Ok(self)
        }
    }

    /// The wire result.
    pub fn into_inner(self) -> CallToolResult {
        self.result
    }

    fn failure(&self) -> Error {
        Error::ToolFailed {
            tool: self.tool.clone(),
            message: self.result.text(),
        }
    }
}

impl Deref for ToolOutput {
    type Target = CallToolResult;
    fn deref(&self) -> &CallToolResult {
        &self.result
    }
}
