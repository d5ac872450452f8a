//! The operations whose wire form depends on the era, in one place: the
//! client calls them for the caller, and the connection supervisor calls
//! the same ones to put a restarted server back as it was.

use super::{CallOptions, Session};
use crate::protocol::request::{Discover, Ping, SetLevel, Subscribe, Unsubscribe};
use crate::protocol::{
    EmptyParams, Era, LoggingLevel, SetLevelRequestParams, SubscribeRequestParams,
};
use crate::{Error, Result};

impl Session {
    /// A round trip that shows the server is alive: `ping` in the
    /// handshake era; `server/discover` in 2026-07-28, which has no ping.
    pub(crate) async fn probe(&self, call: Option<&CallOptions>) -> Result<()> {
        let empty = EmptyParams::default();
        match self.era() {
            Some(Era::Modern) => self.send::<Discover, _>(&empty, call).await.map(drop),
            _ => self.send::<Ping, _>(&empty, call).await.map(drop),
        }
    }

    /// Sets the level of log messages the server sends: handshake era
    /// `logging/setLevel`; 2026-07-28 puts it in each request's `_meta`
    /// from now on.
    pub(crate) async fn set_log_level(&self, level: LoggingLevel) -> Result<()> {
        match self.era() {
            Some(Era::Modern) => {
                self.set_modern_log_level(level);
                Ok(())
            }
            _ => self
                .send::<SetLevel, _>(&SetLevelRequestParams { level }, None)
                .await
                .map(drop),
        }
    }

    /// Subscribes to (or unsubscribes from) updates of `uri`, `all` being
    /// every URI subscribed once this succeeds. Handshake era:
    /// `resources/subscribe` or `unsubscribe`; 2026-07-28, which has
    /// neither, replaces the `subscriptions/listen` with one for `all`.
    pub(crate) async fn change_subscription(
        &self,
        uri: &str,
        subscribe: bool,
        all: Vec<String>,
    ) -> Result<()> {
        let method = if subscribe {
            "resources/subscribe"
        } else {
            "resources/unsubscribe"
        };
        if self.era() == Some(Era::Modern) {
            if !self.capabilities_subscribe() {
                return Err(Error::NotSupported(format!(
                    "{method}: the server does not offer resource subscriptions"
                )));
            }
            return self.listen(&self.listen_filter(all)).await;
        }
        let params = SubscribeRequestParams::new(uri);
        if subscribe {
            self.send::<Subscribe, _>(&params, None).await.map(drop)
        } else {
            self.send::<Unsubscribe, _>(&params, None).await.map(drop)
        }
    }

    /// Puts back the subscriptions to `uris` on a new connection (after a
    /// restart): one `resources/subscribe` each in the handshake era, one
    /// listen in 2026-07-28. Failures are logged: the connection is usable
    /// without them.
    pub(crate) async fn restore_subscriptions(&self, uris: Vec<String>) {
        if self.era() == Some(Era::Modern) {
            let filter = self.listen_filter(uris);
            if !filter.is_empty() {
                if let Err(e) = self.listen(&filter).await {
                    tracing::warn!(server = %self.name(), "could not listen for changes: {e}");
                }
            }
            return;
        }
        for uri in uris {
            let params = SubscribeRequestParams::new(uri.as_str());
            if let Err(e) = self.send::<Subscribe, _>(&params, None).await {
                tracing::warn!(server = %self.name(), %uri, "could not restore a subscription: {e}");
            }
        }
    }
}
