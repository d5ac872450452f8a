//! A 404 to a request carrying the session id means the server forgot the
//! session (handshake era). The spec says start a new one; we do it behind
//! the session's back by replaying the `initialize` request and the
//! `initialized` notification it sent, capturing their replies here.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use reqwest::header::HeaderValue;

use super::conn::Conn;
use super::get;
use super::peek::{self, Outgoing};
use super::post::{exchange, Exchange};
use crate::transport::{Inbound, InboundSink};

/// Keeps the replies of the replayed handshake away from the session.
#[derive(Default)]
struct Capture(Mutex<Vec<Bytes>>);

impl InboundSink for Capture {
    fn deliver(&self, event: Inbound) {
        if let Inbound::Frame(f) = event {
            self.0.lock().unwrap_or_else(|p| p.into_inner()).push(f);
        }
    }
}

/// Starts a new session unless another task already did (the session id
/// is no longer `stale`).
pub(crate) async fn reinitialize(conn: &Arc<Conn>, stale: HeaderValue) -> Result<(), String> {
    let _one_at_a_time = conn.reinit.lock().await;
    if conn.session_id().as_ref() != Some(&stale) {
        return Ok(());
    }
    let (init, initialized) = conn
        .handshake_frames()
        .ok_or("the initialize request was not captured")?;
    let init_out = Outgoing::peek(&init).ok_or("the captured initialize is not JSON-RPC")?;
    let id = init_out.id.clone().unwrap_or_default();
    conn.set_session_id(None);
    let capture = Capture::default();
    match exchange(conn, &init, &init_out, &capture).await {
        Exchange::Done => {}
        Exchange::FallbackToSse(why) => return Err(why),
        Exchange::SessionExpired(_) => {
            return Err("the new initialize was refused (HTTP 404)".into())
        }
    }
    let frames = std::mem::take(&mut *capture.0.lock().unwrap_or_else(|p| p.into_inner()));
    let reply = frames
        .iter()
        .find(|f| peek::answers(f, &id))
        .ok_or("no reply to the new initialize")?;
    if peek::initialize_version(reply).is_none() {
        let text = String::from_utf8_lossy(&reply[..reply.len().min(200)]).into_owned();
        return Err(format!("the new initialize failed: {text}"));
    }
    if conn.session_id().is_none() {
        tracing::debug!(transport = %conn.describe_url(), "the new session has no id");
    }
    if let Some(note) = initialized {
        if let Some(out) = Outgoing::peek(&note) {
            exchange(conn, &note, &out, &capture).await;
        }
    }
    tracing::info!(transport = %conn.describe_url(), "started a new HTTP session after the old one expired");
    get::start_listener(conn).await;
    Ok(())
}
