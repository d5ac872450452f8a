//! Which upstream a resource URI belongs to: the server that lists it
//! (a URI several servers list is served namespaced, see
//! [`super::shared_uri`]: the form names its server), else the first
//! server (in name order) with a template that matches it.

use std::collections::{HashMap, HashSet};

use crate::protocol::{Resource, ResourceTemplate};
use crate::server::uri_template::UriTemplate;
use crate::server::ServerError;

use super::{shared_uri, Gateway};

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

    /// The server `uri` belongs to, with the URI that server knows it by.
    /// A URI several servers list, asked for as it is, is an error naming
    /// their namespaced forms.
    pub(super) async fn resource_owner(&self, uri: &str) -> Result<(String, String), ServerError> {
        if let Some(only) = &self.inner.only {
            return Ok((only.clone(), uri.to_owned()));
        }
        let fleet = &self.inner.fleet;
        if let Some((server, upstream)) = shared_uri::split(uri) {
            if fleet.server_names().contains(&server) {
                return Ok((server, upstream));
            }
            return Err(ServerError::ResourceNotFound {
                uri: uri.to_owned(),
            });
        }
        let mut owners = fleet.resource_owners(uri).await;
        match owners.len() {
            0 => {}
            1 => return Ok((owners.swap_remove(0), uri.to_owned())),
            _ => {
                let forms: Vec<String> = owners
                    .iter()
                    .map(|s| shared_uri::namespaced(s, uri))
                    .collect();
                return Err(ServerError::invalid_params(format!(
                    "resource {uri} is listed by servers {}: read one of {}",
                    owners.join(", "),
                    forms.join(", ")
                )));
            }
        }
        self.templates()
            .await
            .into_iter()
            .find(|(_, t)| UriTemplate::parse(&t.uri_template).matches(uri).is_some())
            .map(|(server, _)| (server, uri.to_owned()))
            .ok_or_else(|| ServerError::ResourceNotFound {
                uri: uri.to_owned(),
            })
    }

    /// Every listed resource as served: a URI that several servers list
    /// namespaced on each, the rest as they are. Remembers which URIs are
    /// shared, so their updates go out under the namespaced form.
    pub(super) async fn served_resources(&self) -> Vec<Resource> {
        let listed = self.inner.fleet.list_resources().await;
        let mut seen: HashMap<&str, usize> = HashMap::with_capacity(listed.len());
        for (_, r) in &listed {
            *seen.entry(r.uri.as_str()).or_default() += 1;
        }
        let shared: HashSet<String> = seen
            .into_iter()
            .filter(|&(_, n)| n > 1)
            .map(|(uri, _)| uri.to_owned())
            .collect();
        let served = listed
            .into_iter()
            .map(|(server, mut r)| {
                if shared.contains(&r.uri) {
                    r.uri = shared_uri::namespaced(&server, &r.uri);
                }
                r
            })
            .collect();
        self.relay().set_shared_uris(shared);
        served
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
