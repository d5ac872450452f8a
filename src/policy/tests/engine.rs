use std::sync::Arc;

use serde_json::json;

use super::{form, url};
use crate::policy::config::ElicitationConfig;
use crate::policy::decide::{settle_form, Engine, Plan};
use crate::policy::{MissingRequired, PolicyConfig, SchemaLimits};
use crate::protocol::{codes, ElicitAction};

fn engine(v: serde_json::Value, has_callback: bool, has_filler: bool) -> Engine {
    let config: PolicyConfig = serde_json::from_value(json!({ "elicitation": v })).expect("config");
    let config: ElicitationConfig = config.elicitation;
    Engine {
        config,
        limits: SchemaLimits::default(),
        has_callback,
        has_filler,
    }
}

fn server() -> Arc<str> {
    Arc::from("github")
}

fn confirm_form() -> serde_json::Value {
    json!({
        "type": "object",
        "properties": {
            "confirm": {"type": "boolean"},
            "note": {"type": "string", "default": "by policy"},
            "count": {"type": "integer", "minimum": 1, "default": 1}
        },
        "required": ["confirm"]
    })
}

fn done(plan: Plan) -> crate::protocol::ElicitResult {
    match plan {
        Plan::Done(Ok(r)) => r,
        other => panic!("expected an answer, got {other:?}"),
    }
}

#[test]
fn accept_by_rule_fills_defaults_under_the_values() {
    let e = engine(
        json!({"rules": [{"message": "*confirm*", "action": "accept", "values": {"confirm": true}}]}),
        false,
        false,
    );
    let r = done(e.plan(form("Please confirm", confirm_form()), server()));
    assert_eq!(r.action, ElicitAction::Accept);
    assert_eq!(
        serde_json::Value::Object(r.content.unwrap_or_default()),
        json!({"confirm": true, "note": "by policy", "count": 1})
    );
}

#[test]
fn a_rule_value_that_does_not_fit_declines() {
    let e = engine(
        json!({"rules": [{"action": "accept", "values": {"confirm": true, "count": 0}}]}),
        false,
        false,
    );
    assert_eq!(
        done(e.plan(form("x", confirm_form()), server())).action,
        ElicitAction::Decline
    );
    let e = engine(
        json!({"rules": [{"action": "accept", "values": {"confirm": "yes"}}]}),
        false,
        false,
    );
    assert_eq!(
        done(e.plan(form("x", confirm_form()), server())).action,
        ElicitAction::Decline
    );
}

#[test]
fn missing_required_declines_or_asks_as_configured() {
    let e = engine(json!({"default": "accept_defaults"}), true, true);
    assert_eq!(
        done(e.plan(form("x", confirm_form()), server())).action,
        ElicitAction::Decline
    );

    let e = engine(
        json!({"default": "accept_defaults", "missing_required": "ask"}),
        true,
        false,
    );
    match e.plan(form("x", confirm_form()), server()) {
        Plan::AskForm(p) => assert_eq!(p.prefilled["note"], json!("by policy")),
        other => panic!("{other:?}"),
    }
    let e = engine(
        json!({"default": "accept_defaults", "missing_required": "fill"}),
        false,
        true,
    );
    assert!(matches!(
        e.plan(form("x", confirm_form()), server()),
        Plan::Fill(_)
    ));
    // Asked for a filler that is not there: decline.
    let mut e = engine(json!({"default": "accept_defaults"}), false, false);
    e.config.missing_required = MissingRequired::Fill;
    assert_eq!(
        done(e.plan(form("x", confirm_form()), server())).action,
        ElicitAction::Decline
    );
}

#[test]
fn decline_cancel_and_the_default() {
    let e = engine(
        json!({"rules": [{"server": "github", "action": "cancel"}], "default": "decline"}),
        false,
        false,
    );
    assert_eq!(
        done(e.plan(form("x", confirm_form()), server())).action,
        ElicitAction::Cancel
    );
    assert_eq!(
        done(e.plan(form("x", confirm_form()), Arc::from("slack"))).action,
        ElicitAction::Decline
    );
}

#[test]
fn ask_and_fill_without_anyone_to_ask_decline() {
    let e = engine(json!({"default": "ask"}), false, false);
    assert_eq!(
        done(e.plan(form("x", confirm_form()), server())).action,
        ElicitAction::Decline
    );
    let e = engine(json!({"default": "fill"}), true, false);
    assert_eq!(
        done(e.plan(form("x", confirm_form()), server())).action,
        ElicitAction::Decline
    );
    let e = engine(json!({"default": "ask"}), true, false);
    assert!(matches!(
        e.plan(form("x", confirm_form()), server()),
        Plan::AskForm(_)
    ));
}

#[test]
fn a_schema_outside_the_limits_is_an_error_not_an_answer() {
    let e = engine(json!({"default": "accept_defaults"}), false, false);
    let bad = json!({"type": "object", "properties": {"addr": {"type": "object"}}});
    match e.plan(form("x", bad), server()) {
        Plan::Done(Err(err)) => {
            assert_eq!(err.code, codes::INVALID_PARAMS);
            assert!(err.message.contains("addr"), "{}", err.message);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn url_mode_needs_a_callback_and_an_acceptable_url() {
    // A rule's accept is not consent.
    let e = engine(
        json!({"rules": [{"mode": "url", "action": "accept"}]}),
        false,
        false,
    );
    assert_eq!(
        done(e.plan(url("sign in", "https://example.com/a"), server())).action,
        ElicitAction::Decline
    );
    let e = engine(
        json!({"rules": [{"mode": "url", "action": "accept"}]}),
        true,
        false,
    );
    match e.plan(url("sign in", "https://example.com/a"), server()) {
        Plan::AskUrl(r) => {
            assert_eq!(r.prompt.domain.as_deref(), Some("example.com"));
            assert_eq!(r.message, "sign in");
        }
        other => panic!("{other:?}"),
    }
    // Never offered, callback or not.
    for bad in [
        "javascript:alert(1)",
        "file:///etc/passwd",
        "http://example.com/",
    ] {
        assert_eq!(
            done(e.plan(url("x", bad), server())).action,
            ElicitAction::Decline,
            "{bad}"
        );
    }
    let e = engine(
        json!({"rules": [{"mode": "url", "action": "cancel"}]}),
        true,
        false,
    );
    assert_eq!(
        done(e.plan(url("x", "https://example.com/"), server())).action,
        ElicitAction::Cancel
    );
}

#[test]
fn answers_from_a_person_are_settled_like_any_other() {
    let e = engine(json!({"default": "ask"}), true, false);
    let Plan::AskForm(prompt) = e.plan(form("x", confirm_form()), server()) else {
        panic!("expected a question");
    };
    let ok = settle_form(
        &prompt,
        &json!({"confirm": false})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        "test",
    );
    assert_eq!(ok.action, ElicitAction::Accept);
    assert_eq!(
        ok.content.as_ref().map(|c| c["note"].clone()),
        Some(json!("by policy"))
    );
    let missing = settle_form(&prompt, &Default::default(), "test");
    assert_eq!(missing.action, ElicitAction::Decline);
    let invalid = settle_form(
        &prompt,
        &json!({"confirm": 3})
            .as_object()
            .cloned()
            .unwrap_or_default(),
        "test",
    );
    assert_eq!(invalid.action, ElicitAction::Decline);
}
