//! The distributed commands (feature `distributed`): `dist init`, `agents
//! push`, `worker`, `submit`, `runs get|watch|cancel|list`. Their clap
//! definitions live here, flattened into [`super::Command`], so the shared
//! argument file only names them.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use super::args::Global;
use super::output;
use crate::dist::{self, DistError};

/// Exit code: the queue is full (`QueueFull`); try again later (EX_TEMPFAIL).
pub const EXIT_QUEUE_FULL: u8 = 75;

/// `--nats URL`, which every distributed command takes.
#[derive(Debug, Args, Clone)]
pub struct Nats {
    /// The NATS server.
    #[arg(long = "nats", env = "SWITCHBOARD_NATS", default_value = dist::DEFAULT_NATS_URL, value_name = "URL")]
    pub url: String,
}

/// `switchboard gateway ... --nats URL [--id ID]`: the gateway's health in
/// NATS. Only the flag turns it on: a gateway without it never touches
/// NATS (not even `$SWITCHBOARD_NATS`).
#[derive(Debug, Args, Clone, Default)]
pub struct GatewayNats {
    /// Publish this gateway's health and its servers' to NATS (sb_health,
    /// for `switchboard status`): at once on a change, else every 10 s.
    /// NATS unreachable at start is an error; lost later, the gateway
    /// keeps serving and publishes again after the reconnect.
    #[arg(long = "nats", value_name = "URL")]
    pub nats: Option<String>,
    /// The gateway's id in sb_health (default: gw- and 8 random characters).
    #[arg(long, requires = "nats", value_name = "ID")]
    pub id: Option<String>,
}

impl GatewayNats {
    /// Connects (and checks that `dist init` made the health bucket) when
    /// `--nats` was given; a failure is printed, and its exit code returned.
    pub(super) async fn connect(&self) -> Result<Option<(dist::Client, String)>, u8> {
        let Some(url) = &self.nats else {
            return Ok(None);
        };
        let connected = async {
            let d = dist::Client::connect(url).await?;
            d.status().await?;
            Ok::<_, DistError>(d)
        };
        match connected.await {
            Ok(d) => Ok(Some((
                d,
                self.id.clone().unwrap_or_else(dist::new_gateway_id),
            ))),
            Err(e) => {
                eprintln!("error: --nats: {}", output::terminal_safe(&e.to_string()));
                Err(exit_code(&e))
            }
        }
    }
}

/// The distributed commands.
#[derive(Debug, Subcommand)]
pub enum DistCommand {
    /// Set up NATS JetStream for Switchboard (streams, consumer, buckets).
    Dist {
        /// What to do.
        #[command(subcommand)]
        command: DistSub,
    },
    /// Agent definitions in NATS (`sb_agents`).
    Agents {
        /// What to do.
        #[command(subcommand)]
        command: AgentsSub,
    },
    /// Take runs from the queue and run them (a worker of a pool).
    ///
    /// Runs whose worker dies are redelivered to another one after the
    /// pool's ack wait; a tool call in flight then is not repeated (unless
    /// the tool is read-only or idempotent, or the definition's `[tools]
    /// replay` says otherwise): the model is told its outcome is unknown.
    Worker {
        /// The NATS server.
        #[command(flatten)]
        nats: Nats,
        /// The pool to take runs from.
        #[arg(long, default_value = "default")]
        pool: String,
        /// Runs at once.
        #[arg(long, default_value_t = 8)]
        concurrency: usize,
        /// Seconds the runs in flight get to finish when the worker stops.
        #[arg(long, default_value_t = 120)]
        drain_secs: u64,
        /// The worker's id (default: w- and 8 random characters).
        #[arg(long)]
        id: Option<String>,
    },
    /// Submit a run: AGENT[@REV] PROMPT. Prints the run id, or with
    /// --follow streams it like `switchboard run` and exits with the same
    /// codes (0, 1, 3, 4, 130). Exit 75 when the queue is full.
    ///
    /// Ctrl-C while following cancels the run (exit 130).
    ///
    /// At-most-once for side effects: a tool call whose worker was lost is
    /// reported to the model as "outcome unknown", never repeated (unless
    /// the tool is read-only or idempotent, or the definition's `[tools]
    /// replay` says otherwise).
    Submit {
        /// The NATS server.
        #[command(flatten)]
        nats: Nats,
        /// The agent, as pushed (`name` or `name@revision`).
        agent: String,
        /// The task; several words are joined with spaces.
        #[arg(required = true)]
        prompt: Vec<String>,
        /// Follow the run to its end.
        #[arg(long)]
        follow: bool,
        /// The run id (default a new ULID); a retry with the same id is
        /// stored once.
        #[arg(long)]
        run_id: Option<String>,
        /// The pool.
        #[arg(long, default_value = "default")]
        pool: String,
        /// The conversation the run belongs to (letters, digits, - and _):
        /// its runs run one at a time, in submission order, and each
        /// starts after the earlier ones' prompts and final answers (the
        /// last 32 turns, at most 64 KiB).
        #[arg(long, value_name = "ID")]
        conversation: Option<String>,
    },
    /// Live workers and gateways and their servers' health, from the
    /// shared bucket (sb_health). Exits 3 when a server is down,
    /// restarting or its breaker open.
    Status {
        /// The NATS server.
        #[command(flatten)]
        nats: Nats,
    },
    /// Runs: get, watch, cancel, list.
    Runs {
        /// What to do.
        #[command(subcommand)]
        command: RunsSub,
    },
}

/// `switchboard dist ...`.
#[derive(Debug, Subcommand)]
pub enum DistSub {
    /// Create or update the streams, the pool's consumer and the buckets (idempotent).
    Init {
        /// The NATS server.
        #[command(flatten)]
        nats: Nats,
        /// Replicas of each stream and bucket (3 in a cluster).
        #[arg(long, default_value_t = 1)]
        replicas: usize,
        /// Seconds without a heartbeat before a run is redelivered.
        #[arg(long, default_value_t = 30.0, value_name = "SECS")]
        ack_wait: f64,
        /// Deliveries of one run before it is given up.
        #[arg(long, default_value_t = 5)]
        max_deliver: i64,
        /// Most queued runs; more are refused (exit 75).
        #[arg(long, default_value_t = 100_000)]
        max_queued: i64,
        /// Most queued or running runs of one agent; more of that agent
        /// are refused (exit 75) while others still admit (default:
        /// unlimited).
        #[arg(long, value_name = "N")]
        max_queued_per_agent: Option<i64>,
        /// The pool whose consumer is set up.
        #[arg(long, default_value = "default")]
        pool: String,
        /// Seconds a health entry lives unless rewritten (dead workers and
        /// gateways vanish from `status` after it).
        #[arg(long, default_value_t = 30.0, value_name = "SECS")]
        health_max_age: f64,
        /// Seconds a lease (a conversation's) lives unless its holder
        /// renews it (a dead holder's ends after it).
        #[arg(long, default_value_t = 30.0, value_name = "SECS")]
        lease: f64,
    },
}

/// `switchboard agents ...`.
#[derive(Debug, Subcommand)]
pub enum AgentsSub {
    /// Validate definitions (agents/*.toml) and store them; prints name@rev.
    Push {
        /// The NATS server.
        #[command(flatten)]
        nats: Nats,
        /// The definition files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// `switchboard runs ...`.
#[derive(Debug, Subcommand)]
pub enum RunsSub {
    /// The transcript (with --json, as `switchboard run --json` prints it).
    Get {
        /// The NATS server.
        #[command(flatten)]
        nats: Nats,
        /// The run id.
        run: String,
    },
    /// Print the run's events as JSON lines, from the start or from a
    /// cursor, until the final one; then exit with the run's code, as
    /// `submit --follow` does (0, 1, 3, 4, 130).
    Watch {
        /// The NATS server.
        #[command(flatten)]
        nats: Nats,
        /// The run id.
        run: String,
        /// Start at this cursor (an event's `cursor`; 0 from the start).
        #[arg(long, default_value_t = 0, value_name = "SEQ")]
        from: u64,
    },
    /// Cancel a run (queued: it never starts; running: it stops now).
    Cancel {
        /// The NATS server.
        #[command(flatten)]
        nats: Nats,
        /// The run id.
        run: String,
    },
    /// List runs.
    List {
        /// The NATS server.
        #[command(flatten)]
        nats: Nats,
        /// Only runs in this state (queued, running, retrying, done, failed, cancelled).
        #[arg(long)]
        state: Option<String>,
    },
}

/// Runs a distributed command; returns the exit code.
pub(super) async fn run(global: &Global, command: DistCommand) -> u8 {
    match dispatch(global, command).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", output::terminal_safe(&e.to_string()));
            exit_code(&e)
        }
    }
}

/// SIGTERM or SIGINT (a worker drains, then hands off what is left).
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => std::future::pending().await,
    }
}

fn exit_code(e: &DistError) -> u8 {
    match e {
        DistError::QueueFull { .. } => EXIT_QUEUE_FULL,
        DistError::InvalidArgument(_)
        | DistError::RunNotFound(_)
        | DistError::AgentNotFound(_)
        | DistError::Definition(_) => super::EXIT_USAGE,
        _ => super::EXIT_CONNECT,
    }
}

async fn dispatch(global: &Global, command: DistCommand) -> Result<u8, DistError> {
    match command {
        DistCommand::Dist {
            command:
                DistSub::Init {
                    nats,
                    replicas,
                    ack_wait,
                    max_deliver,
                    max_queued,
                    max_queued_per_agent,
                    pool,
                    health_max_age,
                    lease,
                },
        } => {
            for (flag, secs) in [
                ("--ack-wait", ack_wait),
                ("--health-max-age", health_max_age),
                ("--lease", lease),
            ] {
                if !(secs.is_finite() && secs > 0.0 && secs <= 86_400.0) {
                    return Err(DistError::InvalidArgument(format!(
                        "{flag} must be a positive number of seconds, at most a day"
                    )));
                }
            }
            let d = dist::Client::connect(&nats.url).await?;
            let setup = dist::Setup {
                replicas,
                pool,
                ack_wait: Duration::from_secs_f64(ack_wait),
                max_deliver,
                max_queued,
                health_max_age: Duration::from_secs_f64(health_max_age),
                lease: Duration::from_secs_f64(lease),
                max_queued_per_agent,
                ..dist::Setup::default()
            };
            d.init(&setup).await?;
            if !global.json {
                eprintln!(
                    "ready: SB_JOBS, SB_EVENTS, consumer pool-{}, sb_runs, sb_journal, sb_agents, sb_transcripts on {}",
                    setup.pool,
                    d.url()
                );
            }
            Ok(0)
        }
        DistCommand::Agents {
            command: AgentsSub::Push { nats, files },
        } => {
            let d = dist::Client::connect(&nats.url).await?;
            for file in files {
                let text = std::fs::read_to_string(&file).map_err(|e| {
                    DistError::InvalidArgument(format!("{}: cannot read: {e}", file.display()))
                })?;
                // Parsed with its path first, so errors name the file.
                crate::agent::AgentDefinition::from_path(&file)?;
                let (name, rev) = d.push_agent(&text).await?;
                super::shutdown::outln!("{name}@{rev}");
            }
            Ok(0)
        }
        DistCommand::Worker {
            nats,
            pool,
            concurrency,
            drain_secs,
            id,
        } => {
            let d = dist::Client::connect(&nats.url).await?;
            let mut w = dist::Worker::builder(d)
                .pool(pool)
                .concurrency(concurrency)
                .drain(Duration::from_secs(drain_secs));
            if let Some(id) = id {
                w = w.id(id);
            }
            w.run(stop_signal()).await?;
            Ok(0)
        }
        DistCommand::Submit {
            nats,
            agent,
            prompt,
            follow,
            run_id,
            pool,
            conversation,
        } => {
            let d = dist::Client::connect(&nats.url).await?;
            let submit = super::dist_runs::Submitting {
                agent: &agent,
                prompt: &prompt.join(" "),
                follow,
                run_id,
                pool: &pool,
                conversation,
            };
            super::dist_runs::submit(global, &d, submit).await
        }
        DistCommand::Status { nats } => {
            let d = dist::Client::connect(&nats.url).await?;
            let status = d.status().await?;
            if global.json {
                output::json(&status);
            } else {
                let rows: Vec<Vec<String>> = status
                    .workers
                    .iter()
                    .map(|w| {
                        vec![
                            w.worker.clone(),
                            w.pool.clone(),
                            w.slots.to_string(),
                            w.running.to_string(),
                            w.since.clone(),
                        ]
                    })
                    .collect();
                output::table(&["WORKER", "POOL", "SLOTS", "RUNNING", "SINCE"], &rows);
                if !status.gateways.is_empty() {
                    let rows: Vec<Vec<String>> = status
                        .gateways
                        .iter()
                        .map(|g| {
                            vec![
                                g.gateway.clone(),
                                g.url.clone(),
                                format!("{}/{}", g.ready, g.total),
                                g.since.clone(),
                            ]
                        })
                        .collect();
                    super::shutdown::outln!();
                    output::table(&["GATEWAY", "URL", "READY", "SINCE"], &rows);
                }
                let rows: Vec<Vec<String>> = status
                    .servers
                    .iter()
                    .map(|s| {
                        vec![
                            s.node().to_owned(),
                            if s.agent.is_empty() {
                                "-".into()
                            } else {
                                s.agent.clone()
                            },
                            s.server.clone(),
                            s.state.clone(),
                            s.restarts.to_string(),
                            s.calls.to_string(),
                            s.errors.to_string(),
                            output::first_line(s.last_error.as_deref()),
                        ]
                    })
                    .collect();
                if !rows.is_empty() {
                    super::shutdown::outln!();
                    output::table(
                        &[
                            "NODE",
                            "AGENT",
                            "SERVER",
                            "STATE",
                            "RESTARTS",
                            "CALLS",
                            "ERRORS",
                            "LAST ERROR",
                        ],
                        &rows,
                    );
                }
            }
            let unwell = status
                .servers
                .iter()
                .any(|s| !matches!(s.state.as_str(), "ready" | "not_started" | "starting"));
            Ok(if unwell { super::EXIT_CONNECT } else { 0 })
        }
        DistCommand::Runs { command } => super::dist_runs::runs(global, command).await,
    }
}
