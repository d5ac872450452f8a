//! The `switchboard` command. `main.rs` only calls [`main`].

mod args;
mod arguments;
mod bench;
mod check;
mod child_env;
mod commands;
mod connect_lines;
mod demo;
mod demo_agent;
#[cfg(feature = "distributed")]
mod dist;
#[cfg(feature = "distributed")]
mod dist_runs;
mod fleet;
mod gateway;
mod hints;
mod live;
mod log_format;
mod modes;
mod output;
mod progress;
mod record;
mod run;
mod serve_echo;
pub(crate) mod shutdown;
mod source;
mod style;
mod task;
mod telemetry;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

pub use args::{Cli, Command, Global, DEFAULT_TIMEOUT};
pub use modes::{ElicitationMode, SamplingMode};

use crate::{Client, Error, Result, VersionChoice};

/// Exit code: the tool answered `isError`.
pub const EXIT_TOOL_ERROR: u8 = 1;
/// Exit code: bad usage.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: could not connect, or the protocol failed.
pub const EXIT_CONNECT: u8 = 3;
/// Exit code: a deadline passed.
pub const EXIT_TIMEOUT: u8 = 4;

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    // The bench peer skips clap and tracing: a fleet bench starts a hundred
    // of these at once, and each one's start-up is part of what it measures.
    if let Some(start_delay_ms) = serve_echo::plain_invocation(std::env::args_os().skip(1)) {
        return serve_echo_exit(serve_echo::serve(start_delay_ms));
    }
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let telemetry = telemetry::init(cli.global.verbose);
    if let Command::ServeEcho { start_delay_ms } = cli.command {
        // A blocking loop: no runtime, no worker threads to start (a fleet
        // bench spawns a hundred of these at once).
        return serve_echo_exit(serve_echo::serve(start_delay_ms));
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_CONNECT);
        }
    };
    // An agent run (`run`, `demo`) answers Ctrl-C itself: it stops and
    // reports what it did so far. The gateway drains on any stop signal.
    let handles = match &cli.command {
        Command::Run { .. } | Command::Demo { tour: false } => shutdown::Handles::Interrupt,
        // A call run as a task cancels it on Ctrl-C and says how it ended.
        Command::Call { task: true, .. } => shutdown::Handles::Interrupt,
        Command::Gateway { drain_secs, .. } => {
            shutdown::Handles::Stop(Duration::from_secs(drain_secs.saturating_add(12)))
        }
        // Ctrl-C while following cancels the run and reports its end.
        #[cfg(feature = "distributed")]
        Command::Dist(dist::DistCommand::Submit { follow: true, .. }) => {
            shutdown::Handles::Interrupt
        }
        // A worker drains, then hands off what is left (nak).
        #[cfg(feature = "distributed")]
        Command::Dist(dist::DistCommand::Worker { drain_secs, .. }) => {
            shutdown::Handles::Stop(Duration::from_secs(drain_secs.saturating_add(12)))
        }
        _ => shutdown::Handles::Nothing,
    };
    // Named after the subcommand: the first argument that is no flag.
    let name = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let span = telemetry.command_span(name.as_deref().unwrap_or("switchboard"));
    let run = tracing::Instrument::instrument(commands::run(cli), span);
    let code = runtime.block_on(shutdown::until_signal(run, handles));
    // Don't wait for stray blocking tasks (e.g. a stdin reader).
    runtime.shutdown_timeout(Duration::from_millis(200));
    telemetry.finish();
    ExitCode::from(code)
}

fn serve_echo_exit(served: std::io::Result<()>) -> ExitCode {
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_CONNECT)
        }
    }
}

/// The exit code an error maps to.
pub fn exit_code(e: &Error) -> u8 {
    match e {
        Error::Timeout { .. } => EXIT_TIMEOUT,
        Error::ToolFailed { .. } => EXIT_TOOL_ERROR,
        e if e.is_usage() => EXIT_USAGE,
        _ => EXIT_CONNECT,
    }
}

/// Connects to SOURCE with the global flags applied.
pub async fn connect(source: &str, global: &Global) -> Result<Client> {
    builder(source, global)?.connect().await
}

/// A client for SOURCE with the global flags applied, not yet connected.
fn builder(source: &str, global: &Global) -> Result<crate::ClientBuilder> {
    let timeout = global.timeout();
    let version: VersionChoice = global.protocol.parse()?;
    let server = child_env::apply(source::server(source)?, global)?;
    let mut builder = Client::builder(server)
        .name(short_name(source))
        .timeout(timeout)
        .connect_timeout(timeout.max(Duration::from_secs(1)))
        .protocol(version);
    if !global.roots.is_empty() {
        builder = builder.roots(global.roots.iter().cloned());
    }
    if let Some(mode) = &global.sampling {
        builder = builder.sampling(SamplingMode::parse(mode)?.sampler()?);
    }
    if let Some(mode) = &global.elicitation {
        builder = builder.elicitation(ElicitationMode::parse(mode)?.policy()?);
    }
    Ok(builder)
}

/// The name a single server goes by in logs: a URL's host (never its
/// path or query, which may carry a key), else the program's file name.
fn short_name(source: &str) -> String {
    if let Ok(url) = url::Url::parse(source) {
        if let (Some(host), "http" | "https") = (url.host_str(), url.scheme()) {
            return match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            };
        }
    }
    source
        .split_whitespace()
        .next()
        .unwrap_or("server")
        .rsplit('/')
        .next()
        .unwrap_or("server")
        .to_owned()
}
