//! PolicyActor: owns a policy's rules, roots, counters and the clients it
//! tells about root changes. It only decides and keeps books: questions to
//! a person or a filler run in the caller's task (see
//! [`crate::policy::Policy`]), never in this mailbox, so a slow human
//! cannot stall the decisions for every other server.

use std::sync::Arc;

use actix::prelude::*;

use crate::policy::decide::{Engine, Plan};
use crate::policy::roots::RootsTable;
use crate::policy::PolicyStats;
use crate::protocol::{ElicitAction, ElicitRequestParams, Root};
use crate::Client;

/// The actor.
pub(crate) struct PolicyActor {
    engine: Engine,
    roots: RootsTable,
    stats: PolicyStats,
    /// Clients to tell when their roots change, by server name.
    attached: Vec<(String, Client)>,
}

impl PolicyActor {
    pub(crate) fn new(engine: Engine, roots: RootsTable) -> Self {
        PolicyActor {
            engine,
            roots,
            stats: PolicyStats::default(),
            attached: Vec::new(),
        }
    }

    fn count(&mut self, event: Event) {
        let s = &mut self.stats;
        match event {
            Event::Answered(ElicitAction::Accept) => s.accepted += 1,
            Event::Answered(ElicitAction::Decline) => s.declined += 1,
            Event::Answered(ElicitAction::Cancel) => s.cancelled += 1,
            Event::Refused => s.refused += 1,
            Event::Asked => s.asked += 1,
            Event::Filled => s.filled += 1,
            Event::TimedOut => s.timed_out += 1,
        }
    }

    /// Forgets clients whose connection is gone.
    fn prune(&mut self) {
        self.attached.retain(|(_, c)| !c.is_closed());
    }
}

impl Actor for PolicyActor {
    type Context = Context<Self>;
}

/// Something to count.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Event {
    /// A request was answered with this action.
    Answered(ElicitAction),
    /// A request was refused with an error.
    Refused,
    /// The user callback was asked.
    Asked,
    /// The form filler was asked.
    Filled,
    /// The callback or filler missed its deadline.
    TimedOut,
}

/// Decide what to do with a request.
pub(crate) struct Decide {
    pub(crate) params: ElicitRequestParams,
    pub(crate) server: Arc<str>,
}

impl Message for Decide {
    type Result = Plan;
}

impl Handler<Decide> for PolicyActor {
    type Result = MessageResult<Decide>;

    fn handle(&mut self, msg: Decide, _: &mut Context<Self>) -> Self::Result {
        self.stats.elicitations += 1;
        let plan = self.engine.plan(msg.params, msg.server);
        match &plan {
            Plan::Done(Ok(r)) => self.count(Event::Answered(r.action)),
            Plan::Done(Err(_)) => self.count(Event::Refused),
            _ => {}
        }
        MessageResult(plan)
    }
}

/// Count what happened after a question was asked.
pub(crate) struct Record(pub(crate) Vec<Event>);

impl Message for Record {
    type Result = ();
}

impl Handler<Record> for PolicyActor {
    type Result = ();

    fn handle(&mut self, msg: Record, _: &mut Context<Self>) {
        for e in msg.0 {
            self.count(e);
        }
    }
}

/// The roots of a server.
pub(crate) struct ListRoots(pub(crate) String);

impl Message for ListRoots {
    type Result = Vec<Root>;
}

impl Handler<ListRoots> for PolicyActor {
    type Result = MessageResult<ListRoots>;

    fn handle(&mut self, msg: ListRoots, _: &mut Context<Self>) -> Self::Result {
        self.stats.roots_listed += 1;
        MessageResult(self.roots.for_server(&msg.0))
    }
}

/// Replace a server's roots (`None`: the default list); answers the
/// attached clients that must be told, with their server's name.
pub(crate) struct SetRoots {
    pub(crate) server: Option<String>,
    pub(crate) roots: Vec<Root>,
}

impl Message for SetRoots {
    type Result = Vec<(String, Client)>;
}

impl Handler<SetRoots> for PolicyActor {
    type Result = MessageResult<SetRoots>;

    fn handle(&mut self, msg: SetRoots, _: &mut Context<Self>) -> Self::Result {
        self.stats.roots_changes += 1;
        self.roots.set(msg.server.as_deref(), msg.roots);
        self.prune();
        let affected = self
            .attached
            .iter()
            .filter(|(name, _)| match &msg.server {
                Some(s) => name == s,
                None => !self.roots.is_named(name),
            })
            .cloned()
            .collect();
        MessageResult(affected)
    }
}

/// Remember a client, to tell it when its server's roots change.
pub(crate) struct Attach {
    pub(crate) server: String,
    pub(crate) client: Client,
}

impl Message for Attach {
    type Result = ();
}

impl Handler<Attach> for PolicyActor {
    type Result = ();

    fn handle(&mut self, msg: Attach, _: &mut Context<Self>) {
        self.prune();
        self.attached.push((msg.server, msg.client));
    }
}

/// Forget the clients of a server.
pub(crate) struct Detach(pub(crate) String);

impl Message for Detach {
    type Result = usize;
}

impl Handler<Detach> for PolicyActor {
    type Result = usize;

    fn handle(&mut self, msg: Detach, _: &mut Context<Self>) -> usize {
        let before = self.attached.len();
        self.attached.retain(|(name, _)| *name != msg.0);
        before - self.attached.len()
    }
}

/// The counters so far.
pub(crate) struct Stats;

impl Message for Stats {
    type Result = PolicyStats;
}

impl Handler<Stats> for PolicyActor {
    type Result = MessageResult<Stats>;

    fn handle(&mut self, _: Stats, _: &mut Context<Self>) -> Self::Result {
        let mut stats = self.stats.clone();
        self.prune();
        stats.attached = self.attached.len();
        MessageResult(stats)
    }
}
