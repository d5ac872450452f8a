//! Where the session puts frames to send: a bounded channel to a transport
//! task, or (stdio) a writer the caller may write through directly.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::stdin_writer::StdinWriter;

/// The transport no longer accepts frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the transport is closed")]
pub struct SendError;

/// The sending half of a transport. Cheap to clone.
#[derive(Clone)]
pub struct Outbound(Kind);

#[derive(Clone)]
enum Kind {
    Channel(mpsc::Sender<Bytes>),
    Stdin(Arc<StdinWriter>),
}

impl Outbound {
    /// Frames go into a bounded channel that a transport task drains.
    pub fn channel(tx: mpsc::Sender<Bytes>) -> Self {
        Outbound(Kind::Channel(tx))
    }

    pub(crate) fn stdin(writer: Arc<StdinWriter>) -> Self {
        Outbound(Kind::Stdin(writer))
    }

    /// Queues a frame; waits while the transport is backed up.
    pub async fn send(&self, frame: Bytes) -> Result<(), SendError> {
        match &self.0 {
            Kind::Channel(tx) => tx.send(frame).await.map_err(|_| SendError),
            Kind::Stdin(w) => w.send(frame, false).await,
        }
    }

    /// Sends a frame when nothing else is in flight: a transport that can
    /// write it on the caller's own thread does (saving a task hand-off per
    /// call); otherwise the same as [`Outbound::send`].
    pub async fn send_now(&self, frame: Bytes) -> Result<(), SendError> {
        match &self.0 {
            Kind::Channel(tx) => tx.send(frame).await.map_err(|_| SendError),
            Kind::Stdin(w) => w.send(frame, true).await,
        }
    }

    /// Sends without waiting (e.g. a cancellation from a destructor). A full
    /// channel drops the frame; the stdio writer always takes it.
    pub fn send_nowait(&self, frame: Bytes) -> Result<(), SendError> {
        match &self.0 {
            Kind::Channel(tx) => tx.try_send(frame).map_err(|_| SendError),
            Kind::Stdin(w) => w.push(frame),
        }
    }
}
