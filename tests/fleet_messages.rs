//! What servers say, heard through one fleet: a [`MessageHandler`] and the
//! fleet-wide sampling and roots handlers serve two real servers
//! (server-everything and FastMCP, both over stdio) and are told which
//! server spoke; a config's `log_level` reaches the server.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use switchboard::config::FleetConfig;
use switchboard::protocol::{
    CreateMessageRequestParams, CreateMessageResult, LoggingMessageNotificationParams,
    ProgressNotificationParams, ProtocolVersion, Root, VersionChoice,
};
use switchboard::session::{ListKind, MessageHandler, ServerMessage};
use switchboard::{Fleet, ListedRoots, Member, RequestContext};

/// Everything the handler heard, as `(server, what)`.
#[derive(Default)]
struct Heard(Mutex<Vec<(String, String)>>);

impl Heard {
    fn push(&self, server: &str, what: String) {
        self.0.lock().unwrap().push((server.to_owned(), what));
    }
    fn from(&self, server: &str) -> Vec<String> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(s, _)| s == server)
            .map(|(_, w)| w.clone())
            .collect()
    }
    fn has(&self, server: &str, what: &str) -> Option<()> {
        self.from(server).iter().any(|w| w == what).then_some(())
    }
}

struct Recorder(Arc<Heard>);

impl MessageHandler for Recorder {
    fn on_message(&self, server: &str, message: &ServerMessage<'_>) {
        let kind = match message {
            ServerMessage::Progress(_) => "progress",
            ServerMessage::Log(_) => "log",
            ServerMessage::ListChanged(_) => "list_changed",
            ServerMessage::ResourceUpdated { .. } => "resource_updated",
            ServerMessage::Other(_) => "other",
        };
        self.0.push(server, format!("any:{kind}"));
    }
    fn on_progress(&self, server: &str, p: &ProgressNotificationParams) {
        self.0
            .push(server, format!("progress:{}/{:?}", p.progress, p.total));
    }
    fn on_log(&self, server: &str, log: &LoggingMessageNotificationParams) {
        // FastMCP sends `{"msg": ..., "extra": ...}`, others a string.
        let text = match &log.data {
            Value::String(s) => s.clone(),
            Value::Object(o) => match o.get("msg") {
                Some(Value::String(s)) => s.clone(),
                _ => log.data.to_string(),
            },
            other => other.to_string(),
        };
        self.0.push(server, format!("log:{}:{text}", log.level));
    }
    fn on_list_changed(&self, server: &str, list: ListKind) {
        self.0.push(server, format!("list_changed:{list:?}"));
    }
    fn on_resource_updated(&self, server: &str, uri: &str) {
        self.0.push(server, format!("resource_updated:{uri}"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_handler_hears_every_server_by_name() {
    common::bounded(async {
        let marker = common::marker("fleet-messages");
        let heard = Arc::new(Heard::default());
        let sampled_by = Arc::new(Mutex::new(Vec::<String>::new()));
        let (m1, m2) = (marker.clone(), marker.clone());
        let sampled = sampled_by.clone();
        let fleet = Fleet::builder()
            .member(Member::new("everything", move || common::everything(&m1)))
            .member(Member::new("fast", move || {
                common::fastmcp(&m2).protocol(VersionChoice::Exact(ProtocolVersion::V2025_11_25))
            }))
            .message_handler(Recorder(heard.clone()))
            .sampling(move |_p: CreateMessageRequestParams, ctx: RequestContext| {
                sampled.lock().unwrap().push(ctx.server.to_string());
                async { Ok(CreateMessageResult::text("fleet-model", "from the fleet")) }
            })
            .roots_handler(ListedRoots::new(vec![Root::new("file:///tmp/fleet-root")]))
            .build()
            .await
            .expect("fleet");
        for h in fleet.health() {
            assert_eq!(h.state, "ready", "{h:?}");
        }

        // The fleet's roots handler answered server-everything, which logs
        // what it received: a log message, attributed to its server.
        common::eventually("everything's roots log", Duration::from_secs(10), || {
            let heard = heard.clone();
            async move {
                heard.has(
                    "everything",
                    "log:info:Roots updated: 1 root(s) received from client",
                )
            }
        })
        .await;

        // FastMCP's logs and progress, attributed to "fast".
        let out = fleet
            .call_tool("fast_log", json!({"message": "hello"}))
            .await
            .expect("fast_log");
        assert_eq!(out.text(), "logged: hello");
        let out = fleet
            .call_tool("fast_slow", json!({"steps": 3}))
            .await
            .expect("fast_slow");
        assert_eq!(out.text(), "done");
        // Notifications ride the same stream as the reply, before it.
        let fast = heard.from("fast");
        for expected in [
            "log:info:info: hello",
            "log:warning:warning: hello",
            "progress:1/Some(3.0)",
            "progress:2/Some(3.0)",
            "progress:3/Some(3.0)",
        ] {
            assert!(fast.iter().any(|w| w == expected), "{expected} in {fast:?}");
        }
        assert!(
            !heard.from("everything").iter().any(|w| w.contains("hello")),
            "fast's messages are not attributed to everything"
        );

        // List changes and resource updates.
        let out = fleet
            .call_tool("fast_announce", json!({"uri": "data://greeting"}))
            .await
            .expect("fast_announce");
        assert_eq!(out.text(), "announced: data://greeting");
        common::eventually("list change and update", Duration::from_secs(5), || {
            let heard = heard.clone();
            async move {
                heard.has("fast", "list_changed:Tools")?;
                heard.has("fast", "resource_updated:data://greeting")
            }
        })
        .await;

        // The catch-all saw every message first: one `any:` per typed one.
        let fast = heard.from("fast");
        let typed = fast.iter().filter(|w| !w.starts_with("any:")).count();
        let any = fast.iter().filter(|w| w.starts_with("any:")).count();
        assert_eq!(typed, any, "{fast:?}");

        // The fleet's sampler answered server-everything, told its name.
        let out = fleet
            .call_tool(
                "everything_trigger-sampling-request",
                json!({"prompt": "hi", "maxTokens": 5}),
            )
            .await
            .expect("sampling through the fleet");
        assert!(out.text().contains("from the fleet"), "{}", out.text());
        assert_eq!(*sampled_by.lock().unwrap(), ["everything"]);

        fleet.close().await.expect("close");
        common::assert_no_process(&marker, Duration::from_secs(5)).await;
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_log_level_reaches_the_server() {
    common::bounded(async {
        let marker = common::marker("fleet-log-level");
        let python = common::python();
        let script = common::peer_script("fastmcp_server.py");
        let entry = |level: Option<&str>| {
            let mut e = json!({
                "command": python,
                "args": [script],
                "env": {"SWITCHBOARD_TEST_MARKER": marker},
                "protocol": "2025-11-25",
            });
            if let Some(level) = level {
                e["log_level"] = json!(level);
            }
            e
        };
        let text = json!({"mcpServers": {
            "quiet": entry(Some("error")),
            "chatty": entry(None),
        }})
        .to_string();
        let config = FleetConfig::from_json_str(&text).expect("config");
        let level = |name: &str| {
            config
                .servers
                .iter()
                .find(|s| s.name == name)
                .and_then(|s| s.log_level)
        };
        assert_eq!(
            level("quiet"),
            Some(switchboard::protocol::LoggingLevel::Error)
        );
        assert_eq!(level("chatty"), None);
        let heard = Arc::new(Heard::default());
        let fleet = Fleet::builder()
            .config(config)
            .message_handler(Recorder(heard.clone()))
            .build()
            .await
            .expect("fleet");
        for server in ["quiet", "chatty"] {
            let out = fleet
                .call_tool(&format!("{server}_log"), json!({"message": "m"}))
                .await
                .expect("log tool");
            assert_eq!(out.text(), "logged: m");
        }
        let chatty = heard.from("chatty");
        assert!(
            chatty.contains(&"log:info:info: m".to_owned()),
            "{chatty:?}"
        );
        let quiet = heard.from("quiet");
        assert!(
            !quiet.iter().any(|w| w.starts_with("log:")),
            "a server asked for errors only sent: {quiet:?}"
        );
        fleet.close().await.expect("close");
        common::assert_no_process(&marker, Duration::from_secs(5)).await;
    })
    .await
}
