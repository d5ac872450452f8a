//! The fleet's merged tables: every member, each one's last tool, prompt
//! and resource lists, the namespaced merged lists, and the name tables
//! that resolve namespaced names back to (server, name).
//!
//! The router actor owns the mutable [`Tables`] and is the only writer; it
//! publishes an immutable [`Snapshot`] (behind an `Arc`) after every change
//! of membership or of a server's list. Readers clone the `Arc` and see one
//! consistent picture: never a member without its names, or names of a
//! server already removed.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::member::{Fetch, Server};
use super::names::NameTable;
use crate::protocol::{Prompt, Resource, Tool};

/// Which list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Tools,
    Prompts,
    Resources,
}

impl Kind {
    pub(crate) const ALL: [Kind; 3] = [Kind::Tools, Kind::Prompts, Kind::Resources];

    pub(crate) fn index(self) -> usize {
        match self {
            Kind::Tools => 0,
            Kind::Prompts => 1,
            Kind::Resources => 2,
        }
    }
}

/// A list as fetched (tools already filtered, names not namespaced).
pub(crate) enum Lists {
    Tools(Vec<Tool>),
    Prompts(Vec<Prompt>),
    Resources(Vec<Resource>),
}

/// One server's list and when it was taken.
pub(crate) struct Listed<T> {
    pub(crate) items: Arc<Vec<T>>,
    /// When the fetch began (the TTL counts from here).
    pub(crate) taken: Instant,
    /// The server's change count when the fetch began.
    pub(crate) seen: u64,
    /// The client's restart count then: a restarted server may list
    /// other things, and need not say so.
    pub(crate) restarts: Option<u32>,
}

impl<T> Clone for Listed<T> {
    fn clone(&self) -> Self {
        Listed {
            items: self.items.clone(),
            taken: self.taken,
            seen: self.seen,
            restarts: self.restarts,
        }
    }
}

/// When and from what a list was taken.
struct Stamp {
    taken: Instant,
    seen: u64,
    restarts: Option<u32>,
}

impl Stamp {
    fn listed<T>(&self, items: Vec<T>) -> Listed<T> {
        Listed {
            items: Arc::new(items),
            taken: self.taken,
            seen: self.seen,
            restarts: self.restarts,
        }
    }
}

/// One member and its lists (`None`: never fetched, or the last fetch
/// failed; the next list call fetches it).
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) server: Arc<Server>,
    pub(crate) tools: Option<Listed<Tool>>,
    pub(crate) prompts: Option<Listed<Prompt>>,
    pub(crate) resources: Option<Listed<Resource>>,
}

impl Entry {
    pub(crate) fn new(server: Arc<Server>) -> Self {
        Entry {
            server,
            tools: None,
            prompts: None,
            resources: None,
        }
    }

    /// (taken, seen) of the kept list of this kind.
    pub(crate) fn stamp(&self, kind: Kind) -> Option<(Instant, u64)> {
        match kind {
            Kind::Tools => self.tools.as_ref().map(|l| (l.taken, l.seen)),
            Kind::Prompts => self.prompts.as_ref().map(|l| (l.taken, l.seen)),
            Kind::Resources => self.resources.as_ref().map(|l| (l.taken, l.seen)),
        }
    }

    /// The kept list is missing, older than `ttl`, older than a change
    /// the server announced, or from before the server restarted.
    pub(crate) fn stale(&self, kind: Kind, ttl: Duration) -> bool {
        match self.stamp(kind) {
            None => true,
            Some((taken, seen)) => {
                seen != self.server.changes(kind) || taken.elapsed() >= ttl || self.restarted(kind)
            }
        }
    }

    fn restarted(&self, kind: Kind) -> bool {
        let kept = match kind {
            Kind::Tools => self.tools.as_ref().and_then(|l| l.restarts),
            Kind::Prompts => self.prompts.as_ref().and_then(|l| l.restarts),
            Kind::Resources => self.resources.as_ref().and_then(|l| l.restarts),
        };
        match (kept, self.server.restarts()) {
            (Some(then), Some(now)) => now != then,
            _ => false,
        }
    }

    /// The kept list is older than a change the server announced.
    pub(crate) fn changed(&self, kind: Kind) -> bool {
        self.stamp(kind)
            .is_some_and(|(_, seen)| seen != self.server.changes(kind))
    }

    /// Keeps a fetch's outcome unless a newer one is kept already; a
    /// failure drops the list (the server is left out until it answers).
    /// True when anything changed.
    pub(crate) fn apply(&mut self, fetch: Fetch) -> bool {
        if let Some(kept) = self.stamp(fetch.kind) {
            if (fetch.seen, fetch.taken) < (kept.1, kept.0) {
                return false;
            }
        }
        let (taken, seen, restarts) = (fetch.taken, fetch.seen, fetch.restarts);
        let stamp = Stamp {
            taken,
            seen,
            restarts,
        };
        match (fetch.kind, fetch.result) {
            (_, Ok(Lists::Tools(items))) => self.tools = Some(stamp.listed(items)),
            (_, Ok(Lists::Prompts(items))) => self.prompts = Some(stamp.listed(items)),
            (_, Ok(Lists::Resources(items))) => self.resources = Some(stamp.listed(items)),
            (kind, Err(_)) => {
                let had = self.stamp(kind).is_some();
                match kind {
                    Kind::Tools => self.tools = None,
                    Kind::Prompts => self.prompts = None,
                    Kind::Resources => self.resources = None,
                }
                return had;
            }
        }
        true
    }
}

/// What the router owns and changes: members with their lists, and the
/// name tables (which remember names across rebuilds, so a name never
/// changes while its server stays).
#[derive(Default)]
pub(crate) struct Tables {
    pub(crate) entries: BTreeMap<String, Entry>,
    tool_names: Arc<NameTable>,
    prompt_names: Arc<NameTable>,
}

impl Tables {
    /// Forgets a server and its names.
    pub(crate) fn remove(&mut self, name: &str) -> Option<Entry> {
        let entry = self.entries.remove(name)?;
        Arc::make_mut(&mut self.tool_names).remove_server(name);
        Arc::make_mut(&mut self.prompt_names).remove_server(name);
        Some(entry)
    }

    /// Merges every kept list into a new snapshot.
    pub(crate) fn snapshot(&mut self) -> Snapshot {
        let mut tools = Vec::new();
        let mut prompts = Vec::new();
        let mut resources = Vec::new();
        let members: Vec<&str> = self.entries.keys().map(String::as_str).collect();
        for (server, entry) in &self.entries {
            if let Some(l) = &entry.tools {
                for tool in l.items.iter() {
                    let mut tool = tool.clone();
                    tool.name = namespaced(&mut self.tool_names, server, &tool.name, &members);
                    tools.push(tool);
                }
            }
            if let Some(l) = &entry.prompts {
                for prompt in l.items.iter() {
                    let mut prompt = prompt.clone();
                    prompt.name =
                        namespaced(&mut self.prompt_names, server, &prompt.name, &members);
                    prompts.push(prompt);
                }
            }
            if let Some(l) = &entry.resources {
                resources.extend(l.items.iter().map(|r| (server.clone(), r.clone())));
            }
        }
        let mut resource_owners: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, (_, resource)) in resources.iter().enumerate() {
            resource_owners
                .entry(resource.uri.clone())
                .or_default()
                .push(i);
        }
        Snapshot {
            entries: self.entries.clone(),
            tools,
            prompts,
            resources,
            resource_owners,
            tool_names: self.tool_names.clone(),
            prompt_names: self.prompt_names.clone(),
        }
    }
}

/// The name of `name` on `server`, made (copying the table only if a
/// published snapshot still shares it) when new.
fn namespaced(table: &mut Arc<NameTable>, server: &str, name: &str, members: &[&str]) -> String {
    match table.get(server, name) {
        Some(existing) => existing.to_owned(),
        None => Arc::make_mut(table).insert_among(server, name, members.iter().copied()),
    }
}

/// One consistent picture of the fleet, as the router last published it.
pub(crate) struct Snapshot {
    pub(crate) entries: BTreeMap<String, Entry>,
    /// Every kept tool under its namespaced name.
    pub(crate) tools: Vec<Tool>,
    /// Every kept prompt under its namespaced name.
    pub(crate) prompts: Vec<Prompt>,
    /// Every kept resource with its server's name.
    pub(crate) resources: Vec<(String, Resource)>,
    /// Where each URI is in `resources`: one place, or one per server that
    /// lists it (in server order).
    pub(crate) resource_owners: HashMap<String, Vec<usize>>,
    tool_names: Arc<NameTable>,
    prompt_names: Arc<NameTable>,
}

impl Snapshot {
    /// The servers that list resource `uri`, in server order.
    pub(crate) fn owners_of(&self, uri: &str) -> Vec<String> {
        self.resource_owners
            .get(uri)
            .into_iter()
            .flatten()
            .filter_map(|&i| self.resources.get(i).map(|(server, _)| server.clone()))
            .collect()
    }

    pub(crate) fn server(&self, name: &str) -> Option<&Arc<Server>> {
        self.entries.get(name).map(|e| &e.server)
    }

    pub(crate) fn servers(&self) -> impl Iterator<Item = &Arc<Server>> {
        self.entries.values().map(|e| &e.server)
    }

    /// The members whose list of this kind must be fetched before use.
    pub(crate) fn stale(&self, kind: Kind, ttl: Duration) -> Vec<Arc<Server>> {
        self.entries
            .values()
            .filter(|e| e.stale(kind, ttl))
            .map(|e| e.server.clone())
            .collect()
    }

    pub(crate) fn resolve_tool(&self, namespaced: &str) -> Option<(String, String)> {
        self.tool_names
            .resolve(namespaced)
            .map(|(s, t)| (s.to_owned(), t.to_owned()))
    }

    /// The namespaced name of `server`'s own tool `tool`.
    pub(crate) fn tool_name(&self, server: &str, tool: &str) -> Option<String> {
        self.tool_names.get(server, tool).map(str::to_owned)
    }

    pub(crate) fn resolve_prompt(&self, namespaced: &str) -> Option<(String, String)> {
        self.prompt_names
            .resolve(namespaced)
            .map(|(s, p)| (s.to_owned(), p.to_owned()))
    }

    /// The members whose kept tool list has `tool` (its own name).
    pub(crate) fn servers_with_tool(&self, tool: &str) -> Vec<Arc<Server>> {
        self.entries
            .values()
            .filter(|e| {
                e.tools
                    .as_ref()
                    .is_some_and(|l| l.items.iter().any(|t| t.name == tool))
            })
            .map(|e| e.server.clone())
            .collect()
    }

    /// The servers whose last resource list has `uri`.
    pub(crate) fn servers_with_resource(&self, uri: &str) -> Vec<Arc<Server>> {
        self.owners_of(uri)
            .iter()
            .filter_map(|name| self.server(name).cloned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::member::Member;
    use crate::{Client, Error, Result, Source};

    fn server(name: &str) -> Arc<Server> {
        let member = Member::new(name, || {
            Client::builder(Source::memory(crate::testing::demo_server()))
        });
        Server::new(member, Arc::new(|_: &str| {}))
    }

    fn tools(names: &[&str]) -> Lists {
        Lists::Tools(
            names
                .iter()
                .map(|n| {
                    serde_json::from_value(serde_json::json!({
                        "name": n, "inputSchema": {"type": "object"}
                    }))
                    .expect("a tool")
                })
                .collect(),
        )
    }

    fn fetch(server: &Arc<Server>, seen: u64, taken: Instant, result: Result<Lists>) -> Fetch {
        Fetch {
            server: server.clone(),
            kind: Kind::Tools,
            seen,
            restarts: None,
            taken,
            result,
        }
    }

    fn listed(entry: &Entry) -> Vec<String> {
        entry.tools.as_ref().map_or_else(Vec::new, |l| {
            l.items.iter().map(|t| t.name.clone()).collect()
        })
    }

    #[test]
    fn an_older_answer_never_replaces_a_newer_one() {
        let s = server("s");
        let mut entry = Entry::new(s.clone());
        assert!(entry.stale(Kind::Tools, Duration::from_secs(60)));
        let early = Instant::now();
        let late = early + Duration::from_millis(5);
        assert!(entry.apply(fetch(&s, 1, late, Ok(tools(&["new"])))));
        assert!(!entry.apply(fetch(&s, 0, early, Ok(tools(&["old"])))));
        assert!(!entry.apply(fetch(&s, 1, early, Ok(tools(&["old"])))));
        assert_eq!(listed(&entry), ["new"]);
        // A failure as new as the list drops it: the server is left out.
        let failed = Err(Error::NotConnected("down".into()));
        assert!(entry.apply(fetch(&s, 1, late, failed)));
        assert!(entry.tools.is_none());
        let failed = Err(Error::NotConnected("down".into()));
        assert!(
            !entry.apply(fetch(&s, 1, late, failed)),
            "nothing left to drop"
        );
    }

    #[test]
    fn a_list_is_stale_after_its_ttl_or_an_announced_change() {
        let s = server("s");
        let mut entry = Entry::new(s.clone());
        entry.apply(fetch(
            &s,
            s.changes(Kind::Tools),
            Instant::now(),
            Ok(tools(&["a"])),
        ));
        assert!(!entry.stale(Kind::Tools, Duration::from_secs(60)));
        assert!(entry.stale(Kind::Tools, Duration::ZERO));
        assert!(!entry.changed(Kind::Tools));
        // Prompts were never fetched.
        assert!(entry.stale(Kind::Prompts, Duration::from_secs(60)));
        assert!(
            !entry.changed(Kind::Prompts),
            "never listed: fetched on use"
        );
    }

    #[test]
    fn merged_names_are_stable_and_removal_forgets_them() {
        let mut tables = Tables::default();
        for name in ["b", "a"] {
            let s = server(name);
            let mut entry = Entry::new(s.clone());
            entry.apply(fetch(&s, 0, Instant::now(), Ok(tools(&["x", "y.z"]))));
            tables.entries.insert(name.into(), entry);
        }
        let first = tables.snapshot();
        let names: Vec<&str> = first.tools.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["a_x", "a_y_z", "b_x", "b_y_z"]);
        assert_eq!(
            first.resolve_tool("a_y_z"),
            Some(("a".into(), "y.z".into()))
        );
        assert_eq!(first.servers_with_tool("x").len(), 2);
        tables.remove("a");
        let second = tables.snapshot();
        assert_eq!(second.resolve_tool("a_x"), None);
        assert_eq!(second.resolve_tool("b_x"), Some(("b".into(), "x".into())));
        // The published snapshot is immutable: the first still resolves.
        assert_eq!(first.resolve_tool("a_x"), Some(("a".into(), "x".into())));
        assert_eq!(second.tools.len(), 2);
    }
}
