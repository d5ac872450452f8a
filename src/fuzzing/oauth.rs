//! Target `oauth`: what an OAuth server or a protected resource says about
//! itself: `WWW-Authenticate` challenges, Protected Resource Metadata and
//! authorization server metadata, and the URLs they name.

use reqwest::Url;

use crate::auth::challenge::{self, Challenge};
use crate::auth::metadata::{
    auth_server_metadata_urls, canonical_resource, resource_matches, resource_metadata_urls,
    AuthServerMetadata, ResourceMetadata,
};

/// Reads `data` as a `WWW-Authenticate` value, as both metadata documents
/// and as a server URL. Panics when parsing panics, when the challenges
/// written back out read differently, or when a server's own canonical URI
/// does not match it.
pub fn oauth(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let challenges = challenge::parse(&text);
    let written = write(&challenges);
    assert_eq!(
        challenge::parse(&written),
        challenges,
        "challenges written as {written:?} read back differently"
    );
    let _ = challenge::bearer_challenge([&*text]);
    let _ = challenge::wants_dpop_nonce([&*text]);
    if let Some(c) = challenge::oauth_challenge([&*text]) {
        let _ = (c.resource_metadata(), c.scopes(), c.error());
    }
    let prm = serde_json::from_slice::<ResourceMetadata>(data);
    let _ = serde_json::from_slice::<AuthServerMetadata>(data);
    let Ok(server) = Url::parse(text.trim()) else {
        return;
    };
    let _ = (
        resource_metadata_urls(&server),
        auth_server_metadata_urls(&server),
    );
    if matches!(server.scheme(), "http" | "https") && server.host().is_some() {
        let canonical = canonical_resource(&server);
        assert!(
            resource_matches(&canonical, &server),
            "{server} does not match its canonical URI {canonical}"
        );
    }
    if let Ok(prm) = prm {
        let _ = resource_matches(&prm.resource, &server);
    }
}

/// Challenges as a server would write them: `Scheme name="value", ...`.
fn write(challenges: &[Challenge]) -> String {
    let one = |c: &Challenge| {
        let params: Vec<String> = c
            .params
            .iter()
            .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
            .collect();
        match params.is_empty() {
            true => c.scheme.clone(),
            false => format!("{} {}", c.scheme, params.join(", ")),
        }
    };
    challenges.iter().map(one).collect::<Vec<_>>().join(", ")
}
