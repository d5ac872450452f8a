//! `switchboard run AGENT.toml [PROMPT]`: host an agent over its servers.

use std::io::{IsTerminal, Read};
use std::path::Path;
use std::time::Duration;

use super::args::Global;
use super::live::LiveView;
use super::output;
use crate::agent::{Agent, AgentDefinition, StopReason, Transcript};
use crate::fleet::ServerState;
use crate::{Error, Result};

/// Exit code: the run was cancelled (Ctrl-C), as a shell reports SIGINT.
const EXIT_CANCELLED: u8 = 130;

pub(super) async fn run(global: &Global, file: &Path, prompt: &[String]) -> Result<u8> {
    super::source::existing_file(file, "agent definition")?;
    let definition = AgentDefinition::from_path(file)?;
    let agent = Agent::from_definition(&definition).await?;
    for h in agent.fleet().health() {
        if !matches!(h.state, ServerState::Ready | ServerState::NotStarted) {
            tracing::warn!(server = %h.name, state = %h.state, "server not ready: {}", h.last_error.unwrap_or_default());
        }
    }
    let outcome = if !prompt.is_empty() {
        one(global, &agent, &prompt.join(" ")).await
    } else if std::io::stdin().is_terminal() {
        interactive(global, &agent).await
    } else {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(Error::Io)?;
        if text.trim().is_empty() {
            Err(Error::invalid_argument(
                "no prompt: give one after the agent file, or on stdin",
            ))
        } else {
            one(global, &agent, text.trim()).await
        }
    };
    // Bounded: a stuck server must not keep the command from exiting.
    let _ = tokio::time::timeout(Duration::from_secs(10), agent.close()).await;
    outcome
}

async fn one(global: &Global, agent: &Agent, prompt: &str) -> Result<u8> {
    let view = LiveView::new(!global.json);
    let cancel = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let t = agent.run_with(prompt, &view, cancel).await;
    report(global, &t);
    Ok(exit_code(&t.stop))
}

async fn interactive(global: &Global, agent: &Agent) -> Result<u8> {
    eprintln!(
        "{}: type a task and press Enter; each one sees the conversation so far (an empty line or Ctrl-D ends).",
        agent.name()
    );
    let mut last = 0;
    let mut conversation = agent.conversation();
    loop {
        eprint!("> ");
        let line = tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            std::io::stdin().read_line(&mut line).map(|n| (n, line))
        })
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e)))?
        .map_err(Error::Io)?;
        let (n, line) = line;
        if n == 0 || line.trim().is_empty() {
            return Ok(last);
        }
        let view = LiveView::new(!global.json);
        let cancel = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        let t = conversation.run_with(line.trim(), &view, cancel).await;
        report(global, &t);
        last = exit_code(&t.stop);
    }
}

fn report(global: &Global, t: &Transcript) {
    if global.json {
        output::json(t);
        return;
    }
    // Streamed text is already on stdout; a run that ended without an
    // answer says why on stderr (the live view's last line).
    if t.answer.is_none() {
        if let StopReason::ModelError(e) = &t.stop {
            eprintln!("error: {e}");
        }
    }
}

pub(super) fn exit_code(stop: &StopReason) -> u8 {
    match stop {
        StopReason::FinalAnswer => 0,
        StopReason::MaxSteps(_) | StopReason::TokenBudget(_) => super::EXIT_TOOL_ERROR,
        StopReason::ModelError(_) | StopReason::WorkerLostTooOften(_) => super::EXIT_CONNECT,
        StopReason::Deadline(_) => super::EXIT_TIMEOUT,
        StopReason::Cancelled => EXIT_CANCELLED,
    }
}
