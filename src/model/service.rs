//! What sits under async-openai: its [`Config`] (URL and headers) and the
//! tower service that sends each request (installed with
//! `Client::with_http_service`, replacing the crate's retrying executor).
//!
//! The service is strict where the crate's default is lenient: one request
//! per call (never a retry), every non-2xx a [`ModelError::Http`] with its
//! status and body, bodies bounded by [`MAX_BODY`], and a plain JSON answer
//! to a streamed request turned into a one-event stream so it is still read.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_openai::config::Config;
use async_openai::error::OpenAIError;
use async_openai::middleware::HttpRequestFactory;
use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use secrecy::SecretString;

use super::endpoint::ModelEndpoint;
use crate::error::model::ModelError;

/// The largest reply body read, streamed or not (a chat completion is far
/// smaller).
pub const MAX_BODY: usize = 16 * 1024 * 1024;

/// Where requests go and the headers they carry: `Authorization` only when
/// there is a key, and nothing taken from the environment (the crate's own
/// `OpenAIConfig` sends `OPENAI_ORG_ID`/`OPENAI_PROJECT_ID` to any server,
/// and `Bearer ` with an empty key).
pub(super) struct EndpointConfig {
    base: String,
    key: SecretString,
    headers: HeaderMap,
}

impl EndpointConfig {
    pub(super) fn new(endpoint: &ModelEndpoint) -> Result<Self, ModelError> {
        let mut headers = HeaderMap::new();
        if !endpoint.api_key.is_empty() {
            let bearer = format!("Bearer {}", endpoint.api_key.expose());
            let mut value = HeaderValue::from_str(&bearer).map_err(|_| {
                ModelError::Config("the API key is not a valid header value".into())
            })?;
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        Ok(EndpointConfig {
            base: endpoint.base_url.trim_end_matches('/').to_owned(),
            key: SecretString::from(endpoint.api_key.expose().to_owned()),
            headers,
        })
    }
}

impl Config for EndpointConfig {
    fn headers(&self) -> HeaderMap {
        self.headers.clone()
    }
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
    fn query(&self) -> Vec<(&str, &str)> {
        Vec::new()
    }
    fn api_base(&self) -> &str {
        &self.base
    }
    fn api_key(&self) -> &SecretString {
        &self.key
    }
}

/// The tower service every model request goes through: one request, one
/// answer, built on the crate's one HTTP client factory.
#[derive(Clone)]
pub(super) struct StrictService {
    http: reqwest::Client,
}

impl StrictService {
    pub(super) fn new(http: reqwest::Client) -> Self {
        StrictService { http }
    }
}

type Reply = Pin<Box<dyn Future<Output = Result<reqwest::Response, OpenAIError>> + Send>>;

impl tower_service::Service<HttpRequestFactory> for StrictService {
    type Response = reqwest::Response;
    type Error = OpenAIError;
    type Future = Reply;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), OpenAIError>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, factory: HttpRequestFactory) -> Reply {
        let http = self.http.clone();
        Box::pin(async move {
            let request = factory.build().await?;
            send(http, request).await.map_err(boxed)
        })
    }
}

fn boxed(e: ModelError) -> OpenAIError {
    OpenAIError::Boxed(Box::new(e))
}

async fn send(
    http: reqwest::Client,
    request: reqwest::Request,
) -> Result<reqwest::Response, ModelError> {
    let streamed = wants_stream(&request);
    let response = http
        .execute(request)
        .await
        .map_err(|e| ModelError::Connect {
            // reqwest's Display never includes our headers.
            detail: error_chain(&e),
        })?;
    let status = response.status();
    let is_sse = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if streamed && is_sse && status.is_success() {
        // Bounded as it is read; a cut is the stream's error.
        let mut seen = 0usize;
        let body = response.bytes_stream().map(move |chunk| {
            let chunk = chunk.map_err(|e| std::io::Error::other(error_chain(&e)))?;
            seen += chunk.len();
            if seen > MAX_BODY {
                return Err(std::io::Error::other(format!(
                    "reply larger than {MAX_BODY} bytes"
                )));
            }
            Ok::<Bytes, std::io::Error>(chunk)
        });
        let mut out = http::Response::new(reqwest::Body::wrap_stream(body));
        *out.status_mut() = status;
        out.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        return Ok(out.into());
    }
    let bytes = read_body(response).await?;
    if !status.is_success() {
        return Err(ModelError::http(status.as_u16(), &bytes));
    }
    let mut out = if streamed {
        // A server that ignored `stream: true`: one event holding the whole
        // completion (compact, so it fits one `data:` line).
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| ModelError::Malformed {
                detail: format!("not JSON ({e}): {}", crate::error::model::excerpt(&bytes)),
            })?;
        let mut out = http::Response::new(reqwest::Body::from(format!("data: {value}\n\n")));
        out.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        out
    } else {
        http::Response::new(reqwest::Body::from(bytes))
    };
    *out.status_mut() = status;
    Ok(out.into())
}

/// Whether the JSON body asks for `"stream": true`.
fn wants_stream(request: &reqwest::Request) -> bool {
    #[derive(serde::Deserialize)]
    struct Flag {
        #[serde(default)]
        stream: bool,
    }
    request
        .body()
        .and_then(reqwest::Body::as_bytes)
        .and_then(|b| serde_json::from_slice::<Flag>(b).ok())
        .is_some_and(|f| f.stream)
}

/// Reads a whole body, at most [`MAX_BODY`] bytes.
async fn read_body(mut response: reqwest::Response) -> Result<Vec<u8>, ModelError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| ModelError::Malformed {
        detail: format!("the reply broke off: {}", error_chain(&e)),
    })? {
        if bytes.len() + chunk.len() > MAX_BODY {
            return Err(ModelError::Malformed {
                detail: format!("reply larger than {MAX_BODY} bytes"),
            });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The error and its sources, joined (reqwest's own message is terse).
pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Our error back out of the crate's: the service's own, as it was made;
/// anything else the crate raised (a body it could not parse, a broken
/// stream) as malformed.
pub(super) fn from_openai(e: OpenAIError) -> ModelError {
    match e {
        OpenAIError::Boxed(b) => match b.downcast::<ModelError>() {
            Ok(e) => *e,
            Err(other) => ModelError::Malformed {
                detail: error_chain(other.as_ref()),
            },
        },
        OpenAIError::ApiError(api) => ModelError::Http {
            status: api.status_code.as_u16(),
            body: crate::error::model::excerpt_str(&api.api_error.message),
        },
        OpenAIError::StreamError(e) => ModelError::Malformed {
            detail: format!("the stream broke off: {e}"),
        },
        other => ModelError::Malformed {
            detail: error_chain(&other),
        },
    }
}
