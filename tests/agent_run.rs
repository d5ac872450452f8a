//! The agent loop end to end: a scripted OpenAI-compatible endpoint served
//! on 127.0.0.1 asks for tool calls on three real servers (server-everything,
//! FastMCP, and `switchboard serve-test`, which is killed mid-call and
//! restarted by its supervisor); the transcript is checked step by step.
//! Then the limits: steps, tokens, deadline, cancellation, a failing model,
//! calls per step, tools the agent may not use.

mod common;
mod model_common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use model_common::{text_completion, tool_call_completion, ModelServer, Step as Reply};
use serde_json::{json, Value};
use switchboard::agent::{Agent, Limits, RunObserver, StopReason, ToolCallRecord, ToolRules};
use switchboard::model::{ModelClient, ModelEndpoint};
use switchboard::testing::demo_server;
use switchboard::{Client, Fleet, Member, RestartPolicy, Source};

const BIN: &str = env!("CARGO_BIN_EXE_switchboard");

fn model(server: &ModelServer) -> ModelClient {
    ModelClient::new(
        ModelEndpoint::new(server.base_url(), "scripted-model")
            .api_key("sk-agent-test")
            .timeout(Duration::from_secs(10)),
    )
    .expect("model client")
}

/// A supervised `switchboard serve-test` over stdio, tagged with `marker`.
fn builtin(marker: &str) -> switchboard::ClientBuilder {
    common::tune(
        Source::stdio(BIN, ["serve-test", "--eras", "handshake"]),
        marker,
    )
    .restart(RestartPolicy {
        backoff_initial: Duration::from_millis(20),
        health_interval: None,
        ..RestartPolicy::default()
    })
}

/// Kills every process carrying `marker` shortly after the named tool
/// starts.
struct KillDuring {
    tool: &'static str,
    marker: String,
    events: Mutex<Vec<String>>,
}

impl RunObserver for KillDuring {
    fn step_started(&self, index: u32, tools_offered: usize) {
        self.events
            .lock()
            .unwrap()
            .push(format!("step {index} ({tools_offered} tools)"));
    }
    fn tool_started(&self, _id: &str, name: &str) {
        self.events.lock().unwrap().push(format!("start {name}"));
        if name == self.tool {
            let marker = self.marker.clone();
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(400)).await;
                for (pid, _) in common::processes_with_marker(&marker) {
                    // SAFETY: kill(2) on a pid we found.
                    unsafe {
                        libc::kill(pid as i32, libc::SIGKILL);
                    }
                }
            });
        }
    }
    fn tool_finished(&self, call: &ToolCallRecord) {
        self.events
            .lock()
            .unwrap()
            .push(format!("done {} error={}", call.name, call.is_error));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_over_three_real_servers_one_killed_mid_run() {
    common::bounded(async {
        let marker = common::marker("agent-run");
        let builtin_marker = common::marker("agent-run-builtin");
        let endpoint = ModelServer::start(vec![
            Reply::json(tool_call_completion(
                "scripted-model",
                &[
                    (
                        "c1",
                        "everything_echo",
                        r#"{"message":"hi from the agent"}"#,
                    ),
                    ("c2", "fast_add", r#"{"a":2,"b":3}"#),
                    ("c3", "builtin_slow", r#"{"steps":40,"ms":100}"#),
                ],
            )),
            Reply::json(tool_call_completion(
                "scripted-model",
                &[
                    ("c4", "builtin_echo", r#"{"text":"back again"}"#),
                    ("c5", "fast_fail", r#"{"message":"on purpose"}"#),
                ],
            )),
            Reply::json(text_completion(
                "scripted-model",
                "All done: 5, hi, back again.",
                50,
                7,
            )),
        ])
        .await;
        let (m1, m2) = (marker.clone(), marker.clone());
        let bm = builtin_marker.clone();
        let fleet = Fleet::builder()
            .member(Member::new("everything", move || common::everything(&m1)))
            .member(Member::new("fast", move || common::fastmcp(&m2)))
            .member(Member::new("builtin", move || builtin(&bm)))
            .build()
            .await
            .expect("fleet");
        let agent = Agent::builder(fleet, model(&endpoint))
            .name("tester")
            .system_prompt("You test things.")
            .temperature(0.0)
            .build();
        let observer = KillDuring {
            tool: "builtin_slow",
            marker: builtin_marker.clone(),
            events: Mutex::new(Vec::new()),
        };
        let t = agent
            .run_with("Do three things.", &observer, std::future::pending())
            .await;

        assert_eq!(t.stop, StopReason::FinalAnswer, "{t:#?}");
        assert_eq!(t.answer.as_deref(), Some("All done: 5, hi, back again."));
        assert_eq!(t.agent, "tester");
        assert_eq!(t.steps.len(), 3);

        // Step 1: three servers in parallel; the killed one fails, the
        // others answer.
        let s1 = &t.steps[0];
        let by_id = |id: &str| s1.tool_calls.iter().find(|c| c.id == id).unwrap().clone();
        let echo = by_id("c1");
        assert_eq!(echo.server, "everything");
        assert!(!echo.is_error);
        assert_eq!(echo.output, "Echo: hi from the agent");
        let add = by_id("c2");
        assert_eq!(add.server, "fast");
        assert!(!add.is_error, "{add:?}");
        assert!(add.output.contains('5'), "{add:?}");
        let slow = by_id("c3");
        assert_eq!(slow.server, "builtin");
        assert!(slow.is_error, "{slow:?}");
        assert!(slow.output.contains("restarted"), "{slow:?}");
        // Parallel: the step took about as long as its slowest call, not
        // the sum of all three.
        let slowest = echo.ms.max(add.ms).max(slow.ms);
        assert!(s1.tools_ms <= slowest + 100, "{} vs {slowest}", s1.tools_ms);

        // Step 2: the restarted server answers; a tool's isError reaches
        // the model as an error it can read.
        let s2 = &t.steps[1];
        assert_eq!(s2.tool_calls[0].output, "back again");
        assert!(!s2.tool_calls[0].is_error);
        assert_eq!(s2.tool_calls[0].server, "builtin");
        assert!(s2.tool_calls[1].is_error);
        assert!(
            s2.tool_calls[1].output.starts_with("Error from the tool:"),
            "{:?}",
            s2.tool_calls[1]
        );

        // Step 3: the answer; tokens add up over the steps.
        assert!(t.steps[2].tool_calls.is_empty());
        assert_eq!(t.tokens.total, 30 + 30 + 57);
        assert_eq!(t.steps[2].tokens.prompt, 50);

        // What the model was sent: the system prompt, the user's prompt,
        // every server's tools, and each result under its call's id.
        let requests = endpoint.requests();
        assert_eq!(requests.len(), 3);
        assert_eq!(
            requests[0].header("authorization"),
            Some("Bearer sk-agent-test")
        );
        let first = &requests[0].body;
        assert_eq!(first["model"], "scripted-model");
        assert_eq!(first["temperature"], json!(0.0));
        assert_eq!(
            first["messages"],
            json!([
                {"role": "system", "content": "You test things."},
                {"role": "user", "content": "Do three things."},
            ])
        );
        let offered: Vec<&str> = first["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["function"]["name"].as_str().unwrap())
            .collect();
        for name in [
            "everything_echo",
            "fast_add",
            "builtin_slow",
            "builtin_echo",
        ] {
            assert!(offered.contains(&name), "{name} offered: {offered:?}");
        }
        let third = requests[2].body["messages"].as_array().unwrap().clone();
        let tool_messages: Vec<&Value> = third.iter().filter(|m| m["role"] == "tool").collect();
        assert_eq!(tool_messages.len(), 5);
        assert_eq!(tool_messages[0]["tool_call_id"], "c1");
        assert_eq!(tool_messages[0]["content"], "Echo: hi from the agent");
        assert_eq!(tool_messages[3]["tool_call_id"], "c4");
        assert_eq!(tool_messages[3]["content"], "back again");
        assert_eq!(third[2]["role"], "assistant");
        assert_eq!(
            third[2]["tool_calls"][2]["function"]["name"],
            "builtin_slow"
        );

        let events = observer.events.lock().unwrap().clone();
        assert_eq!(events[0], format!("step 1 ({} tools)", offered.len()));
        assert!(
            events.contains(&"done builtin_slow error=true".to_owned()),
            "{events:?}"
        );

        // The JSON transcript carries the same.
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json["stop"]["reason"], "final_answer");
        assert_eq!(json["steps"][0]["tool_calls"][0]["server"], "everything");

        agent.close().await.expect("close");
        common::assert_no_process(&marker, Duration::from_secs(5)).await;
        common::assert_no_process(&builtin_marker, Duration::from_secs(5)).await;
    })
    .await
}

/// An agent over the in-memory demo server and one stdio server.
async fn small_agent(
    endpoint: &ModelServer,
    marker: &str,
    limits: Limits,
    tools: ToolRules,
) -> Agent {
    let m = marker.to_owned();
    let fleet = Fleet::builder()
        .member(Member::new("mem", || {
            Client::builder(Source::memory(demo_server()))
        }))
        .member(Member::new("builtin", move || builtin(&m)))
        .build()
        .await
        .expect("fleet");
    Agent::builder(fleet, model(endpoint))
        .limits(limits)
        .tools(tools)
        .build()
}

fn add_call(id: &str) -> Value {
    tool_call_completion("scripted-model", &[(id, "mem_add", r#"{"a":1,"b":1}"#)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_steps_stops_the_run_and_leaves_no_process() {
    common::bounded(async {
        let marker = common::marker("agent-steps");
        let endpoint = ModelServer::start_repeating(Reply::json(add_call("again"))).await;
        let limits = Limits {
            max_steps: 3,
            ..Limits::default()
        };
        let agent = small_agent(&endpoint, &marker, limits, ToolRules::default()).await;
        let t = agent.run("loop forever").await;
        assert_eq!(t.stop, StopReason::MaxSteps(3));
        assert!(t.stop.to_string().contains("3 steps"), "{}", t.stop);
        assert_eq!(t.steps.len(), 3);
        assert!(t.answer.is_none());
        for c in t.tool_calls() {
            assert!(!c.is_error && c.output.contains("\"sum\":2"), "{c:?}");
        }
        assert_eq!(endpoint.requests().len(), 3);
        agent.close().await.unwrap();
        common::assert_no_process(&marker, Duration::from_secs(5)).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_budget_stops_the_run_before_more_tools_run() {
    common::bounded(async {
        let marker = common::marker("agent-tokens");
        // Every reply costs 30 tokens; a budget of 50 is spent by the second.
        let endpoint = ModelServer::start_repeating(Reply::json(add_call("t"))).await;
        let limits = Limits {
            token_budget: Some(50),
            ..Limits::default()
        };
        let agent = small_agent(&endpoint, &marker, limits, ToolRules::default()).await;
        let t = agent.run("spend").await;
        assert_eq!(t.stop, StopReason::TokenBudget(50));
        assert_eq!(t.tokens.total, 60);
        assert_eq!(t.steps.len(), 2);
        assert!(!t.steps[0].tool_calls[0].is_error, "the first step ran");
        let unrun = &t.steps[1].tool_calls[0];
        assert!(
            unrun.is_error && unrun.output.contains("token budget"),
            "{unrun:?}"
        );
        agent.close().await.unwrap();
        common::assert_no_process(&marker, Duration::from_secs(5)).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_deadline_stops_a_slow_model_and_a_slow_tool() {
    common::bounded(async {
        let marker = common::marker("agent-deadline");
        // First a slow tool (5 s), then a model that never answers in time.
        let endpoint = ModelServer::start(vec![Reply::json(tool_call_completion(
            "scripted-model",
            &[("s", "builtin_slow", r#"{"steps":50,"ms":100}"#)],
        ))])
        .await;
        let limits = Limits {
            deadline: Duration::from_millis(800),
            ..Limits::default()
        };
        let agent = small_agent(&endpoint, &marker, limits, ToolRules::default()).await;
        let started = Instant::now();
        let t = agent.run("take your time").await;
        assert_eq!(t.stop, StopReason::Deadline(800));
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(t.stop.to_string().contains("0.8 s"), "{}", t.stop);
        agent.close().await.unwrap();
        common::assert_no_process(&marker, Duration::from_secs(5)).await;

        let endpoint =
            ModelServer::start(vec![Reply::delay(5_000, Reply::json(add_call("late")))]).await;
        let agent = small_agent(&endpoint, &marker, limits, ToolRules::default()).await;
        let started = Instant::now();
        let t = agent.run("hurry").await;
        assert_eq!(t.stop, StopReason::Deadline(800));
        assert!(started.elapsed() < Duration::from_secs(3));
        assert!(t.steps.is_empty());
        agent.close().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_stops_the_run_and_its_calls() {
    common::bounded(async {
        let marker = common::marker("agent-cancel");
        let endpoint = ModelServer::start(vec![Reply::json(tool_call_completion(
            "scripted-model",
            &[("s", "builtin_slow", r#"{"steps":50,"ms":100}"#)],
        ))])
        .await;
        let agent = small_agent(&endpoint, &marker, Limits::default(), ToolRules::default()).await;
        let started = Instant::now();
        let t = agent
            .run_with(
                "start something long",
                &switchboard::agent::Quiet,
                tokio::time::sleep(Duration::from_millis(500)),
            )
            .await;
        assert_eq!(t.stop, StopReason::Cancelled);
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        // The server is still usable: the cancelled call did not break it.
        let out = agent
            .fleet()
            .call_tool("builtin_echo", json!({"text": "still here"}))
            .await
            .unwrap();
        assert_eq!(out.text(), "still here");
        agent.close().await.unwrap();
        common::assert_no_process(&marker, Duration::from_secs(5)).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_model_ends_the_run_with_its_error() {
    common::bounded(async {
        let marker = common::marker("agent-model-500");
        let endpoint =
            ModelServer::start(vec![Reply::Status(500, "upstream exploded".into())]).await;
        let agent = small_agent(&endpoint, &marker, Limits::default(), ToolRules::default()).await;
        let t = agent.run("hello").await;
        match &t.stop {
            StopReason::ModelError(e) => assert!(e.contains("500"), "{e}"),
            other => panic!("{other:?}"),
        }
        agent.close().await.unwrap();
        common::assert_no_process(&marker, Duration::from_secs(5)).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_calls_and_denied_tools_are_errors_the_model_reads() {
    common::bounded(async {
        let marker = common::marker("agent-rules");
        let endpoint = ModelServer::start(vec![
            Reply::json(tool_call_completion(
                "scripted-model",
                &[
                    ("a", "mem_add", r#"{"a":1,"b":2}"#),
                    ("b", "mem_echo", r#"{"text":"x"}"#),
                    ("c", "mem_add", r#"{"a":3,"b":4}"#),
                    ("d", "builtin_echo", r#"{"text":"denied"}"#),
                    ("e", "mem_add", "not json"),
                ],
            )),
            Reply::json(text_completion("scripted-model", "ok", 1, 1)),
        ])
        .await;
        let limits = Limits {
            max_tool_calls_per_step: 3,
            ..Limits::default()
        };
        let rules = ToolRules {
            deny: vec!["builtin_*".into()],
            ..ToolRules::default()
        };
        let agent = small_agent(&endpoint, &marker, limits, rules).await;
        let t = agent.run("do it all").await;
        assert_eq!(t.stop, StopReason::FinalAnswer);
        let calls = &t.steps[0].tool_calls;
        assert!(!calls[0].is_error && !calls[1].is_error && !calls[2].is_error);
        assert!(
            calls[3].is_error && calls[3].output.contains("at most 3"),
            "{:?}",
            calls[3]
        );
        assert!(calls[4].is_error && calls[4].output.contains("at most 3"));
        // The denied tools were never offered.
        let offered: Vec<String> = endpoint.requests()[0].body["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["function"]["name"].as_str().unwrap().to_owned())
            .collect();
        assert!(
            offered.iter().all(|n| !n.starts_with("builtin_")),
            "{offered:?}"
        );
        assert!(offered.contains(&"mem_add".to_owned()));
        agent.close().await.unwrap();

        // Within the limit: a denied name and bad arguments are refused.
        let endpoint = ModelServer::start(vec![
            Reply::json(tool_call_completion(
                "scripted-model",
                &[
                    ("d", "builtin_echo", r#"{"text":"denied"}"#),
                    ("e", "mem_add", "not json"),
                ],
            )),
            Reply::json(text_completion("scripted-model", "ok", 1, 1)),
        ])
        .await;
        let rules = ToolRules {
            deny: vec!["builtin_*".into()],
            ..ToolRules::default()
        };
        let agent = small_agent(&endpoint, &marker, Limits::default(), rules).await;
        let t = agent.run("try").await;
        let calls = &t.steps[0].tool_calls;
        assert!(
            calls[0].is_error && calls[0].output.contains("no tool named \"builtin_echo\""),
            "{:?}",
            calls[0]
        );
        assert!(
            calls[1].is_error && calls[1].output.contains("JSON object"),
            "{:?}",
            calls[1]
        );
        agent.close().await.unwrap();
        common::assert_no_process(&marker, Duration::from_secs(5)).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_planner_runs_offline_and_streams_nothing_it_does_not_have() {
    use switchboard::agent::{PlannedCall, Planner};
    let fleet = Fleet::builder()
        .member(Member::new("mem", || {
            Client::builder(Source::memory(demo_server()))
        }))
        .build()
        .await
        .unwrap();
    let planner = Planner::new()
        .step([
            PlannedCall::new("mem_add", json!({"a": 2, "b": 2})),
            PlannedCall::new("mem_echo", json!({"text": "planned"})),
            PlannedCall::new("mem_missing", json!({})),
        ])
        .step([PlannedCall::new("mem_echo", json!({"text": "second"}))]);
    let heard = Arc::new(Mutex::new(String::new()));
    struct Collect(Arc<Mutex<String>>);
    impl RunObserver for Collect {
        fn text(&self, delta: &str) {
            self.0.lock().unwrap().push_str(delta);
        }
    }
    let agent = Agent::builder(fleet, planner).build();
    let t = agent
        .run_with("plan", &Collect(heard.clone()), std::future::pending())
        .await;
    assert_eq!(t.stop, StopReason::FinalAnswer);
    assert_eq!(t.steps.len(), 3);
    assert_eq!(
        t.steps[0].tool_calls.len(),
        2,
        "a tool not offered is skipped"
    );
    let answer = t.answer.clone().unwrap();
    assert!(
        answer.contains("mem_echo: planned") && answer.contains("mem_echo: second"),
        "{answer}"
    );
    assert_eq!(*heard.lock().unwrap(), answer);
    assert!(t.tokens.total > 0);
    agent.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversation_remembers_and_a_cut_run_leaves_valid_history() {
    common::bounded(async {
        let endpoint = ModelServer::start(vec![
            Reply::json(text_completion("scripted-model", "Hello, Ada.", 5, 3)),
            // The second run: a slow tool, cancelled mid-call.
            Reply::json(tool_call_completion(
                "scripted-model",
                &[("s", "mem_slow", r#"{"steps":50,"ms":100}"#)],
            )),
            Reply::json(text_completion("scripted-model", "You are Ada.", 5, 3)),
        ])
        .await;
        let fleet = Fleet::builder()
            .member(Member::new("mem", || {
                Client::builder(Source::memory(demo_server()))
            }))
            .build()
            .await
            .unwrap();
        let agent = Agent::builder(fleet, model(&endpoint))
            .system_prompt("Be brief.")
            .build();
        let mut chat = agent.conversation();
        let t = chat.run("I am Ada.").await;
        assert_eq!(t.answer.as_deref(), Some("Hello, Ada."));
        let t = chat
            .run_with(
                "Count slowly.",
                &switchboard::agent::Quiet,
                tokio::time::sleep(Duration::from_millis(300)),
            )
            .await;
        assert_eq!(t.stop, StopReason::Cancelled);
        let t = chat.run("Who am I?").await;
        assert_eq!(t.answer.as_deref(), Some("You are Ada."));

        let third = &endpoint.requests()[2].body["messages"];
        assert_eq!(
            *third,
            json!([
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "I am Ada."},
                {"role": "assistant", "content": "Hello, Ada."},
                {"role": "user", "content": "Count slowly."},
                {"role": "user", "content": "Who am I?"},
            ]),
            "the cut run's unanswered tool call is not in the history"
        );
        agent.close().await.unwrap();
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streaming_model_is_heard_as_it_writes_and_its_streamed_calls_run() {
    common::bounded(async {
        let sse = |chunks: &[Value]| {
            let mut events: Vec<String> = chunks.iter().map(|c| c.to_string()).collect();
            events.push("[DONE]".into());
            Reply::Sse(events)
        };
        let endpoint = ModelServer::start(vec![
            sse(&[
                json!({"model": "streamer", "choices": [{"index": 0, "delta": {"content": "Let me add. "}}]}),
                json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "s1", "type": "function",
                    "function": {"name": "mem_add", "arguments": "{\"a\": 40,"}}]}}]}),
                json!({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": " \"b\": 2}"}}]}}]}),
                json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
            ]),
            sse(&[
                json!({"choices": [{"index": 0, "delta": {"content": "It is "}}]}),
                json!({"choices": [{"index": 0, "delta": {"content": "42."}}]}),
                json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}),
                json!({"choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}}),
            ]),
        ])
        .await;
        let fleet = Fleet::builder()
            .member(Member::new("mem", || Client::builder(Source::memory(demo_server()))))
            .build()
            .await
            .unwrap();
        struct Deltas(Mutex<Vec<String>>);
        impl RunObserver for Deltas {
            fn text(&self, delta: &str) {
                self.0.lock().unwrap().push(delta.to_owned());
            }
        }
        let deltas = Deltas(Mutex::new(Vec::new()));
        let agent = Agent::builder(fleet, model(&endpoint)).build();
        let t = agent
            .run_with("What is 40 + 2?", &deltas, std::future::pending())
            .await;
        assert_eq!(t.stop, StopReason::FinalAnswer);
        assert_eq!(t.answer.as_deref(), Some("It is 42."));
        assert_eq!(*deltas.0.lock().unwrap(), ["Let me add. ", "It is ", "42."]);
        let call = &t.steps[0].tool_calls[0];
        assert_eq!(call.arguments, json!({"a": 40, "b": 2}));
        assert!(call.output.contains("\"sum\":42"), "{call:?}");
        assert_eq!(t.steps[0].text, "Let me add. ");
        assert_eq!(t.steps[1].tokens.total, 10);
        assert_eq!(endpoint.requests()[0].body["stream"], true);
        agent.close().await.unwrap();
    })
    .await
}
