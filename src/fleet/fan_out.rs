//! Fan-out strategies beyond [`Fleet::call_all`]: the same tool call (or
//! resource read) sent to several servers at once, under one deadline,
//! settled as a race (the first success wins), a quorum (`n` successes) or
//! a gather (everything that answers in time).
//!
//! Once the outcome is settled (won, reached, out of reach) or the
//! deadline passes, every leg still running is dropped: its server is sent
//! `notifications/cancelled` (the session's drop guard), so losers stop
//! working. A quorum that can no longer be reached fails at once, not at
//! the deadline. Each leg that did not succeed is reported with why
//! ([`LegReport`]).
//!
//! ```no_run
//! # async fn run(fleet: switchboard::Fleet) -> switchboard::Result<()> {
//! use std::time::Duration;
//! let won = fleet
//!     .fan_out("search", serde_json::json!({"q": "mcp"}))
//!     .deadline(Duration::from_secs(5))
//!     .race()
//!     .await?;
//! let (server, output) = &won.successes[0];
//! println!("{server} answered first: {}", output.text());
//! # Ok(()) }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{FuturesUnordered, StreamExt};
use serde::Serialize;
use tokio::time::Instant;

use super::member::Server;
use super::snapshot::{Kind, Snapshot};
use super::Fleet;
use crate::error::{FanOutError, FanOutErrorKind, LegEnd, LegReport};
use crate::protocol::ReadResourceResult;
use crate::{CallOptions, Error, Result, ToolOutput};

/// The deadline of a fan-out unless [`FanOut::deadline`] sets one.
pub const DEFAULT_FAN_OUT_DEADLINE: Duration = Duration::from_secs(60);

/// What a fan-out got: the successes it needed, and every other leg.
#[derive(Debug)]
#[non_exhaustive]
pub struct FanOutResult<T> {
    /// The successes, in the order they arrived: one for a race, `n` for a
    /// quorum, every one for a gather.
    pub successes: Vec<(String, T)>,
    /// Every leg that did not succeed, in the order it ended (legs cut
    /// once the outcome was settled, or at the deadline, come last).
    pub others: Vec<LegReport>,
    /// How long the fan-out ran.
    pub elapsed: Duration,
}

type Leg<T> = Pin<Box<dyn Future<Output = std::result::Result<T, LegEnd>> + Send>>;
type Work<T> = Arc<dyn Fn(Arc<Server>) -> Leg<T> + Send + Sync>;

/// One request sent to several servers; settle it with [`FanOut::race`],
/// [`FanOut::quorum`] or [`FanOut::gather`]. From [`Fleet::fan_out`]
/// (a tool call) or [`Fleet::fan_out_read`] (a resource read).
pub struct FanOut<'a, T> {
    fleet: &'a Fleet,
    /// `Tools` (the tool `name`) or `Resources` (the resource `name`).
    kind: Kind,
    name: String,
    servers: Option<Vec<String>>,
    deadline: Duration,
    work: Result<Work<T>>,
}

impl<T> std::fmt::Debug for FanOut<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FanOut")
            .field("what", &self.what())
            .field("servers", &self.servers)
            .field("deadline", &self.deadline)
            .finish()
    }
}

impl Fleet {
    /// The tool `tool` (its own name, not namespaced) called with
    /// `arguments` on every server that has it (or those named with
    /// [`FanOut::servers`]). A leg succeeds with a result that is not
    /// `isError`; each server's tool filter and concurrency limit apply.
    pub fn fan_out(&self, tool: &str, arguments: impl Serialize) -> FanOut<'_, ToolOutput> {
        let work = serde_json::to_value(arguments)
            .map_err(|e| Error::Encode(e.to_string()))
            .map(|arguments| {
                let (tool, arguments) = (Arc::<str>::from(tool), Arc::new(arguments));
                Arc::new(move |server: Arc<Server>| {
                    let (tool, arguments) = (tool.clone(), arguments.clone());
                    Box::pin(async move {
                        match server
                            .call_with(&tool, &arguments, CallOptions::new())
                            .await
                        {
                            Ok(out) if out.is_error() => Err(LegEnd::ToolError(out.text())),
                            Ok(out) => Ok(out),
                            Err(e) => Err(LegEnd::Failed(e)),
                        }
                    }) as Leg<ToolOutput>
                }) as Work<ToolOutput>
            });
        FanOut::new(self, Kind::Tools, tool, work)
    }

    /// The resource `uri` read from every server that lists it (or those
    /// named with [`FanOut::servers`]): [`FanOut::gather`] collects what
    /// each answers in time, [`FanOut::race`] takes the first copy.
    pub fn fan_out_read(&self, uri: &str) -> FanOut<'_, ReadResourceResult> {
        let uri_owned = Arc::<str>::from(uri);
        let work: Work<ReadResourceResult> = Arc::new(move |server: Arc<Server>| {
            let uri = uri_owned.clone();
            Box::pin(async move {
                let client = server.client().await.map_err(LegEnd::Failed)?;
                client.read_resource(&uri).await.map_err(LegEnd::Failed)
            }) as Leg<ReadResourceResult>
        });
        FanOut::new(self, Kind::Resources, uri, Ok(work))
    }
}

impl<'a, T> FanOut<'a, T> {
    fn new(fleet: &'a Fleet, kind: Kind, name: &str, work: Result<Work<T>>) -> Self {
        FanOut {
            fleet,
            kind,
            name: name.to_owned(),
            servers: None,
            deadline: DEFAULT_FAN_OUT_DEADLINE,
            work,
        }
    }

    /// The request, for errors and logs.
    fn what(&self) -> String {
        match self.kind {
            Kind::Tools => format!("tools/call {}", self.name),
            _ => format!("resources/read {}", self.name),
        }
    }

    /// The servers that have the tool, or list the resource, in `snapshot`.
    fn default_targets(&self, snapshot: &Snapshot) -> Vec<Arc<Server>> {
        match self.kind {
            Kind::Tools => snapshot.servers_with_tool(&self.name),
            _ => snapshot.servers_with_resource(&self.name),
        }
    }
}

impl<T: Send + 'static> FanOut<'_, T> {
    /// Sends to these servers only (default: every server that has the
    /// tool, or lists the resource, in its last list). A name the fleet
    /// does not have is a failed leg.
    pub fn servers<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.servers = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// The one deadline of the whole fan-out, starting servers and waiting
    /// for permits included (default [`DEFAULT_FAN_OUT_DEADLINE`], 60 s);
    /// each leg's own deadlines still apply inside it.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The first success wins; the other legs are cancelled. Fails (with
    /// [`Error::FanOut`]) once every leg failed, or at the deadline.
    pub async fn race(self) -> Result<FanOutResult<T>> {
        let what = format!("race {}", self.what());
        self.settle(what, Some(1)).await
    }

    /// `n` successes; then the other legs are cancelled. Fails (with
    /// [`Error::FanOut`]) as soon as the legs still running cannot make up
    /// `n` (at once when fewer than `n` servers take part), or at the
    /// deadline. `n` = 0 is an invalid argument.
    pub async fn quorum(self, n: usize) -> Result<FanOutResult<T>> {
        if n == 0 {
            return Err(Error::invalid_argument(
                "a quorum needs at least one success",
            ));
        }
        let what = format!("quorum({n}) {}", self.what());
        self.settle(what, Some(n)).await
    }

    /// Every leg's outcome, waiting for all of them up to the deadline
    /// (legs still running then are cancelled and reported). Fails only
    /// when no server takes part.
    pub async fn gather(self) -> Result<FanOutResult<T>> {
        let what = format!("gather {}", self.what());
        self.settle(what, None).await
    }

    async fn settle(self, what: String, needed: Option<usize>) -> Result<FanOutResult<T>> {
        let started = Instant::now();
        let deadline = started + self.deadline;
        let snapshot = match tokio::time::timeout_at(deadline, self.fleet.fresh(self.kind)).await {
            Ok(snapshot) => snapshot,
            Err(_) => self.fleet.snapshot(),
        };
        let mut others = Vec::new();
        let targets: Vec<Arc<Server>> = match &self.servers {
            None => self.default_targets(&snapshot),
            Some(names) => names
                .iter()
                .filter_map(|name| match snapshot.server(name) {
                    Some(s) => Some(s.clone()),
                    None => {
                        let e = Error::not_found(crate::error::NotFoundKind::Server, name, None);
                        others.push(LegReport::new(name.clone(), LegEnd::Failed(e)));
                        None
                    }
                })
                .collect(),
        };
        drop(snapshot);
        let work = self.work?;
        let total = targets.len() + others.len();
        let fail = |kind, succeeded, others, started: Instant| {
            Err(Error::FanOut(FanOutError {
                what: what.clone(),
                needed: needed.unwrap_or(total),
                succeeded,
                kind,
                legs: others,
                elapsed: started.elapsed(),
            }))
        };
        if total == 0 {
            return fail(FanOutErrorKind::NoServers, Vec::new(), others, started);
        }
        if needed.is_some_and(|n| n > targets.len()) {
            return fail(FanOutErrorKind::Unreachable, Vec::new(), others, started);
        }

        let names: Vec<String> = targets.iter().map(|s| s.name().to_owned()).collect();
        let mut running: FuturesUnordered<_> = targets
            .into_iter()
            .enumerate()
            .map(|(i, server)| {
                let leg = work(server);
                async move { (i, leg.await) }
            })
            .collect();
        let mut finished = vec![false; names.len()];
        let mut successes = Vec::new();
        let outcome = loop {
            match tokio::time::timeout_at(deadline, running.next()).await {
                Err(_) => break Some(FanOutErrorKind::Deadline),
                Ok(None) => break None,
                Ok(Some((i, result))) => {
                    finished[i] = true;
                    match result {
                        Ok(value) => successes.push((names[i].clone(), value)),
                        Err(end) => others.push(LegReport::new(names[i].clone(), end)),
                    }
                    match needed {
                        Some(n) if successes.len() >= n => break None,
                        Some(n) if successes.len() + running.len() < n => {
                            break Some(FanOutErrorKind::Unreachable)
                        }
                        _ => {}
                    }
                }
            }
        };
        // Dropping the legs still running sends each its server's
        // `notifications/cancelled`.
        drop(running);
        let at_deadline = outcome == Some(FanOutErrorKind::Deadline);
        for (name, _) in names.iter().zip(&finished).filter(|(_, done)| !**done) {
            let end = if at_deadline {
                LegEnd::DeadlinePassed
            } else {
                LegEnd::Cancelled
            };
            others.push(LegReport::new(name.clone(), end));
        }
        match outcome {
            // A gather cut at its deadline still returns what it has.
            Some(FanOutErrorKind::Deadline) if needed.is_none() => {}
            Some(kind) => {
                let succeeded = successes.into_iter().map(|(s, _)| s).collect();
                return fail(kind, succeeded, others, started);
            }
            None => {}
        }
        tracing::debug!(%what, successes = successes.len(), others = others.len(), "fan-out settled");
        Ok(FanOutResult {
            successes,
            others,
            elapsed: started.elapsed(),
        })
    }
}
