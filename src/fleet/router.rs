//! RouterActor: the fleet's control plane. It owns the membership (adds and
//! removes servers, one change at a time, and starts eager members) and
//! the merged tables ([`crate::fleet`]'s snapshot): it is their only
//! writer, and publishes each new version as an immutable `Arc` on a
//! `watch` channel that the [`crate::Fleet`] handles read.
//!
//! When a server says a list changed, the actor waits a debounce window
//! (a burst of notifications costs one refetch), refetches the lists that
//! changed on the caller's runtime, and republishes, so the next list call
//! is served warm. A refetch uses the running client only: it never starts
//! a server (one due after `Fleet::close` brings nothing back). Lists fetched by the handles (first use, TTL, a change
//! not refetched yet) are handed to it to merge the same way.
//!
//! Calls never pass through the mailbox: the handle resolves names in the
//! snapshot and calls the member's client directly. Nothing here does I/O
//! on the actor's thread: starts, closes and fetches run on the runtime
//! the fleet was built on.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use actix::prelude::*;
use futures_util::future::join_all;
use tokio::sync::watch;

use crate::actor_system::ActorRuntime;
use crate::error::NotFoundKind;
use crate::fleet::member::{ChangeSignal, Fetch, Member, Server};
use crate::fleet::names;
use crate::fleet::snapshot::{Entry, Kind, Snapshot, Tables};
use crate::{Error, Result};

/// How long the actor may take to answer a bookkeeping message.
const ACTOR_DEADLINE: Duration = Duration::from_secs(5);
/// Outer bound on starting or closing servers for a membership change (a
/// server's own `connect_timeout` normally ends a start long before).
const MEMBERSHIP_DEADLINE: Duration = Duration::from_secs(300);
/// Outer bound on one eager refetch (the client's request deadlines
/// normally end it long before).
const REFRESH_DEADLINE: Duration = Duration::from_secs(120);

/// How the router refreshes lists.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RouterSettings {
    /// How long after a `list_changed` the refetch waits for more.
    pub(crate) debounce: Duration,
    /// How long a list is trusted without a change notification.
    pub(crate) ttl: Duration,
}

/// The actor.
pub(crate) struct RouterActor {
    tables: Tables,
    version: u64,
    publish: watch::Sender<Arc<Snapshot>>,
    runtime: tokio::runtime::Handle,
    settings: RouterSettings,
    /// Servers (by id) with a debounced refresh scheduled.
    pending: HashSet<u64>,
    /// Refetches under way, by (server id, kind).
    inflight: HashSet<(u64, Kind)>,
}

impl Actor for RouterActor {
    type Context = Context<Self>;
}

impl RouterActor {
    fn publish(&mut self) -> Arc<Snapshot> {
        self.version += 1;
        let snapshot = Arc::new(self.tables.snapshot());
        tracing::trace!(
            version = self.version,
            servers = snapshot.entries.len(),
            "fleet snapshot"
        );
        self.publish.send_replace(snapshot.clone());
        snapshot
    }

    /// The entry for this server, if it is still the member of that name.
    fn entry(&self, server: &Server) -> Option<&Entry> {
        self.tables
            .entries
            .get(server.name())
            .filter(|e| e.server.id == server.id)
    }

    /// Applies fetches to the tables; true if any changed.
    fn apply(&mut self, fetches: Vec<Fetch>) -> bool {
        let mut changed = false;
        for fetch in fetches {
            let current = self
                .tables
                .entries
                .get_mut(fetch.server.name())
                .filter(|e| e.server.id == fetch.server.id);
            if let Some(entry) = current {
                changed |= entry.apply(fetch);
            }
        }
        changed
    }

    /// Schedules a refresh of this server after the debounce window,
    /// unless one is scheduled already.
    fn schedule(&mut self, server: Arc<Server>, ctx: &mut Context<Self>) {
        if !self.pending.insert(server.id) {
            return;
        }
        ctx.run_later(self.settings.debounce, move |actor, ctx| {
            actor.pending.remove(&server.id);
            actor.refresh(server, ctx);
        });
    }

    /// Refetches the server's lists that a change made stale (only those
    /// someone listed before: the others are fetched on first use).
    fn refresh(&mut self, server: Arc<Server>, ctx: &mut Context<Self>) {
        server.take_raised();
        let Some(entry) = self.entry(&server) else {
            return;
        };
        let kinds: Vec<Kind> = Kind::ALL
            .into_iter()
            .filter(|k| entry.changed(*k) && !self.inflight.contains(&(server.id, *k)))
            .collect();
        for kind in kinds {
            self.inflight.insert((server.id, kind));
            tracing::debug!(server = %server.name(), ?kind, "refetching a changed list");
            let fetching = self.runtime.spawn(tokio::time::timeout(
                REFRESH_DEADLINE,
                server.clone().fetch(kind, false),
            ));
            let server = server.clone();
            ctx.spawn(fetching.into_actor(self).map(move |result, actor, ctx| {
                actor.inflight.remove(&(server.id, kind));
                match result {
                    Ok(Ok(fetch)) => {
                        if actor.apply(vec![fetch]) {
                            actor.publish();
                        }
                    }
                    Ok(Err(_)) => {
                        tracing::warn!(server = %server.name(), ?kind, "refetch timed out")
                    }
                    Err(e) => {
                        tracing::warn!(server = %server.name(), ?kind, "refetch failed: {e}")
                    }
                }
                // A change that came while fetching: once more.
                if actor.entry(&server).is_some_and(|e| e.changed(kind)) {
                    actor.schedule(server, ctx);
                }
            }));
        }
    }
}

/// Refuses new members whose names' prefix ([`names::prefix`]) is another
/// member's: `a.b` and `a_b` would both name their tools `a_b_...`, and a
/// name could mean either server.
fn distinct_prefixes<'a>(
    present: impl Iterator<Item = &'a String>,
    new: &'a [Member],
) -> Result<()> {
    let mut seen: HashMap<String, &str> = HashMap::new();
    for name in present
        .map(String::as_str)
        .chain(new.iter().map(|m| m.name.as_str()))
    {
        if let Some(other) = seen.insert(names::prefix(name), name) {
            return Err(Error::invalid_argument(format!(
                "servers {other:?} and {name:?} cannot be in one fleet: both name their tools \"{}_...\"",
                names::prefix(name)
            )));
        }
    }
    Ok(())
}

/// Adds members; eager ones are started (in parallel) before the answer.
struct Add(Vec<Member>);

impl Message for Add {
    type Result = Result<()>;
}

impl Handler<Add> for RouterActor {
    type Result = ResponseFuture<Result<()>>;

    fn handle(&mut self, msg: Add, ctx: &mut Context<Self>) -> Self::Result {
        let mut names = HashSet::new();
        for member in &msg.0 {
            if self.tables.entries.contains_key(&member.name) || !names.insert(&member.name) {
                let e = Error::invalid_argument(format!(
                    "a server named {:?} is already in the fleet",
                    member.name
                ));
                return Box::pin(async move { Err(e) });
            }
        }
        if let Err(e) = distinct_prefixes(self.tables.entries.keys(), &msg.0) {
            return Box::pin(async move { Err(e) });
        }
        let weak = ctx.address().downgrade();
        let signal: ChangeSignal = Arc::new(move |name: &str| {
            if let Some(addr) = weak.upgrade() {
                // Not a flood: the server's `raised` flag lets one message
                // through per refresh, however many notifications come.
                addr.do_send(Changed(name.to_owned()));
            }
        });
        let mut eager = Vec::new();
        for member in msg.0 {
            let lazy = member.lazy;
            let server = Server::new(member, signal.clone());
            self.tables
                .entries
                .insert(server.name().to_owned(), Entry::new(server.clone()));
            if !lazy {
                eager.push(server);
            }
        }
        self.publish();
        // One task starts them all at once (a failure is kept in the
        // member, for health and the retry pause).
        let starting = self.runtime.spawn(async move {
            join_all(eager.iter().map(|s| s.client())).await;
        });
        Box::pin(async move {
            starting
                .await
                .map_err(|e| Error::NotConnected(format!("starting servers failed: {e}")))
        })
    }
}

/// Removes a member and closes its connection.
struct Remove(String);

impl Message for Remove {
    type Result = Result<()>;
}

impl Handler<Remove> for RouterActor {
    type Result = ResponseFuture<Result<()>>;

    fn handle(&mut self, msg: Remove, _: &mut Context<Self>) -> Self::Result {
        let Some(entry) = self.tables.remove(&msg.0) else {
            let e = Error::not_found(NotFoundKind::Server, &msg.0, None);
            return Box::pin(async move { Err(e) });
        };
        let server = entry.server;
        server.mark_removed();
        self.pending.remove(&server.id);
        self.publish();
        let closing = self.runtime.spawn(async move {
            match server.take_client().await {
                Some(client) => client.close().await,
                None => Ok(()),
            }
        });
        Box::pin(async move {
            closing
                .await
                .map_err(|e| Error::NotConnected(format!("closing the server failed: {e}")))?
        })
    }
}

/// Lists fetched by a handle, to merge and publish.
struct Integrate(Vec<Fetch>);

impl Message for Integrate {
    type Result = Arc<Snapshot>;
}

impl Handler<Integrate> for RouterActor {
    type Result = MessageResult<Integrate>;

    fn handle(&mut self, msg: Integrate, _: &mut Context<Self>) -> Self::Result {
        if self.apply(msg.0) {
            MessageResult(self.publish())
        } else {
            MessageResult(self.publish.borrow().clone())
        }
    }
}

/// A server (by name) announced a list change.
struct Changed(String);

impl Message for Changed {
    type Result = ();
}

impl Handler<Changed> for RouterActor {
    type Result = ();

    fn handle(&mut self, msg: Changed, ctx: &mut Context<Self>) {
        if let Some(entry) = self.tables.entries.get(&msg.0) {
            let server = entry.server.clone();
            self.schedule(server, ctx);
        }
    }
}

/// The fleet's handle on its router. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Router {
    addr: Addr<RouterActor>,
}

impl Router {
    /// Starts a router with no members; the receiver sees every snapshot
    /// it publishes. Servers' I/O runs on the current tokio runtime.
    pub(crate) fn start(
        settings: RouterSettings,
    ) -> Result<(Router, watch::Receiver<Arc<Snapshot>>)> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|e| Error::NotConnected(format!("a fleet needs a tokio runtime: {e}")))?;
        let mut tables = Tables::default();
        let (publish, snapshots) = watch::channel(Arc::new(tables.snapshot()));
        let actor = RouterActor {
            tables,
            version: 0,
            publish,
            runtime,
            settings,
            pending: HashSet::new(),
            inflight: HashSet::new(),
        };
        let addr = ActorRuntime::get()?.start(actor);
        Ok((Router { addr }, snapshots))
    }

    /// Adds members and starts the eager ones.
    pub(crate) async fn add(&self, members: Vec<Member>) -> Result<()> {
        ask(
            self.addr.send(Add(members)),
            MEMBERSHIP_DEADLINE,
            "add a server",
        )
        .await?
    }

    /// Removes a member and closes it.
    pub(crate) async fn remove(&self, name: &str) -> Result<()> {
        let removing = self.addr.send(Remove(name.to_owned()));
        ask(removing, MEMBERSHIP_DEADLINE, "remove a server").await?
    }

    /// Merges fetched lists; answers the snapshot that has them.
    pub(crate) async fn integrate(&self, fetches: Vec<Fetch>) -> Result<Arc<Snapshot>> {
        ask(
            self.addr.send(Integrate(fetches)),
            ACTOR_DEADLINE,
            "merge lists",
        )
        .await
    }
}

async fn ask<T>(
    sending: impl Future<Output = std::result::Result<T, MailboxError>>,
    deadline: Duration,
    what: &str,
) -> Result<T> {
    match tokio::time::timeout(deadline, sending).await {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(e)) => Err(Error::NotConnected(format!(
            "the fleet's router could not {what}: {e}"
        ))),
        Err(_) => Err(Error::Timeout {
            method: format!("fleet router: {what}"),
            elapsed: deadline,
            hint: None,
        }),
    }
}
