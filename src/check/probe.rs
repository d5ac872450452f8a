//! One negotiated connection the battery runs over, and the exchange it
//! quotes in a finding: the request as sent and the reply as it came.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::protocol::{Era, ProtocolVersion, ServerCapabilities};
use crate::{Client, Error};

/// A connection in one era, with what negotiation told us.
pub(super) struct Probe {
    pub(super) client: Client,
    pub(super) version: ProtocolVersion,
    pub(super) caps: ServerCapabilities,
}

/// One request and what came of it.
pub(super) struct Exchange {
    /// `{"method", "params"}` as sent (ids and `_meta` are the client's).
    pub(super) sent: Value,
    /// The result, or why there is none.
    pub(super) reply: Result<Value, Error>,
    /// How long the reply took.
    pub(super) elapsed: Duration,
}

impl Probe {
    pub(super) fn era(&self) -> Era {
        self.version.era()
    }

    /// Sends `method` with `params`, raw: the result is not decoded, so a
    /// reply the typed client would refuse is still seen as sent.
    pub(super) async fn ask(&self, method: &str, params: Value) -> Exchange {
        let sent = json!({"method": method, "params": params});
        let start = Instant::now();
        let reply = self.send(method, params).await;
        Exchange {
            sent,
            reply,
            elapsed: start.elapsed(),
        }
    }
}

impl Probe {
    /// Requests that name a tool, prompt or resource go through the typed
    /// calls, which send what 2026-07-28 mirrors in headers (`Mcp-Name`);
    /// the typed result is handed back as JSON.
    async fn send(&self, method: &str, params: Value) -> Result<Value, Error> {
        let text = |key: &str| {
            params
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        };
        let arguments = params.get("arguments").cloned().unwrap_or(Value::Null);
        let to_json =
            |v: Result<Value, serde_json::Error>| v.map_err(|e| Error::Encode(e.to_string()));
        match method {
            "tools/call" => {
                let out = self.client.call_tool(&text("name"), arguments).await?;
                to_json(serde_json::to_value(&*out))
            }
            "prompts/get" => {
                let out = self.client.get_prompt(&text("name"), arguments).await?;
                to_json(serde_json::to_value(out))
            }
            "resources/read" => {
                let out = self.client.read_resource(&text("uri")).await?;
                to_json(serde_json::to_value(out))
            }
            _ => self.client.request::<Value>(method, params).await,
        }
    }
}

impl Exchange {
    /// What came back, as a report quotes it.
    pub(super) fn received(&self) -> Value {
        received(&self.reply)
    }

    /// The JSON-RPC error code, if the server answered with an error.
    pub(super) fn code(&self) -> Option<i64> {
        self.reply.as_ref().err().and_then(Error::code)
    }
}

/// A reply as a report quotes it: the result, the error object, or our
/// failure (`{"failure": "..."}`: a timeout, a lost connection).
pub(super) fn received(reply: &Result<Value, Error>) -> Value {
    match reply {
        Ok(v) => v.clone(),
        Err(Error::Protocol {
            code,
            message,
            data,
        }) => {
            let mut error = json!({"code": code, "message": message});
            if let Some(d) = data {
                error["data"] = d.clone();
            }
            json!({ "error": error })
        }
        Err(e) => json!({ "failure": e.to_string() }),
    }
}
