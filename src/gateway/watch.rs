//! Telling downstream clients what changed upstream. The fleet publishes
//! a new table whenever a list is refetched or a server is added or
//! removed; a server going down or coming back shows in its health. On
//! either, the gateway recomputes its catalog and sends one `list_changed`
//! per kind that really changed, however many upstream events led there.

use std::time::Duration;

use crate::fleet::{Fleet, ServerState};
use crate::server::Notifier;

/// How often health is looked at between table changes.
const HEALTH_POLL: Duration = Duration::from_millis(500);

/// Coalescing window: events this close together cost one recomputation.
const SETTLE: Duration = Duration::from_millis(50);

/// What the downstream lists are made of, to compare.
#[derive(PartialEq, Eq, Default)]
struct Catalog {
    tools: Vec<String>,
    prompts: Vec<String>,
    resources: Vec<String>,
}

async fn catalog(fleet: &Fleet) -> Catalog {
    let mut tools: Vec<String> = fleet
        .list_tools()
        .await
        .into_iter()
        .map(|t| t.name)
        .collect();
    let mut prompts: Vec<String> = fleet
        .list_prompts()
        .await
        .into_iter()
        .map(|p| p.name)
        .collect();
    let mut resources: Vec<String> = fleet
        .list_resources()
        .await
        .into_iter()
        .map(|(_, r)| r.uri)
        .collect();
    tools.sort_unstable();
    prompts.sort_unstable();
    resources.sort_unstable();
    Catalog {
        tools,
        prompts,
        resources,
    }
}

fn ready_set(fleet: &Fleet) -> Vec<String> {
    fleet
        .health()
        .into_iter()
        .filter(|h| h.state == ServerState::Ready)
        .map(|h| h.name)
        .collect()
}

/// Runs until the fleet is gone.
pub(super) async fn tell_changes(fleet: Fleet, notifier: Notifier) {
    let mut watch = fleet.watch();
    let mut known = catalog(&fleet).await;
    let mut ready = ready_set(&fleet);
    let mut poll = tokio::time::interval(HEALTH_POLL);
    poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            alive = watch.changed() => if !alive { return },
            _ = poll.tick() => {
                let now = ready_set(&fleet);
                if now == ready {
                    continue;
                }
                ready = now;
            }
        }
        tokio::time::sleep(SETTLE).await;
        let now = catalog(&fleet).await;
        if now.tools != known.tools {
            notifier.tools_changed();
        }
        if now.prompts != known.prompts {
            notifier.prompts_changed();
        }
        if now.resources != known.resources {
            notifier.resources_changed();
        }
        known = now;
    }
}
