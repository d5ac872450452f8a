//! `switchboard submit` and `switchboard runs get|watch|cancel|list`.

use super::args::Global;
use super::dist::RunsSub;
use super::live::LiveView;
use super::output;
use super::shutdown::outln;
use crate::agent::{RunObserver, StopReason, Transcript};
use crate::dist::{self, DistError, EventKind, RunEvent, RunState};

/// What `switchboard submit` was asked.
pub(super) struct Submitting<'a> {
    pub(super) agent: &'a str,
    pub(super) prompt: &'a str,
    pub(super) follow: bool,
    pub(super) run_id: Option<String>,
    pub(super) pool: &'a str,
    pub(super) conversation: Option<String>,
}

pub(super) async fn submit(
    global: &Global,
    d: &dist::Client,
    submitting: Submitting<'_>,
) -> Result<u8, DistError> {
    let agent = submitting.agent;
    let (name, rev) = match agent.split_once('@') {
        Some((name, rev)) => {
            let rev = rev.parse::<u64>().map_err(|_| {
                DistError::InvalidArgument(format!(
                    "{agent:?}: the revision after @ must be a number"
                ))
            })?;
            (name, Some(rev))
        }
        None => (agent, None),
    };
    let mut s = d
        .submit(name, submitting.prompt)
        .pool(submitting.pool)
        .submitter("cli");
    if let Some(id) = submitting.run_id {
        s = s.id(id);
    }
    if let Some(rev) = rev {
        s = s.revision(rev);
    }
    if let Some(id) = submitting.conversation {
        s = s.conversation(id);
    }
    let run = s.await?;
    if !submitting.follow {
        if global.json {
            output::json(&serde_json::json!({
                "run_id": run.id(),
                "resubmitted": run.was_resubmitted(),
            }));
        } else {
            outln!("{}", run.id());
        }
        return Ok(0);
    }
    if !global.json {
        eprintln!("run {}", run.id());
    }
    let view = LiveView::new(!global.json);
    let stop = tokio::select! {
        f = run.follow(0, |e| replay(&view, e)) => f?,
        _ = tokio::signal::ctrl_c() => {
            // Ctrl-C while following cancels the run, then reports its end.
            run.cancel("cli").await?;
            run.follow(0, |_| {}).await?
        }
    };
    let transcript = run.transcript().await?;
    if let Some(t) = &transcript {
        view.finished(t);
        if global.json {
            output::json(t);
        } else if t.answer.is_none() {
            if let StopReason::ModelError(e) = &t.stop {
                eprintln!("error: {e}");
            }
        }
    }
    let EventKind::Finished { stop, .. } = &stop.event.kind else {
        return Ok(super::EXIT_CONNECT);
    };
    Ok(super::run::exit_code(stop))
}

/// Shows one event in the live view, as `switchboard run` shows its own.
fn replay(view: &LiveView, e: &RunEvent) {
    match &e.event.kind {
        EventKind::StepStarted {
            step,
            tools_offered,
        } => view.step_started(*step, *tools_offered),
        EventKind::Text { delta } => view.text(delta),
        EventKind::ToolStarted { call_id, name } => view.tool_started(call_id, name),
        EventKind::ToolFinished { call, .. } => view.tool_finished(call),
        EventKind::StepFinished { step } => view.step_finished(step),
        EventKind::Retrying { worker, .. } => {
            eprintln!("retrying on worker {worker} (attempt {})", e.event.attempt)
        }
        EventKind::Started { .. } | EventKind::Finished { .. } => {}
    }
}

pub(super) async fn runs(global: &Global, command: RunsSub) -> Result<u8, DistError> {
    match command {
        RunsSub::Get { nats, run } => {
            let d = dist::Client::connect(&nats.url).await?;
            let h = d.run(&run);
            let record = h.record().await?;
            let Some(bytes) = h.transcript_json().await? else {
                eprintln!("run {run} is {} (no transcript yet)", record.state.as_str());
                return Ok(super::EXIT_TOOL_ERROR);
            };
            let t: Transcript = serde_json::from_slice(&bytes)
                .map_err(|e| DistError::Protocol(format!("transcript: {e}")))?;
            if global.json {
                output::json(&t);
            } else {
                match &t.answer {
                    Some(a) => outln!("{a}"),
                    None => outln!("({})", t.stop),
                }
            }
            Ok(super::run::exit_code(&t.stop))
        }
        RunsSub::Watch { nats, run, from } => {
            let d = dist::Client::connect(&nats.url).await?;
            let h = d.run(&run);
            h.record().await?;
            let last = h
                .follow(from, |e| {
                    let mut line = serde_json::to_value(&e.event).unwrap_or_default();
                    if let Some(o) = line.as_object_mut() {
                        o.insert("cursor".into(), e.cursor.into());
                    }
                    outln!("{line}");
                })
                .await?;
            // The run's own exit code, as `submit --follow` returns it.
            let EventKind::Finished { stop, .. } = &last.event.kind else {
                return Ok(super::EXIT_CONNECT);
            };
            Ok(super::run::exit_code(stop))
        }
        RunsSub::Cancel { nats, run } => {
            let d = dist::Client::connect(&nats.url).await?;
            d.run(&run).cancel("cli").await?;
            if !global.json {
                eprintln!("cancel requested: {run}");
            }
            Ok(0)
        }
        RunsSub::List { nats, state } => {
            let state = state.as_deref().map(str::parse::<RunState>).transpose()?;
            let d = dist::Client::connect(&nats.url).await?;
            let records = d.list_runs(state).await?;
            if global.json {
                output::json(&records);
            } else {
                let rows: Vec<Vec<String>> = records
                    .iter()
                    .map(|r| {
                        vec![
                            r.run_id.clone(),
                            r.agent.clone(),
                            r.state.as_str().to_owned(),
                            r.attempt.to_string(),
                            r.worker.clone().unwrap_or_default(),
                            r.updated_at.clone(),
                        ]
                    })
                    .collect();
                output::table(
                    &["RUN", "AGENT", "STATE", "ATTEMPT", "WORKER", "UPDATED"],
                    &rows,
                );
            }
            Ok(0)
        }
    }
}
