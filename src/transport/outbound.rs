//! Where the session puts frames to send: a bounded channel to a transport
//! task (of bytes, or of [`Frame`]s with their metadata), or (stdio) a
//! writer the caller may write through directly.

use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::frame::Frame;
use super::stdin_writer::StdinWriter;

/// The transport no longer accepts frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the transport is closed")]
pub struct SendError;

/// The sending half of a transport. Cheap to clone.
///
/// A byte transport ([`Outbound::channel`], stdio) writes each frame's
/// bytes and never sees metadata; a routing transport
/// ([`Outbound::frames`]) gets every frame with its [`super::FrameMeta`].
#[derive(Clone)]
pub struct Outbound(Kind);

#[derive(Clone)]
enum Kind {
    Bytes(mpsc::Sender<Bytes>),
    Frames(mpsc::Sender<Frame>),
    Stdin(Arc<StdinWriter>),
}

impl Outbound {
    /// Frames go, as bytes alone, into a bounded channel that a transport
    /// task drains.
    pub fn channel(tx: mpsc::Sender<Bytes>) -> Self {
        Outbound(Kind::Bytes(tx))
    }

    /// Frames go, with their metadata, into a bounded channel that a
    /// transport task drains.
    pub fn frames(tx: mpsc::Sender<Frame>) -> Self {
        Outbound(Kind::Frames(tx))
    }

    pub(crate) fn stdin(writer: Arc<StdinWriter>) -> Self {
        Outbound(Kind::Stdin(writer))
    }

    /// True if the transport reads frame metadata (so the session builds
    /// it); false for byte transports.
    pub fn wants_meta(&self) -> bool {
        matches!(self.0, Kind::Frames(_))
    }

    /// Queues a frame; waits while the transport is backed up.
    pub fn send(
        &self,
        frame: impl Into<Frame>,
    ) -> impl Future<Output = Result<(), SendError>> + Send + '_ {
        self.send_maybe_now(frame.into(), false)
    }

    /// Sends a frame when nothing else is in flight: a transport that can
    /// write it on the caller's own thread does (saving a task hand-off per
    /// call); otherwise the same as [`Outbound::send`].
    pub fn send_now(
        &self,
        frame: impl Into<Frame>,
    ) -> impl Future<Output = Result<(), SendError>> + Send + '_ {
        self.send_maybe_now(frame.into(), true)
    }

    /// [`Outbound::send_now`] when `now`, else [`Outbound::send`]: one
    /// future for a caller that decides at run time.
    ///
    /// There is nearly always room: a wait for it is boxed, so that this
    /// future (a part of every request's) is small.
    pub(crate) async fn send_maybe_now(&self, frame: Frame, now: bool) -> Result<(), SendError> {
        match &self.0 {
            Kind::Bytes(tx) => send_or_wait(tx, frame.into_bytes()).await,
            Kind::Frames(tx) => send_or_wait(tx, frame).await,
            Kind::Stdin(w) => w.send(frame.into_bytes(), now).await,
        }
    }

    /// Sends without waiting (e.g. a cancellation from a destructor). A full
    /// channel drops the frame (and returns an error); the stdio writer
    /// always takes it.
    pub fn send_nowait(&self, frame: impl Into<Frame>) -> Result<(), SendError> {
        let frame = frame.into();
        match &self.0 {
            Kind::Bytes(tx) => tx.try_send(frame.into_bytes()).map_err(|_| SendError),
            Kind::Frames(tx) => tx.try_send(frame).map_err(|_| SendError),
            Kind::Stdin(w) => w.push(frame.into_bytes()),
        }
    }
}

/// Sends `item` on a channel that has room at once; a wait for room is
/// boxed, so that it takes no room in the caller's future unless it
/// happens.
async fn send_or_wait<T>(tx: &mpsc::Sender<T>, item: T) -> Result<(), SendError> {
    match tx.try_send(item) {
        Err(mpsc::error::TrySendError::Full(item)) => {
            Box::pin(tx.send(item)).await.map_err(|_| SendError)
        }
        sent => sent.map_err(|_| SendError),
    }
}
