//! Input-required rounds (2026-07-28, SEP-2322): a call may come back with
//! questions for the client; we answer them through the same handlers the
//! handshake era uses (or the call's own, [`CallOptions::handlers`]) and
//! retry with the answers and the echoed `requestState`, under a new id,
//! up to a cap. A call made with [`CallOptions::relay_input_required`]
//! hands the round to its caller instead.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::future::Future;

use bytes::Bytes;

use futures_util::future::join_all;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::handlers::{Handlers, RequestContext};
use super::outgoing::RoundParams;
use super::{
    answer, decode, result_kind, unexpected_kind, CallOptions, MetaMode, ResultKind, Session,
    Target,
};
use crate::protocol::{CreateTaskResult, Era, InputRequest, InputRequiredResult};
use crate::{Error, Result};

/// A request's final answer: its result, or a task that will give it.
#[derive(Debug)]
pub(crate) enum Answered<R> {
    /// The result.
    Complete(R),
    /// A task to poll (the tasks extension, 2026-07-28); boxed, so that a
    /// plain call's answer is the size of its result as it is returned
    /// through the call's futures.
    Task(Box<CreateTaskResult>),
}

impl Session {
    /// Sends a request that may need input-required rounds and decodes the
    /// final (complete) result.
    pub fn request_with_rounds<'a, P, R>(
        &'a self,
        method: &'a str,
        params: &'a P,
        call: Option<&'a CallOptions>,
    ) -> impl Future<Output = Result<R>> + 'a
    where
        P: Serialize + ?Sized + Sync,
        R: DeserializeOwned + 'a,
    {
        self.request_with_rounds_to(method, Target::default(), params, call)
    }

    /// [`Session::request_with_rounds`] with what the frame's metadata
    /// mirrors (a name, extra headers) for transports that route by it.
    pub(crate) async fn request_with_rounds_to<P, R>(
        &self,
        method: &str,
        target: Target<'_>,
        params: &P,
        call: Option<&CallOptions>,
    ) -> Result<R>
    where
        P: Serialize + ?Sized + Sync,
        R: DeserializeOwned,
    {
        match self
            .request_with_rounds_or_task(method, target, params, call)
            .await?
        {
            Answered::Complete(result) => Ok(result),
            Answered::Task(_) => Err(unexpected_kind(method, ResultKind::Task)),
        }
    }

    /// [`Session::request_with_rounds_to`] that also accepts a task in
    /// place of the result (`tools/call` with the tasks extension): the
    /// rounds before it are met as usual.
    ///
    /// The first send is written out here and the rounds are a boxed
    /// future of their own ([`Session::rounds`]): a request that needs no
    /// input (nearly all) is one future, without the room the answering of
    /// questions takes.
    pub(crate) async fn request_with_rounds_or_task<P, R>(
        &self,
        method: &str,
        target: Target<'_>,
        params: &P,
        call: Option<&CallOptions>,
    ) -> Result<Answered<R>>
    where
        P: Serialize + ?Sized + Sync,
        R: DeserializeOwned,
    {
        let resumed = call
            .and_then(CallOptions::rare)
            .is_some_and(|r| r.resume.is_some());
        if resumed {
            return Box::pin(self.rounds(method, target, params, call, None)).await;
        }
        let plain = RoundParams {
            params,
            input_responses: None,
            request_state: None,
        };
        let bytes = self
            .request_bytes(method, target, &plain, call, MetaMode::Negotiated)
            .await?;
        match result_kind(&bytes)? {
            ResultKind::Complete => decode(method, &bytes).map(Answered::Complete),
            ResultKind::Task => decode(method, &bytes).map(|t| Answered::Task(Box::new(t))),
            ResultKind::InputRequired => {
                Box::pin(self.rounds(method, target, params, call, Some(bytes))).await
            }
        }
    }

    /// The rounds of a request: sends it (with the answers of a resumed
    /// call) unless `first` already holds its answer, and while the server
    /// asks for input, answers and sends it again, up to the cap.
    async fn rounds<P, R>(
        &self,
        method: &str,
        target: Target<'_>,
        params: &P,
        call: Option<&CallOptions>,
        mut first: Option<Bytes>,
    ) -> Result<Answered<R>>
    where
        P: Serialize + ?Sized + Sync,
        R: DeserializeOwned,
    {
        let max_rounds = self.shared().options.max_rounds;
        let rare = call.and_then(CallOptions::rare);
        let resume = rare.and_then(|r| r.resume.as_ref());
        let mut responses: Option<Map<String, Value>> = resume
            .map(|r| r.input_responses.clone())
            .filter(|r| !r.is_empty());
        let mut state: Option<String> = resume.and_then(|r| r.request_state.clone());
        let relay = rare.is_some_and(|r| r.relay_input);
        for round in 0..=max_rounds {
            let bytes = match first.take() {
                Some(bytes) => bytes,
                None => {
                    let with_answers = RoundParams {
                        params,
                        input_responses: responses.as_ref(),
                        request_state: state.as_deref(),
                    };
                    self.request_bytes(method, target, &with_answers, call, MetaMode::Negotiated)
                        .await?
                }
            };
            match result_kind(&bytes)? {
                ResultKind::Complete => return decode(method, &bytes).map(Answered::Complete),
                ResultKind::Task => {
                    return decode(method, &bytes).map(|t| Answered::Task(Box::new(t)))
                }
                ResultKind::InputRequired if relay => return Err(relayed(method, &bytes)?),
                ResultKind::InputRequired if round == max_rounds => break,
                ResultKind::InputRequired => {
                    let asked: InputRequiredResult = decode(method, &bytes)?;
                    if asked.input_requests.is_none() && asked.request_state.is_none() {
                        return Err(Error::InvalidMessage(format!(
                            "{method}: input_required result with neither inputRequests nor requestState"
                        )));
                    }
                    let own = rare.and_then(|r| r.handlers.as_deref());
                    responses = match asked.input_requests {
                        Some(asks) => Some(self.fulfil(method, asks, own).await?),
                        None => None,
                    };
                    state = asked.request_state;
                    tracing::debug!(server = %self.name(), %method, round = round + 1, "retrying with input");
                }
            }
        }
        Err(Error::TooManyRounds {
            method: method.to_owned(),
            rounds: max_rounds,
        })
    }

    pub(crate) async fn fulfil(
        &self,
        method: &str,
        asks: BTreeMap<String, InputRequest>,
        own: Option<&Handlers>,
    ) -> Result<Map<String, Value>> {
        let shared = self.shared();
        let handlers = match own {
            Some(own) => {
                let mut merged = Handlers {
                    sampling: own.sampling.clone(),
                    elicitation: own.elicitation.clone(),
                    roots: own.roots.clone(),
                    listed_roots: own.listed_roots.clone(),
                    messages: Vec::new(),
                };
                merged.fill_from(&Handlers {
                    messages: Vec::new(),
                    ..shared.handlers.clone()
                });
                Cow::Owned(merged)
            }
            None => Cow::Borrowed(&shared.handlers),
        };
        let handlers = &*handlers;
        let answers = join_all(asks.into_iter().map(|(key, ask)| async move {
            let ctx = RequestContext {
                server: shared.name.clone(),
                era: Era::Modern,
            };
            let asked = ask.method();
            let outcome = answer::answer_input(handlers, ctx, ask).await;
            (key, asked, outcome)
        }))
        .await;
        let mut out = Map::new();
        for (key, asked, outcome) in answers {
            match outcome {
                Ok(v) => {
                    out.insert(key, v);
                }
                Err(e) => {
                    return Err(Error::InputDeclined {
                        method: method.to_owned(),
                        request: asked.to_owned(),
                        message: e.message,
                    })
                }
            }
        }
        Ok(out)
    }
}

/// The round of an `input_required` result, as the server sent it, for a
/// caller that relays it.
fn relayed(method: &str, bytes: &[u8]) -> Result<Error> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Raw {
        #[serde(default)]
        input_requests: Option<Map<String, Value>>,
        #[serde(default)]
        request_state: Option<String>,
    }
    let raw: Raw = decode(method, bytes)?;
    if raw.input_requests.is_none() && raw.request_state.is_none() {
        return Err(Error::InvalidMessage(format!(
            "{method}: input_required result with neither inputRequests nor requestState"
        )));
    }
    Ok(Error::InputRequired {
        method: method.to_owned(),
        input_requests: raw.input_requests.unwrap_or_default(),
        request_state: raw.request_state,
    })
}
