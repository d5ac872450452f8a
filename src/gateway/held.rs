//! Upstream calls held across a 2026-07-28 client's input-required round.
//!
//! A handshake-era upstream asks (sampling, elicitation, roots) with a
//! request in the middle of its call, and waits. A 2026-07-28 client can
//! only be asked by ending its request with `input_required` and reading
//! the answer from its retry. So the gateway keeps the upstream call
//! running, holds the ask's answer slot under a random id sealed into the
//! `requestState`, and when the retry comes, gives the upstream its
//! answer and goes on waiting for the call (or for its next ask, another
//! round).
//!
//! A held call lives in one process: the retry must reach the same
//! replica (affinity), within [`HOLD_TTL`]; past it, or when more than
//! [`MAX_HELD`] are held, it is dropped and its upstream call cancelled.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{json, Map, Value};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::relay::InFlight;
use crate::protocol::CallToolResult;
use crate::server::{AskKind, Context, ServerError};
use crate::session::HandlerError;

/// How long a held call waits for the client's retry: ten minutes (a
/// person may be answering), the lifetime of a `requestState`.
pub const HOLD_TTL: Duration = crate::server::DEFAULT_STATE_TTL;

/// At most this many calls are held at once; beyond it an ask is refused.
pub const MAX_HELD: usize = 10_000;

/// An ask of a held upstream call, waiting for the client's answer.
pub(crate) struct HeldAsk {
    kind: AskKind,
    params: Value,
    answer: oneshot::Sender<Result<Value, HandlerError>>,
}

/// Sends an ask through a call's holding channel and waits for the
/// answer its client's retry brings (or the hold's end).
pub(crate) async fn ask(
    asks: &mpsc::Sender<HeldAsk>,
    kind: AskKind,
    params: Value,
) -> Result<Value, HandlerError> {
    let (answer, answered) = oneshot::channel();
    let gone = || HandlerError::internal("the client's request ended before its retry answered");
    asks.send(HeldAsk {
        kind,
        params,
        answer,
    })
    .await
    .map_err(|_| gone())?;
    match tokio::time::timeout(HOLD_TTL, answered).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(_)) => Err(gone()),
        Err(_) => Err(HandlerError::internal(
            "the client did not retry with an answer in time",
        )),
    }
}

/// An upstream call's task, cancelled when dropped.
pub(crate) struct Call(pub(crate) JoinHandle<crate::Result<CallToolResult>>);

impl Drop for Call {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// A call whose client is answering an ask.
pub(crate) struct Held {
    server: String,
    call: Call,
    asks: mpsc::Receiver<HeldAsk>,
    /// The key the ask went out under, and where its answer goes.
    pending: (String, oneshot::Sender<Result<Value, HandlerError>>),
    /// How many asks it made so far (for the keys).
    rounds: usize,
    route: InFlight,
    since: Instant,
}

/// The held calls of one gateway.
#[derive(Default)]
pub(crate) struct HeldCalls {
    calls: Mutex<HashMap<String, Held>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A random id: 128 bits, hex.
fn new_id() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl HeldCalls {
    fn hold(&self, held: Held) -> Option<String> {
        let mut calls = lock(&self.calls);
        calls.retain(|_, h| h.since.elapsed() < HOLD_TTL);
        if calls.len() >= MAX_HELD {
            return None;
        }
        let id = new_id();
        calls.insert(id.clone(), held);
        Some(id)
    }

    fn take(&self, id: &str) -> Option<Held> {
        lock(&self.calls)
            .remove(id)
            .filter(|h| h.since.elapsed() < HOLD_TTL)
    }
}

/// A call in progress for a 2026-07-28 client: its task, the channel its
/// asks come on, how many rounds it had, and its route.
pub(crate) struct Running {
    pub(crate) call: Call,
    pub(crate) asks: mpsc::Receiver<HeldAsk>,
    pub(crate) rounds: usize,
    pub(crate) route: InFlight,
}

/// Waits for `running`'s outcome for request `cx`; if the upstream asks
/// first, holds the call and answers `cx` with the ask as an
/// input-required round.
pub(crate) async fn drive(
    held: &HeldCalls,
    cx: &Context,
    server: &str,
    mut running: Running,
) -> Result<crate::Result<CallToolResult>, ServerError> {
    tokio::select! {
        biased;
        out = &mut running.call.0 => Ok(out.unwrap_or_else(|e| {
            Err(crate::Error::Io(std::io::Error::other(format!("the upstream call failed: {e}"))))
        })),
        Some(asked) = running.asks.recv() => {
            let key = format!("{}-{}", asked.kind.capability(), running.rounds);
            let ask = json!({"method": asked.kind.method(), "params": asked.params});
            running.route.close();
            let hold = Held {
                server: server.to_owned(),
                call: running.call,
                asks: running.asks,
                pending: (key.clone(), asked.answer),
                rounds: running.rounds + 1,
                route: running.route,
                since: Instant::now(),
            };
            let Some(id) = held.hold(hold) else {
                return Err(ServerError::internal(format!(
                    "the gateway holds {MAX_HELD} calls already: try again later"
                )));
            };
            let asks = Map::from_iter([(key, ask)]);
            Err(cx.relay_round(asks, json!({"s": server, "h": id})))
        }
    }
}

/// The retry of a held call: gives the upstream the answer `cx` brings
/// and takes the call up again.
pub(crate) fn resume(
    held: &HeldCalls,
    cx: &Context,
    server: &str,
    id: &str,
) -> Result<Running, ServerError> {
    let Some(call) = held.take(id) else {
        return Err(ServerError::invalid_params(format!(
            "invalid requestState: the upstream call it belongs to is not held here (a \
             handshake-era upstream's asks need the retry on the same gateway replica, within \
             {} s)",
            HOLD_TTL.as_secs()
        )));
    };
    if call.server != server {
        return Err(ServerError::invalid_params(
            "invalid requestState: minted for another server",
        ));
    }
    let (key, answer) = call.pending;
    let Some(value) = cx.input_responses().remove(&key) else {
        return Err(ServerError::invalid_params(format!(
            "the retry does not answer {key}"
        )));
    };
    let _ = answer.send(Ok(value));
    call.route.reopen(cx);
    Ok(Running {
        call: call.call,
        asks: call.asks,
        rounds: call.rounds,
        route: call.route,
    })
}
