//! A `Policy` answering a real `Client` connected to the in-process test
//! server, in both eras: `elicitation/create` and `roots/list` requests in
//! the handshake era, input-required rounds in 2026-07-28.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::future::BoxFuture;
use serde_json::{json, Value};
use switchboard::policy::{
    FixedFiller, FormAnswer, FormPrompt, PolicyConfig, UrlAnswer, UrlConsentRequest, UserCallback,
};
use switchboard::protocol::{Era, ProtocolVersion, VersionChoice};
use switchboard::testing::{structured_result, TestServer, ToolDef};
use switchboard::transport::{InProcessServer, ServerEnd};
use switchboard::{Client, Error, Policy, PolicyError, Source};
use tokio::sync::mpsc;

const ERAS: [(VersionChoice, Era); 2] = [
    (VersionChoice::Auto, Era::Modern),
    (
        VersionChoice::Exact(ProtocolVersion::V2025_11_25),
        Era::Handshake,
    ),
];

async fn within<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(30), f)
        .await
        .expect("test exceeded its deadline")
}

/// A server whose tools ask the client: `elicit` forwards its `request`
/// argument as elicitation params, `roots` lists the client's roots, `caps`
/// shows the client capabilities in force.
fn server() -> TestServer {
    TestServer::builder("asker")
        .tool(ToolDef::new("elicit"), |ctx, args| async move {
            let answer = ctx.elicit(args["request"].clone()).await?;
            Ok(structured_result(json!({ "answer": answer })))
        })
        .tool(ToolDef::new("roots"), |ctx, _args| async move {
            Ok(structured_result(ctx.list_roots().await?))
        })
        .tool(ToolDef::new("caps"), |ctx, _args| async move {
            Ok(structured_result(ctx.client_capabilities().clone()))
        })
        .build()
}

fn config(v: Value) -> PolicyConfig {
    serde_json::from_value(v).expect("a policy config")
}

async fn connect(policy: &Policy, source: Source, name: &str, choice: VersionChoice) -> Client {
    let builder = Client::builder(source)
        .name(name)
        .protocol(choice)
        .timeout(Duration::from_secs(10));
    policy.connect(builder).await.expect("connect")
}

/// The server's `elicit` tool: the `ElicitResult` it got, or the error
/// (handshake era: the refusal the server saw; 2026-07-28: the call's end).
async fn elicit(client: &Client, request: Value) -> Result<Value, String> {
    match client
        .call_tool("elicit", json!({ "request": request }))
        .await
    {
        Ok(out) if out.is_error() => Err(out.text()),
        Ok(out) => Ok(out
            .structured()
            .map(|s| s["answer"].clone())
            .unwrap_or(Value::Null)),
        Err(e) => Err(e.to_string()),
    }
}

fn confirm_form(message: &str) -> Value {
    json!({
        "message": message,
        "requestedSchema": {
            "type": "object",
            "properties": {
                "confirm": {"type": "boolean"},
                "note": {"type": "string", "default": "approved by policy"},
                "count": {"type": "integer", "minimum": 1, "default": 2},
                "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "default": ["a"]}
            },
            "required": ["confirm"]
        }
    })
}

async fn roots_seen(client: &Client) -> Value {
    let out = client.call_tool("roots", json!({})).await.expect("roots");
    let uris: Vec<Value> = out.structured().expect("structured")["roots"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .map(|r| r["uri"].clone())
        .collect();
    Value::Array(uris)
}

/// A person, scripted.
#[derive(Clone)]
struct Human {
    forms: Arc<Mutex<Vec<FormPrompt>>>,
    urls: Arc<Mutex<Vec<UrlConsentRequest>>>,
    answer: FormAnswer,
    slow: bool,
}

impl Human {
    fn answering(answer: FormAnswer) -> Self {
        Human {
            forms: Arc::default(),
            urls: Arc::default(),
            answer,
            slow: false,
        }
    }
}

impl UserCallback for Human {
    fn ask_form(&self, form: FormPrompt) -> BoxFuture<'static, FormAnswer> {
        self.forms.lock().unwrap().push(form);
        let answer = self.answer.clone();
        let slow = self.slow;
        Box::pin(async move {
            if slow {
                futures_util::future::pending::<()>().await;
            }
            answer
        })
    }

    fn ask_url(&self, request: UrlConsentRequest) -> BoxFuture<'static, UrlAnswer> {
        // Consents only to a plain, known domain.
        let ok =
            !request.prompt.is_punycode && request.prompt.domain.as_deref() == Some("example.com");
        self.urls.lock().unwrap().push(request);
        Box::pin(async move {
            if ok {
                UrlAnswer::Consent
            } else {
                UrlAnswer::Decline
            }
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_accept_with_defaults_decline_and_cancel() {
    within(async {
        let policy = Policy::new(config(json!({"elicitation": {
            "rules": [
                {"server": "git*", "message": "*confirm*", "action": "accept", "values": {"confirm": true}},
                {"message": "go away", "action": "cancel"},
                {"properties": ["note"], "exact": true, "action": "accept_defaults"}
            ],
            "default": "decline"
        }})))
        .expect("policy");
        for (choice, era) in ERAS {
            let client = connect(&policy, Source::memory(server()), "github", choice).await;
            assert_eq!(client.era(), Some(era));

            let accepted = elicit(&client, confirm_form("Please CONFIRM the push")).await;
            assert_eq!(
                accepted,
                Ok(json!({"action": "accept", "content": {
                    "confirm": true, "note": "approved by policy", "count": 2, "tags": ["a"]
                }})),
                "{era:?}"
            );
            let declined = elicit(&client, confirm_form("What is your name?")).await;
            assert_eq!(declined, Ok(json!({"action": "decline"})), "{era:?}");
            let cancelled = elicit(&client, confirm_form("go away please")).await;
            assert_eq!(cancelled, Ok(json!({"action": "cancel"})), "{era:?}");
            let defaults_only = json!({"message": "a note", "requestedSchema": {
                "type": "object", "properties": {"note": {"type": "string", "default": "n/a"}}
            }});
            assert_eq!(
                elicit(&client, defaults_only).await,
                Ok(json!({"action": "accept", "content": {"note": "n/a"}}))
            );
            client.close().await.expect("close");
        }
        let stats = policy.stats().await.expect("stats");
        assert_eq!((stats.elicitations, stats.accepted, stats.declined, stats.cancelled), (8, 4, 2, 2));
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rule_value_outside_the_schema_declines_rather_than_accepting() {
    within(async {
        let policy = Policy::new(config(json!({"elicitation": {"rules": [
            {"action": "accept", "values": {"confirm": true, "count": 0}}
        ]}})))
        .expect("policy");
        for (choice, era) in ERAS {
            let client = connect(&policy, Source::memory(server()), "github", choice).await;
            let r = elicit(&client, confirm_form("confirm?")).await;
            assert_eq!(r, Ok(json!({"action": "decline"})), "{era:?}");
            client.close().await.expect("close");
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ask_goes_to_the_callback_with_defaults_prefilled() {
    within(async {
        let mut values = serde_json::Map::new();
        values.insert("confirm".into(), json!(false));
        values.insert("note".into(), json!("checked by a human"));
        let human = Human::answering(FormAnswer::Accept(values));
        let policy = Policy::builder(config(json!({"elicitation": {"rules": [
            {"server": "github", "action": "ask"}
        ]}})))
        .callback(human.clone())
        .build()
        .expect("policy");
        for (choice, era) in ERAS {
            let client = connect(&policy, Source::memory(server()), "github", choice).await;
            let r = elicit(&client, confirm_form("Deploy?")).await;
            assert_eq!(
                r,
                Ok(json!({"action": "accept", "content": {
                    "confirm": false, "note": "checked by a human", "count": 2, "tags": ["a"]
                }})),
                "{era:?}"
            );
            client.close().await.expect("close");
        }
        let forms = human.forms.lock().unwrap().clone();
        assert_eq!(forms.len(), 2);
        assert_eq!(&*forms[0].server, "github");
        assert_eq!(forms[0].message, "Deploy?");
        assert_eq!(forms[0].prefilled["count"], json!(2));
        assert!(forms[0].schema.is_required("confirm"));
        assert_eq!(policy.stats().await.expect("stats").asked, 2);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filler_answers_fill_rules_and_missing_required_fields() {
    within(async {
        let mut values = serde_json::Map::new();
        values.insert("confirm".into(), json!(true));
        values.insert("count".into(), json!(5));
        let policy = Policy::builder(config(json!({"elicitation": {
            "rules": [{"message": "*fill*", "action": "fill"}],
            "default": "accept_defaults",
            "missing_required": "fill"
        }})))
        .filler(FixedFiller(values))
        .build()
        .expect("policy");
        for (choice, era) in ERAS {
            let client = connect(&policy, Source::memory(server()), "github", choice).await;
            let expected = Ok(json!({"action": "accept", "content": {
                "confirm": true, "note": "approved by policy", "count": 5, "tags": ["a"]
            }}));
            // A fill rule, and an accept_defaults that lacks the required field.
            assert_eq!(
                elicit(&client, confirm_form("please fill")).await,
                expected,
                "{era:?}"
            );
            assert_eq!(
                elicit(&client, confirm_form("defaults?")).await,
                expected,
                "{era:?}"
            );
            client.close().await.expect("close");
        }
        assert_eq!(policy.stats().await.expect("stats").filled, 4);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_callback_past_its_deadline_cancels() {
    within(async {
        let mut human = Human::answering(FormAnswer::Decline);
        human.slow = true;
        let policy = Policy::builder(config(json!({"elicitation": {"default": "ask"}})))
            .callback(human)
            .ask_timeout(Duration::from_millis(200))
            .build()
            .expect("policy");
        for (choice, era) in ERAS {
            let client = connect(&policy, Source::memory(server()), "github", choice).await;
            let started = Instant::now();
            let r = elicit(&client, confirm_form("anyone there?")).await;
            assert_eq!(r, Ok(json!({"action": "cancel"})), "{era:?}");
            assert!(started.elapsed() < Duration::from_secs(5));
            client.close().await.expect("close");
        }
        assert_eq!(policy.stats().await.expect("stats").timed_out, 2);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_outside_the_limits_is_an_error_and_the_client_carries_on() {
    within(async {
        let policy = Policy::new(config(
            json!({"elicitation": {"default": "accept_defaults"}}),
        ))
        .expect("policy");
        let nested = json!({"message": "address?", "requestedSchema": {
            "type": "object",
            "properties": {"addr": {"type": "object", "properties": {"street": {"type": "string"}}}}
        }});
        let reference = json!({"message": "ref?", "requestedSchema": {
            "type": "object",
            "properties": {"x": {"$ref": "#/$defs/x", "type": "string"}}
        }});
        for (choice, era) in ERAS {
            let client = connect(&policy, Source::memory(server()), "github", choice).await;
            let err = elicit(&client, nested.clone()).await.expect_err("refused");
            assert!(
                err.contains("\"addr\"") && err.contains("nested objects"),
                "{era:?}: {err}"
            );
            if era == Era::Handshake {
                // What the server saw: our JSON-RPC error.
                assert!(err.contains("-32602"), "{err}");
            }
            let err = elicit(&client, reference.clone())
                .await
                .expect_err("refused");
            assert!(
                err.contains("\"x\"") && err.contains("$ref"),
                "{era:?}: {err}"
            );
            // Same client, next call: fine.
            let ok = json!({"message": "fine", "requestedSchema": {
                "type": "object", "properties": {"n": {"type": "integer", "default": 7}}
            }});
            assert_eq!(
                elicit(&client, ok).await,
                Ok(json!({"action": "accept", "content": {"n": 7}})),
                "{era:?}"
            );
            client.ping().await.expect("ping");
            client.close().await.expect("close");
        }
        assert_eq!(policy.stats().await.expect("stats").refused, 4);
    })
    .await
}

fn url_request(url: &str) -> Value {
    json!({"mode": "url", "message": "Sign in to continue", "url": url, "elicitationId": "e-1"})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_mode_without_a_callback_is_not_declared_and_is_refused() {
    within(async {
        // Even a rule that says accept: a rule is not consent.
        let policy = Policy::new(config(json!({"elicitation": {"rules": [
            {"mode": "url", "action": "accept"}
        ]}})))
        .expect("policy");
        for (choice, era) in ERAS {
            let client = connect(&policy, Source::memory(server()), "github", choice).await;
            let caps = client.call_tool("caps", json!({})).await.expect("caps");
            let caps = caps.structured().expect("structured");
            assert!(caps["elicitation"].is_object(), "{era:?}: {caps}");
            assert!(caps["elicitation"].get("url").is_none(), "{era:?}: {caps}");
            let err = elicit(&client, url_request("https://example.com/login"))
                .await
                .expect_err("not declared, so refused");
            assert!(err.contains("URL-mode"), "{era:?}: {err}");
            client.ping().await.expect("ping");
            client.close().await.expect("close");
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_mode_with_a_callback_asks_for_consent() {
    within(async {
        let human = Human::answering(FormAnswer::Decline);
        let policy = Policy::builder(config(json!({"elicitation": {"rules": [
            {"mode": "url", "action": "ask"}
        ]}})))
        .callback(human.clone())
        .build()
        .expect("policy");
        for (choice, era) in ERAS {
            let client = connect(&policy, Source::memory(server()), "github", choice).await;
            let caps = client.call_tool("caps", json!({})).await.expect("caps");
            assert!(caps.structured().expect("structured")["elicitation"]["url"].is_object());
            assert_eq!(
                elicit(&client, url_request("https://example.com/login")).await,
                Ok(json!({"action": "accept"})),
                "{era:?}"
            );
            // The person sees the punycode and says no.
            assert_eq!(
                elicit(&client, url_request("https://xn--80ak6aa92e.com/login")).await,
                Ok(json!({"action": "decline"})),
                "{era:?}"
            );
            // Never even offered.
            assert_eq!(
                elicit(&client, url_request("javascript:alert(1)")).await,
                Ok(json!({"action": "decline"})),
                "{era:?}"
            );
            client.close().await.expect("close");
        }
        let urls = human.urls.lock().unwrap().clone();
        assert_eq!(urls.len(), 4, "javascript: is never shown");
        assert_eq!(urls[0].prompt.full_url, "https://example.com/login");
        assert_eq!(urls[0].message, "Sign in to continue");
        assert!(urls[1].prompt.is_punycode);
        assert_eq!(urls[1].prompt.domain.as_deref(), Some("аррӏе.com"));
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roots_per_server_from_one_policy() {
    within(async {
        let policy = Policy::new(config(json!({"roots": {
            "fs": ["file:///home/me/project", "/srv/data"],
            "*": ["file:///tmp/scratch"]
        }})))
        .expect("policy");
        for (choice, era) in ERAS {
            let fs = connect(&policy, Source::memory(server()), "fs", choice).await;
            let other = connect(&policy, Source::memory(server()), "other", choice).await;
            // The policy as a plain roots handler, telling servers apart by name.
            let handled = Client::builder(Source::memory(server()))
                .name("fs")
                .protocol(choice)
                .roots_handler(policy.clone())
                .elicitation(policy.clone())
                .connect()
                .await
                .expect("connect");
            let fs_roots = json!(["file:///home/me/project", "file:///srv/data"]);
            assert_eq!(roots_seen(&fs).await, fs_roots, "{era:?}");
            assert_eq!(roots_seen(&handled).await, fs_roots, "{era:?}");
            assert_eq!(
                roots_seen(&other).await,
                json!(["file:///tmp/scratch"]),
                "{era:?}"
            );
            for c in [fs, other, handled] {
                c.close().await.expect("close");
            }
        }
    })
    .await
}

/// The test server behind a shim that behaves like a server watching its
/// roots: on `notifications/roots/list_changed` it sends `roots/list` and
/// records the answer.
#[derive(Clone)]
struct Relisting {
    inner: TestServer,
    relisted: Arc<Mutex<Vec<Value>>>,
}

impl InProcessServer for Relisting {
    fn serve(&self, end: ServerEnd) -> BoxFuture<'static, ()> {
        let (to_inner, inner_in) = mpsc::channel::<Bytes>(64);
        let (inner_out, mut from_inner) = mpsc::channel::<Bytes>(64);
        let inner = self.inner.serve_end(ServerEnd {
            incoming: inner_in,
            outgoing: inner_out,
        });
        let relisted = self.relisted.clone();
        Box::pin(async move {
            let inner = tokio::spawn(inner);
            let ServerEnd {
                mut incoming,
                outgoing,
            } = end;
            let mut asked = 0;
            loop {
                tokio::select! {
                    frame = incoming.recv() => {
                        let Some(frame) = frame else { break };
                        let v: Value = serde_json::from_slice(&frame).unwrap_or(Value::Null);
                        if v["method"] == "notifications/roots/list_changed" {
                            asked += 1;
                            let ask = json!({"jsonrpc": "2.0", "id": format!("relist-{asked}"),
                                             "method": "roots/list", "params": {}});
                            if outgoing.send(Bytes::from(ask.to_string())).await.is_err() {
                                break;
                            }
                        } else if v["id"].as_str().is_some_and(|id| id.starts_with("relist-")) {
                            relisted.lock().unwrap().push(v["result"]["roots"].clone());
                        } else if to_inner.send(frame).await.is_err() {
                            break;
                        }
                    }
                    frame = from_inner.recv() => {
                        let Some(frame) = frame else { break };
                        if outgoing.send(frame).await.is_err() {
                            break;
                        }
                    }
                }
            }
            drop(to_inner);
            let _ = inner.await;
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roots_changed_at_run_time_reach_the_server() {
    within(async {
        let policy =
            Policy::new(config(json!({"roots": {"fs": ["file:///old"]}}))).expect("policy");
        for (choice, era) in ERAS {
            let shim = Relisting {
                inner: server(),
                relisted: Arc::default(),
            };
            let fs = connect(&policy, Source::memory(shim.clone()), "fs", choice).await;
            let bystander = connect(&policy, Source::memory(server()), "other", choice).await;
            assert_eq!(roots_seen(&fs).await, json!(["file:///old"]), "{era:?}");

            let told = policy
                .set_roots("fs", ["file:///new/a", "file:///new/b"])
                .await
                .expect("set_roots");
            assert_eq!(told, 1, "{era:?}: only the fs client is told");
            if era == Era::Handshake {
                // list_changed went out and the server listed again.
                let deadline = Instant::now() + Duration::from_secs(5);
                loop {
                    if let Some(list) = shim.relisted.lock().unwrap().last().cloned() {
                        assert_eq!(
                            list,
                            json!([{"uri": "file:///new/a"}, {"uri": "file:///new/b"}])
                        );
                        break;
                    }
                    assert!(Instant::now() < deadline, "the server was not told");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            } else {
                assert!(
                    shim.relisted.lock().unwrap().is_empty(),
                    "no notification in 2026-07-28"
                );
            }
            // Either way the next ask sees the new list; other servers keep theirs.
            assert_eq!(
                roots_seen(&fs).await,
                json!(["file:///new/a", "file:///new/b"]),
                "{era:?}"
            );
            assert_eq!(roots_seen(&bystander).await, json!([]), "{era:?}");
            assert_eq!(policy.roots_for("fs").await.expect("roots").len(), 2);
            // Put the old list back for the next era.
            policy
                .set_roots("fs", ["file:///old"])
                .await
                .expect("reset");
            fs.close().await.expect("close");
            bystander.close().await.expect("close");
        }
        // Closed clients are forgotten.
        assert_eq!(policy.stats().await.expect("stats").attached, 0);
        assert!(matches!(
            policy
                .set_roots("fs", ["not a uri://"])
                .await
                .map_err(Error::from),
            Err(Error::Policy(PolicyError::Root { .. }))
        ));
    })
    .await
}
