//! The command line, as clap sees it. The contract is the README's CLI section, which `--help` must agree with.

use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// The idle deadline when `--timeout` is not given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// The longest `--timeout` taken: a year.
const MAX_TIMEOUT_SECS: f64 = 365.0 * 24.0 * 3600.0;

/// A root: an absolute URI (`file:///home/me/project`) without control
/// characters, which would reach the server (and its logs) as they are.
fn parse_root(text: &str) -> Result<String, String> {
    if text.chars().any(char::is_control) {
        return Err("a root may not contain control characters".into());
    }
    match url::Url::parse(text) {
        Ok(_) => Ok(text.to_owned()),
        Err(e) => Err(format!(
            "{text:?} is not an absolute URI ({e}); for a folder, give file:///path/to/it"
        )),
    }
}

/// A positive number of seconds, at most a year.
fn parse_secs(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !(secs.is_finite() && secs > 0.0 && secs <= MAX_TIMEOUT_SECS) {
        return Err(format!(
            "{text} is out of range: give a positive number of seconds, at most {MAX_TIMEOUT_SECS}"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// Talk to any MCP server: inspect it, call its tools, read its resources.
///
/// SOURCE is a command line (`"npx -y @modelcontextprotocol/server-everything"`),
/// a script (`server.py`, `server.js`), a URL, `memory://demo` (a built-in
/// server), or a config file (`mcp.json`, `.vscode/mcp.json`, `config.toml`):
/// a fleet, with tool names prefixed by the server's.
///
/// Examples:
///   switchboard tools "npx -y @modelcontextprotocol/server-everything"
///   switchboard call server.py add '{"a": 1}' --arg b=2
///   switchboard --env GITHUB_TOKEN tools "npx -y @modelcontextprotocol/server-github"
///   switchboard call mcp.json github_search_issues '{"q": "bug"}'
///
/// Stdio servers get only PATH, HOME and a few more of our variables: pass
/// others with --env NAME, or all with --inherit-env.
///
/// On a terminal: progress bars for `call`, a live `bench` line, a line
/// per server as a config file's servers connect, colour (unless NO_COLOR
/// is set). Piped or with --json: none of it, plain text.
///
/// Exit codes: 0 ok, 1 the tool answered isError, 2 usage, 3 could not
/// connect or protocol failure, 4 timeout, 128 + the signal when stopped
/// by one (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP).
#[derive(Debug, Parser)]
#[command(name = "switchboard", version, about, long_about, verbatim_doc_comment)]
pub struct Cli {
    /// Flags every command takes.
    #[command(flatten)]
    pub global: Global,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args, Clone)]
pub struct Global {
    /// Print exactly the MCP result (or list) as JSON on stdout, nothing else.
    #[arg(long, global = true)]
    pub json: bool,
    /// Idle deadline per request, in seconds (progress resets it); also the
    /// connect deadline. Default 60; for a config file, its own or 60.
    #[arg(long, global = true, value_name = "SECS", value_parser = parse_secs)]
    pub timeout: Option<Duration>,
    /// Protocol revision: auto, 2026-07-28, 2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05.
    #[arg(long, global = true, default_value = "auto")]
    pub protocol: String,
    /// Pick one server of a config file.
    #[arg(long, global = true, value_name = "NAME")]
    pub server: Option<String>,
    /// Value of a config's `${input:ID}` (repeatable); else env `SWITCHBOARD_INPUT_<ID>`, else asked on a terminal.
    #[arg(long = "input", global = true, value_name = "ID=VALUE")]
    pub inputs: Vec<String>,
    /// Offer this root to the server (repeatable).
    #[arg(long = "root", global = true, value_name = "URI", value_parser = parse_root)]
    pub roots: Vec<String>,
    /// Give stdio servers this variable (repeatable): KEY=VALUE, or KEY to
    /// pass ours. Servers otherwise get only PATH, HOME, USER, SHELL, TERM,
    /// LANG, LC_*, TMPDIR, TZ and the proxy/CA variables.
    #[arg(long = "env", global = true, value_name = "KEY[=VALUE]")]
    pub env: Vec<String>,
    /// Give stdio servers our whole environment (API keys included).
    #[arg(long, global = true)]
    pub inherit_env: bool,
    /// Answer sampling: `text:REPLY`, `reject`, or `model` (OpenAI-compatible
    /// endpoint from OPENAI_BASE_URL, OPENAI_API_KEY, SWITCHBOARD_MODEL).
    #[arg(long, global = true, value_name = "MODE")]
    pub sampling: Option<String>,
    /// Answer elicitation: `decline`, `cancel`, `accept-defaults`, `accept:JSON`, or `model`.
    #[arg(long, global = true, value_name = "MODE")]
    pub elicitation: Option<String>,
    /// More logging on stderr: -v adds the servers' log messages and stdio
    /// servers' stderr lines (2026-07-28 servers send log messages only
    /// when asked, so stderr is often all there is), -vv debug, -vvv trace.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Server info, capabilities, protocol version, and every list. Of a
    /// config file: its servers in file order (state, last error), then the
    /// merged lists; exit 3 when one is down.
    Inspect {
        /// The server: a command line, a script (.py, .js) or a URL.
        source: String,
    },
    /// List tools.
    Tools {
        /// The server: a command line, a script (.py, .js) or a URL.
        source: String,
    },
    /// Call a tool: arguments as a JSON object and/or --arg key=value.
    Call {
        /// The server: a command line, a script (.py, .js) or a URL.
        source: String,
        /// The tool's name.
        tool: String,
        /// Arguments as a JSON object.
        json_args: Option<String>,
        /// One argument (value parsed as JSON when it is JSON, else a string).
        #[arg(long = "arg", value_name = "KEY=VALUE")]
        args: Vec<String>,
        /// Run the call as a task where the server offers one (the tasks
        /// extension): its status shows live on stderr, Ctrl-C cancels it.
        #[arg(long)]
        task: bool,
    },
    /// List resources.
    Resources {
        /// The server: a command line, a script (.py, .js) or a URL.
        source: String,
    },
    /// List resource templates (of a config file: with --server NAME).
    Templates {
        /// The server: a command line, a script (.py, .js) or a URL.
        source: String,
    },
    /// Read a resource.
    Read {
        /// The server: a command line, a script (.py, .js) or a URL.
        source: String,
        /// The resource's URI.
        uri: String,
    },
    /// List prompts.
    Prompts {
        /// The server: a command line, a script (.py, .js) or a URL.
        source: String,
    },
    /// Render a prompt.
    Prompt {
        /// The server: a command line, a script (.py, .js) or a URL.
        source: String,
        /// The prompt's name.
        name: String,
        /// Arguments as a JSON object.
        json_args: Option<String>,
        /// One argument.
        #[arg(long = "arg", value_name = "KEY=VALUE")]
        args: Vec<String>,
    },
    /// Check the server answers.
    Ping {
        /// The server: a command line, a script (.py, .js) or a URL.
        source: String,
    },
    /// Measure tools/call throughput and latency (after up to 50 warm-up
    /// calls, reported apart and not counted).
    Bench {
        /// The server: a command line, a script (.py, .js) or a URL.
        source: String,
        /// The tool to call.
        #[arg(long)]
        tool: String,
        /// Its arguments as a JSON object.
        #[arg(long, default_value = "{}")]
        args: String,
        /// How many calls.
        #[arg(long, default_value_t = 1000)]
        calls: usize,
        /// How many in flight at once.
        #[arg(long, default_value_t = 1)]
        concurrency: usize,
    },
    /// Check a server against the spec: negotiation, tools and their
    /// schemas, pagination, resources, prompts, errors, hygiene (stdio) and
    /// HTTP behaviour. Each finding says what was sent, what came back, the
    /// rule it breaks and the fix; --json prints the report object (schema
    /// switchboard.check/1). Exit 0 when nothing is wrong, 1 when something is.
    Check {
        /// The server: a command line, a script (.py, .js), a URL, or a
        /// config file's entry (--server NAME).
        source: String,
        /// Which eras: auto (each one the server speaks), both, 2026-07-28, 2025-11-25.
        #[arg(long, default_value = "auto")]
        era: String,
    },
    /// Run one command (after --) against SOURCE and record every frame
    /// both ways, with its time, to --out (JSON lines, secrets redacted);
    /// `replay://FILE` as a SOURCE serves the recording back.
    Record {
        /// The server: a command line, a script (.py, .js) or a URL.
        source: String,
        /// The recording to write.
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
        /// The command and its arguments, without SOURCE: `call add '{"a":1}'`.
        #[arg(last = true, required = true, value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// Host an agent (agents/*.toml) over its servers. With no PROMPT, read
    /// prompts from the terminal (one run each), or the whole of stdin when
    /// it is not a terminal. Exit codes: 0 final answer, 1 stopped by a
    /// limit (steps, tokens), 3 the model failed, 4 deadline, 130
    /// cancelled (Ctrl-C).
    Run {
        /// The agent definition (TOML).
        agent: std::path::PathBuf,
        /// The task; several words are joined with spaces.
        prompt: Vec<String>,
    },
    /// Serve a config file's servers as one MCP server: Streamable HTTP at
    /// http://LISTEN/mcp (both protocol eras), or stdio with --stdio.
    /// Tool and prompt names are prefixed with their server's; servers are supervised
    /// (restarted, their tools hidden while down). SIGINT/SIGTERM drain
    /// the calls in flight, then close the servers. Replicas behind a load
    /// balancer share SWITCHBOARD_GATEWAY_KEY (any secret) so 2026-07-28
    /// retries may land on any of them; handshake-era clients need
    /// affinity on Mcp-Session-Id.
    Gateway {
        /// The mcpServers config file (mcp.json, .vscode/mcp.json, config.toml).
        config: std::path::PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8931", value_name = "ADDR")]
        listen: String,
        /// Serve over stdin and stdout instead (for a client that spawns it).
        #[arg(long, conflicts_with = "listen")]
        stdio: bool,
        /// Seconds the requests in flight get to finish on shutdown.
        #[arg(long, default_value_t = 10, value_name = "SECS")]
        drain_secs: u64,
        /// With exactly one server: serve its tools and prompts under their
        /// own names, so the gateway looks like that server.
        #[arg(long)]
        unprefixed: bool,
        /// How many servers must be ready for /readyz to answer 200 (at
        /// most all of them).
        #[arg(long, default_value_t = 1, value_name = "N")]
        ready_min: usize,
        /// Who may call it (HTTP only).
        #[command(flatten)]
        auth: super::gateway::AuthArgs,
        /// Its health in NATS (feature `distributed`).
        #[cfg(feature = "distributed")]
        #[command(flatten)]
        nats: super::dist::GatewayNats,
    },
    /// The embedded default: an agent over built-in servers, no network, no key.
    Demo {
        /// Instead, a tour of the client API against the same servers.
        #[arg(long)]
        tour: bool,
    },
    /// Serve a minimal one-tool echo server over stdio (for benches).
    #[command(hide = true)]
    ServeEcho {
        /// Wait this long before reading anything, like a server with a
        /// slow start (imports, a JIT) but without spending CPU on it.
        #[arg(long, default_value_t = 0)]
        start_delay_ms: u64,
    },
    /// Serve the built-in test server over stdio (for tests and benches).
    #[command(hide = true)]
    ServeTest {
        /// Which eras to speak: both, modern, handshake.
        #[arg(long, default_value = "both")]
        eras: String,
        /// Add a `crash` tool that ends the process at once (for the demo
        /// and supervision tests).
        #[arg(long)]
        crash_tool: bool,
    },
    /// The distributed commands: dist init, agents push, worker, submit, runs.
    #[cfg(feature = "distributed")]
    #[command(flatten)]
    Dist(super::dist::DistCommand),
}

impl Global {
    /// `--timeout`, or [`DEFAULT_TIMEOUT`].
    pub fn timeout(&self) -> Duration {
        self.timeout.unwrap_or(DEFAULT_TIMEOUT)
    }
}
