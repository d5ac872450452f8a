//! The fleet and the agent loop follow tasks where a tool asks for one: a
//! fleet of the real tasks server (fastmcp-tasks 4.1.4, 2026-07-28, whose
//! `build` runs only as a task) and server-everything (2025-11-25, whose
//! `simulate-research-query` requires task augmentation), called through
//! `Fleet::call_tool` and by an agent's plan; each call's result is the
//! task's.

mod common;

use std::time::Duration;

use serde_json::json;
use switchboard::agent::{Agent, PlannedCall, Planner, StopReason};
use switchboard::{Fleet, Member};

use common::{marker, within};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fleet_and_an_agent_wait_for_tools_that_run_as_tasks() {
    within(Duration::from_secs(60), async {
        let dir = tempfile::tempdir().unwrap();
        let events = dir.path().join("events.txt");
        let (tasks_tag, everything_tag) = (marker("fleet-tasks"), marker("fleet-everything"));
        let fleet = Fleet::builder()
            .member(Member::new("tasks", move || {
                common::tasks_server(&tasks_tag, &events)
            }))
            .member(Member::new("everything", move || {
                common::everything(&everything_tag)
            }))
            .build()
            .await
            .unwrap();

        let out = fleet
            .call_tool(
                "tasks_build",
                json!({"tag": "fleet", "steps": 2, "step_ms": 200}),
            )
            .await
            .expect("a task-required tool through the fleet");
        assert_eq!(out.text(), "fleet: 2 steps");

        let planner = Planner::new().step([
            PlannedCall::new(
                "tasks_build",
                json!({"tag": "agent", "steps": 2, "step_ms": 200}),
            ),
            PlannedCall::new(
                "everything_simulate-research-query",
                json!({"topic": "kelp"}),
            ),
        ]);
        let agent = Agent::builder(fleet, planner).build();
        let t = agent.run("research").await;
        assert_eq!(t.stop, StopReason::FinalAnswer);
        let calls: Vec<_> = t.tool_calls().collect();
        assert_eq!(calls.len(), 2, "{calls:#?}");
        for call in &calls {
            assert!(!call.is_error, "{call:#?}");
        }
        let answer = t.answer.clone().unwrap_or_default();
        assert!(answer.contains("agent: 2 steps"), "{answer}");
        assert!(answer.contains("Research Report: kelp"), "{answer}");
        assert!(std::fs::read_to_string(dir.path().join("events.txt"))
            .unwrap()
            .contains("done agent"));
        agent.close().await.unwrap();
    })
    .await
}
