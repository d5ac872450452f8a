//! The actix system thread every actor runs on.
//!
//! actix needs a `System` on the current thread, which a plain tokio
//! program does not have. So the runtime keeps one dedicated thread running
//! an actix `System`, started on first use; our handles talk to it through
//! `Addr::send`, whose futures are `Send`. No actix type appears in the
//! public API. The actors themselves live with the feature they serve: the
//! connection supervisor in `client/supervisor.rs`, the router in
//! `fleet/router.rs`, the sampling actor in `sampling/actor.rs`, the policy
//! actor in `policy/actor.rs`.

use std::sync::OnceLock;
use std::thread;

use actix::{Actor, Addr, ArbiterHandle, Context};

use crate::{Error, Result};

/// The dedicated actix thread.
pub(crate) struct ActorRuntime {
    arbiter: ArbiterHandle,
}

static RUNTIME: OnceLock<std::result::Result<ActorRuntime, String>> = OnceLock::new();

impl ActorRuntime {
    /// The process-wide runtime, started on first use.
    pub(crate) fn get() -> Result<&'static ActorRuntime> {
        RUNTIME
            .get_or_init(|| {
                let (tx, rx) = std::sync::mpsc::channel();
                let spawned = thread::Builder::new()
                    .name("switchboard-actors".into())
                    .spawn(move || {
                        let system = actix::System::new();
                        system.block_on(async {
                            let _ = tx.send(actix::Arbiter::current());
                        });
                        if let Err(e) = system.run() {
                            tracing::error!("actor system stopped: {e}");
                        }
                    });
                match spawned {
                    Ok(_) => rx
                        .recv()
                        .map(|arbiter| ActorRuntime { arbiter })
                        .map_err(|_| "the actor thread died while starting".to_owned()),
                    Err(e) => Err(format!("could not start the actor thread: {e}")),
                }
            })
            .as_ref()
            .map_err(|e| Error::NotConnected(e.clone()))
    }

    /// Starts an actor on the runtime's thread.
    pub(crate) fn start<A>(&self, actor: A) -> Addr<A>
    where
        A: Actor<Context = Context<A>> + Send,
    {
        A::start_in_arbiter(&self.arbiter, move |_| actor)
    }
}
