//! ServerActor: owns one connection's transport and session. It connects,
//! negotiates and closes; calls go straight to the session's own channels
//! (a mailbox hop per call would cost more than the call itself on a local
//! server), so the actor stays the control plane.

use actix::prelude::*;
use futures_util::future::BoxFuture;

use crate::session::{Handlers, Session, SessionOptions};
use crate::transport::Transport;
use crate::{Error, Result};

/// The actor for one server.
pub(crate) struct ServerActor {
    name: String,
    session: Option<Session>,
}

impl ServerActor {
    pub(crate) fn new(name: impl Into<String>) -> Self {
        ServerActor {
            name: name.into(),
            session: None,
        }
    }
}

impl Actor for ServerActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Callers wait on replies; keep the mailbox small so they feel
        // backpressure instead of queueing without bound.
        ctx.set_mailbox_capacity(16);
        tracing::trace!(server = %self.name, "server actor started");
    }
}

/// Start the transport, optionally negotiate, and keep the session.
pub(crate) struct Connect {
    pub(crate) transport: Box<dyn Transport>,
    pub(crate) options: SessionOptions,
    pub(crate) handlers: Handlers,
    pub(crate) negotiate: bool,
    /// The caller's runtime: the connection's I/O tasks run there.
    pub(crate) runtime: tokio::runtime::Handle,
}

impl Message for Connect {
    type Result = Result<Session>;
}

impl Handler<Connect> for ServerActor {
    type Result = ResponseActFuture<Self, Result<Session>>;

    fn handle(&mut self, msg: Connect, _ctx: &mut Self::Context) -> Self::Result {
        let Connect {
            transport,
            options,
            handlers,
            negotiate,
            runtime,
        } = msg;
        let work = runtime.spawn(async move {
            let session = Session::start(transport, options, handlers).await?;
            if negotiate {
                if let Err(e) = session.negotiate().await {
                    let e = with_stderr(e, &session);
                    session.close().await;
                    return Err(e);
                }
            }
            Ok(session)
        });
        Box::pin(
            async move {
                work.await
                    .map_err(|e| Error::NotConnected(format!("connect task failed: {e}")))?
            }
            .into_actor(self)
            .map(|res, actor, _| {
                if let Ok(session) = &res {
                    actor.session = Some(session.clone());
                }
                res
            }),
        )
    }
}

/// Closes the connection (bounded) and stops the actor.
pub(crate) struct Close;

impl Message for Close {
    type Result = ();
}

impl Handler<Close> for ServerActor {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, _msg: Close, _ctx: &mut Self::Context) -> Self::Result {
        let session = self.session.take();
        let closing: BoxFuture<'static, ()> = Box::pin(async move {
            if let Some(s) = session {
                s.close().await;
            }
        });
        Box::pin(closing.into_actor(self).map(|_, _, ctx| ctx.stop()))
    }
}

/// Attaches the server's last stderr lines to a connection error.
fn with_stderr(e: Error, session: &Session) -> Error {
    match e {
        Error::Connect {
            message,
            stderr_tail,
        } if stderr_tail.is_empty() => Error::Connect {
            message,
            stderr_tail: session.stderr_tail(),
        },
        Error::ConnectionClosed {
            reason,
            stderr_tail,
        } if stderr_tail.is_empty() => Error::ConnectionClosed {
            reason,
            stderr_tail: session.stderr_tail(),
        },
        other => other,
    }
}
