//! Which upstream a resource URI belongs to: the server that lists it,
//! else the first server (in config order) with a template that matches
//! it. URIs are served as the upstreams give them; two servers listing
//! the same URI are told apart by config order (the first wins).

use crate::protocol::ResourceTemplate;
use crate::server::uri_template::UriTemplate;

use super::Gateway;

impl Gateway {
    /// Every server's templates, in config order, with the server's name.
    /// Servers that are down or serve no templates are left out.
    pub(super) async fn templates(&self) -> Vec<(String, ResourceTemplate)> {
        let fleet = &self.inner.fleet;
        let servers = match &self.inner.only {
            Some(only) => vec![only.clone()],
            None => fleet.server_names(),
        };
        let lists = futures_util::future::join_all(servers.into_iter().map(|server| async move {
            let listed = match fleet.client(&server).await {
                Ok(client) if client.capabilities().is_some_and(|c| c.resources.is_some()) => {
                    client.list_resource_templates().await.unwrap_or_default()
                }
                _ => Vec::new(),
            };
            (server, listed)
        }))
        .await;
        lists
            .into_iter()
            .flat_map(|(server, list)| list.into_iter().map(move |t| (server.clone(), t)))
            .collect()
    }

    /// The server `uri` belongs to, if any.
    pub(super) async fn resource_owner(&self, uri: &str) -> Option<String> {
        if let Some(only) = &self.inner.only {
            return Some(only.clone());
        }
        let listed = self.inner.fleet.list_resources().await;
        if let Some((server, _)) = listed.into_iter().find(|(_, r)| r.uri == uri) {
            return Some(server);
        }
        self.templates()
            .await
            .into_iter()
            .find(|(_, t)| UriTemplate::parse(&t.uri_template).matches(uri).is_some())
            .map(|(server, _)| server)
    }
}

impl Gateway {
    /// How long the merged list of `method` may be kept, and how widely:
    /// no longer than any ready upstream's own list allows (an upstream
    /// without a TTL, of the handshake era, allows
    /// [`DEFAULT_TTL_MS`](crate::server::DEFAULT_TTL_MS), the gateway
    /// watching its changes) and private when any upstream's is.
    pub(super) async fn freshness(
        &self,
        method: &str,
    ) -> (Option<i64>, Option<crate::protocol::CacheScope>) {
        let fleet = &self.inner.fleet;
        let mut ttl: Option<i64> = None;
        let mut public = true;
        for health in fleet.health() {
            if health.state != crate::fleet::ServerState::Ready
                || self.inner.only.as_ref().is_some_and(|o| *o != health.name)
            {
                continue;
            }
            let Ok(client) = fleet.client(&health.name).await else {
                continue;
            };
            if let Some(f) = client.list_freshness(method) {
                let t = f.ttl_ms.unwrap_or(crate::server::DEFAULT_TTL_MS);
                ttl = Some(ttl.map_or(t, |m| m.min(t)).max(0));
                public &= f.public;
            }
        }
        let scope = if public {
            crate::protocol::CacheScope::Public
        } else {
            crate::protocol::CacheScope::Private
        };
        (ttl, Some(scope))
    }
}
