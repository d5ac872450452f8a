//! The in-memory transport: a pair of channels to a server running in this
//! process (see [`crate::testing`] for one).

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{Closed, Inbound, InboundSink, Transport, TransportControl, TransportHandle};
use crate::Result;

/// Capacity of each direction's channel.
const CHANNEL_CAPACITY: usize = 64;

/// A server that runs in this process and talks over a [`ServerEnd`].
pub trait InProcessServer: Send + Sync + 'static {
    /// Serves one client until `end.incoming` closes. Dropping
    /// `end.outgoing` tells the client the server has gone away.
    fn serve(&self, end: ServerEnd) -> BoxFuture<'static, ()>;
}

/// The server's side of an in-memory connection.
pub struct ServerEnd {
    /// Frames from the client, one JSON-RPC message each.
    pub incoming: mpsc::Receiver<Bytes>,
    /// Frames to the client.
    pub outgoing: mpsc::Sender<Bytes>,
}

pub(crate) struct MemoryTransport {
    pub(crate) server: Arc<dyn InProcessServer>,
    pub(crate) max_message_size: usize,
}

struct MemoryControl {
    tasks: Mutex<Vec<JoinHandle<()>>>,
}

impl TransportControl for MemoryControl {
    fn close(&self) -> BoxFuture<'static, ()> {
        let tasks = std::mem::take(&mut *self.tasks.lock().unwrap_or_else(|p| p.into_inner()));
        Box::pin(async move {
            for t in tasks {
                t.abort();
            }
        })
    }
    fn kill(&self) {
        for t in lock_tasks(&self.tasks).drain(..) {
            t.abort();
        }
    }

    fn stderr_tail(&self) -> Vec<String> {
        Vec::new()
    }
    fn describe(&self) -> String {
        "memory".into()
    }
}

fn lock_tasks(m: &Mutex<Vec<JoinHandle<()>>>) -> std::sync::MutexGuard<'_, Vec<JoinHandle<()>>> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Drop for MemoryControl {
    fn drop(&mut self) {
        for t in self
            .tasks
            .get_mut()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            t.abort();
        }
    }
}

impl Transport for MemoryTransport {
    fn start(
        self: Box<Self>,
        sink: Arc<dyn InboundSink>,
    ) -> BoxFuture<'static, Result<TransportHandle>> {
        Box::pin(async move {
            let (to_server, server_in) = mpsc::channel(CHANNEL_CAPACITY);
            let (server_out, mut from_server) = mpsc::channel::<Bytes>(CHANNEL_CAPACITY);
            let serve = self.server.serve(ServerEnd {
                incoming: server_in,
                outgoing: server_out,
            });
            let server_task = tokio::spawn(serve);
            let limit = self.max_message_size;
            let pump = tokio::spawn(async move {
                while let Some(frame) = from_server.recv().await {
                    if frame.len() > limit {
                        let head = frame.slice(..frame.len().min(4096));
                        let tail = frame.slice(frame.len().saturating_sub(256)..);
                        sink.deliver(Inbound::Oversized {
                            size: frame.len(),
                            head,
                            tail,
                        });
                    } else {
                        sink.deliver(Inbound::Frame(frame));
                    }
                }
                sink.deliver(Inbound::Closed(Closed {
                    reason: "in-process server closed the connection".into(),
                    stderr_tail: Vec::new(),
                }));
            });
            Ok(TransportHandle {
                outbound: super::Outbound::channel(to_server),
                control: Arc::new(MemoryControl {
                    tasks: Mutex::new(vec![server_task, pump]),
                }),
            })
        })
    }
}
