//! `switchboard gateway CONFIG`: the config file's fleet served as one MCP
//! server, over Streamable HTTP at `http://LISTEN/mcp` or, with `--stdio`,
//! over this process's stdin and stdout (for a desktop client that spawns
//! it as one server).
//!
//! Beside `/mcp`: `/healthz` and `/readyz` (at least one server ready).
//!
//! On SIGINT or SIGTERM it stops taking requests, gives those in flight
//! `--drain-secs` to finish, then closes the fleet (its stdio servers
//! end). Set `SWITCHBOARD_GATEWAY_KEY` to the same secret on every replica
//! so that a 2026-07-28 input-required retry may land on any of them.

use std::path::Path;
use std::time::Duration;

use tokio::signal::unix::{signal, SignalKind};

use super::args::Global;
use super::shutdown::outln;
use crate::auth::JwtVerifier;
use crate::gateway::{Gateway, Relay};
use crate::server::http::{AllowedHosts, HttpOptions, InboundAuth};
use crate::{Error, Result};

/// The environment variable holding the replicas' shared `requestState` key.
pub const KEY_VAR: &str = "SWITCHBOARD_GATEWAY_KEY";

/// The environment variable holding bearer tokens that let clients in
/// (comma-separated).
pub const TOKENS_VAR: &str = "SWITCHBOARD_GATEWAY_TOKENS";

/// Who may call the gateway over HTTP. Without any of these, anyone who
/// reaches the address may (on loopback, only local programs can).
#[derive(clap::Args, Debug, Default)]
pub struct AuthArgs {
    /// A file of bearer tokens, one per line ('#' starts a comment); any of
    /// them lets a client in. Tokens may also come from
    /// SWITCHBOARD_GATEWAY_TOKENS (comma-separated).
    #[arg(long, value_name = "PATH")]
    token_file: Option<std::path::PathBuf>,
    /// An OAuth issuer whose JWT access tokens for this gateway let a
    /// client in (checked against its published keys); the gateway then
    /// serves its protected resource metadata naming it.
    #[arg(long, value_name = "URL")]
    jwt_issuer: Option<String>,
    /// The issuer's JWK Set, when its metadata does not name it.
    #[arg(long, value_name = "URL", requires = "jwt_issuer")]
    jwks_url: Option<String>,
    /// An audience the tokens may name (repeat for several). Default: the
    /// public URL.
    #[arg(long, value_name = "AUD", requires = "jwt_issuer")]
    jwt_audience: Vec<String>,
    /// The gateway's public URL, the resource its tokens are for.
    /// Default: http://LISTEN/mcp.
    #[arg(long, value_name = "URL")]
    public_url: Option<String>,
}

impl AuthArgs {
    fn given(&self) -> bool {
        self.token_file.is_some() || self.jwt_issuer.is_some()
    }

    /// The static tokens: the environment's, then the file's (checked
    /// before any server starts).
    fn tokens(&self) -> Result<Vec<String>> {
        let mut tokens: Vec<String> = std::env::var(TOKENS_VAR)
            .unwrap_or_default()
            .split(',')
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect();
        if let Some(path) = &self.token_file {
            tokens.extend(read_tokens(path)?);
        }
        Ok(tokens)
    }

    /// The endpoint's auth for a gateway whose public URL is `public`.
    fn build(&self, tokens: Vec<String>, public: &str) -> Result<InboundAuth> {
        let mut auth = InboundAuth::new().bearer_tokens(tokens).resource(public);
        if let Some(issuer) = &self.jwt_issuer {
            let audiences = if self.jwt_audience.is_empty() {
                vec![public.to_owned()]
            } else {
                self.jwt_audience.clone()
            };
            let mut verifier = JwtVerifier::new(issuer.clone(), audiences)?;
            if let Some(url) = &self.jwks_url {
                verifier = verifier.jwks_url(url)?;
            }
            auth = auth.jwt(verifier);
        }
        Ok(auth)
    }
}

/// The tokens of a token file; one that others may read is refused.
fn read_tokens(path: &Path) -> Result<Vec<String>> {
    use std::os::unix::fs::PermissionsExt;
    let shown = path.display();
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::invalid_argument(format!("--token-file {shown}: {e}")))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(Error::invalid_argument(format!(
            "--token-file {shown}: other users may read it (mode {:o}); chmod 600 it",
            meta.permissions().mode() & 0o777
        )));
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::invalid_argument(format!("--token-file {shown}: {e}")))?;
    let tokens: Vec<String> = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim().to_owned())
        .filter(|l| !l.is_empty())
        .collect();
    if tokens.is_empty() {
        return Err(Error::invalid_argument(format!(
            "--token-file {shown}: no token in it"
        )));
    }
    Ok(tokens)
}

/// Where and how to serve.
pub(super) struct Serving<'a> {
    pub(super) listen: &'a str,
    pub(super) stdio: bool,
    pub(super) drain: Duration,
    pub(super) unprefixed: bool,
    pub(super) ready_min: usize,
    pub(super) auth: AuthArgs,
    /// With `--nats`: the connection and the gateway's id, to publish
    /// its health.
    #[cfg(feature = "distributed")]
    pub(super) health: Option<(crate::dist::Client, String)>,
}

/// The gateway's health being published (`--nats`), or nothing.
#[cfg(feature = "distributed")]
type Health = Option<crate::dist::GatewayHealthPublisher>;
#[cfg(not(feature = "distributed"))]
type Health = ();

/// Starts publishing the health of the gateway reached at `url`.
#[cfg(feature = "distributed")]
async fn publish_health(serving: &Serving<'_>, url: &str, fleet: &crate::Fleet) -> Result<Health> {
    let Some((d, id)) = &serving.health else {
        return Ok(None);
    };
    let publisher = d
        .publish_gateway_health(id, url, fleet.clone())
        .await
        .map_err(|e| Error::invalid_argument(format!("--nats: {e}")))?;
    tracing::info!(gateway = %id, nats = %d.url(), "publishing health");
    Ok(Some(publisher))
}
#[cfg(not(feature = "distributed"))]
async fn publish_health(_: &Serving<'_>, _: &str, _: &crate::Fleet) -> Result<Health> {
    Ok(())
}

/// Stops publishing and withdraws the gateway's entries.
#[cfg(feature = "distributed")]
async fn withdraw_health(health: Health) {
    if let Some(h) = health {
        let _ = tokio::time::timeout(Duration::from_secs(5), h.withdraw()).await;
    }
}
#[cfg(not(feature = "distributed"))]
async fn withdraw_health(_: Health) {}

/// Resolves when the process is told to stop (SIGINT, SIGTERM, SIGHUP).
async fn stop_signal() {
    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = int.recv() => {}
        _ = term.recv() => {}
        _ = hup.recv() => {}
    }
}

pub(super) async fn run(global: &Global, config: &Path, serving: Serving<'_>) -> Result<u8> {
    let tokens_in_env = std::env::var(TOKENS_VAR).is_ok_and(|t| !t.trim().is_empty());
    if serving.stdio && (serving.auth.given() || tokens_in_env) {
        return Err(Error::invalid_argument(
            "--token-file, --jwt-issuer and SWITCHBOARD_GATEWAY_TOKENS apply to HTTP; over \
             --stdio the client that spawns the gateway is the only one",
        ));
    }
    let tokens = serving.auth.tokens()?;
    let relay = Relay::new();
    let handlers = relay.clone();
    let fleet = super::fleet::build_with(global, config, move |b| {
        b.map_handlers(move |h| handlers.handlers(h))
    })
    .await?;
    let key = std::env::var(KEY_VAR).ok().filter(|k| !k.is_empty());
    let gateway = if serving.unprefixed {
        Gateway::unprefixed(fleet.clone())?
    } else {
        Gateway::new(fleet.clone())
    }
    .with_relay(relay)
    .ready_min(serving.ready_min);
    let server = gateway.clone().into_server_with(|b| match key {
        Some(key) => b.state_key(key.into_bytes()),
        None => b,
    });
    let health: Health;
    let served = if serving.stdio {
        health = publish_health(&serving, "stdio", &fleet).await?;
        tokio::select! {
            served = server.serve_stdio() => served.map_err(Error::Io),
            () = stop_signal() => Ok(()),
        }
    } else {
        let listener = tokio::net::TcpListener::bind(serving.listen)
            .await
            .map_err(|e| Error::invalid_argument(format!("--listen {}: {e}", serving.listen)))?;
        let addr = listener.local_addr().map_err(Error::Io)?;
        let public = serving
            .auth
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}/mcp"));
        let auth = serving.auth.build(tokens, &public)?;
        if !auth.is_enabled() && !addr.ip().is_loopback() {
            tracing::warn!(%addr, "no --token-file or --jwt-issuer: anyone who reaches this address may use every server");
        }
        health = publish_health(&serving, &public, &fleet).await?;
        outln!("listening on http://{addr}/mcp");
        super::shutdown::flush_stdout();
        let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
        let hosts = if addr.ip().is_loopback() {
            AllowedHosts::Loopback
        } else {
            AllowedHosts::Any
        };
        let options = HttpOptions::default().allowed_hosts(hosts).auth(auth);
        let ops = gateway.ops_router(&options);
        let router = server.http_router(options).merge(ops);
        let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
            stop_signal().await;
            let _ = stopped_tx.send(());
        });
        let serve = tokio::spawn(async move { serve.await });
        tokio::pin!(serve);
        tokio::select! {
            served = &mut serve => served
                .map_err(|e| Error::Io(std::io::Error::other(e)))?
                .map_err(Error::Io),
            _ = stopped_rx => {
                tracing::info!(drain = ?serving.drain, "stopping: draining requests in flight");
                // Open streams (GET, listens) never end by themselves:
                // the drain is bounded.
                let _ = tokio::time::timeout(serving.drain, &mut serve).await;
                Ok(())
            }
        }
    };
    withdraw_health(health).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), fleet.close()).await;
    served.map(|()| 0)
}
