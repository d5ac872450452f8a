use serde_json::json;

use crate::policy::{
    first_match, ElicitMode, MissingRequired, PolicyConfig, PolicyError, RuleAction, RuleInput,
};

fn config(v: serde_json::Value) -> PolicyConfig {
    serde_json::from_value(v).expect("a config")
}

#[test]
fn the_documented_example_parses() {
    let c = config(json!({
        "elicitation": {
            "rules": [
                {"server": "github", "message": "*confirm*", "action": "accept", "values": {"confirm": true}},
                {"mode": "url", "action": "ask"}
            ],
            "default": "decline"
        },
        "roots": {"fs": ["file:///home/me/project"]}
    }));
    assert_eq!(c.validate(), Ok(()));
    assert_eq!(c.elicitation.rules.len(), 2);
    assert_eq!(c.elicitation.rules[0].values["confirm"], json!(true));
    assert_eq!(c.elicitation.rules[1].mode, Some(ElicitMode::Url));
    assert_eq!(c.elicitation.default, RuleAction::Decline);
    assert_eq!(c.elicitation.missing_required, MissingRequired::Decline);
    assert_eq!(c.elicitation.ask_timeout_secs, 120);
    assert_eq!(c.roots["fs"], vec!["file:///home/me/project".to_owned()]);
}

#[test]
fn an_empty_config_declines_everything() {
    let c = config(json!({}));
    assert_eq!(c.elicitation.default, RuleAction::Decline);
    assert!(c.elicitation.rules.is_empty());
}

#[test]
fn typos_and_nonsense_are_refused() {
    assert!(serde_json::from_value::<PolicyConfig>(json!({"elicitation": {"rulez": []}})).is_err());
    assert!(serde_json::from_value::<PolicyConfig>(
        json!({"elicitation": {"rules": [{"action": "maybe"}]}})
    )
    .is_err());
    let values_on_decline =
        config(json!({"elicitation": {"rules": [{"action": "decline", "values": {"a": 1}}]}}));
    assert!(
        matches!(values_on_decline.validate(), Err(PolicyError::Config(m)) if m.contains("rule 1"))
    );
    let exact_alone =
        config(json!({"elicitation": {"rules": [{"action": "decline", "exact": true}]}}));
    assert!(exact_alone.validate().is_err());
    let url_props = config(
        json!({"elicitation": {"rules": [{"mode": "url", "properties": ["a"], "action": "ask"}]}}),
    );
    assert!(url_props.validate().is_err());
    let no_time = config(json!({"elicitation": {"ask_timeout_secs": 0}}));
    assert!(no_time.validate().is_err());
    assert_eq!(
        config(json!({"elicitation": {"default": "accept-defaults"}}))
            .elicitation
            .default,
        RuleAction::AcceptDefaults
    );
}

#[test]
fn first_match_wins_over_server_glob_message_mode_and_properties() {
    let c = config(json!({"elicitation": {"rules": [
        {"server": "git?ub", "message": "*CONFIRM*", "action": "accept", "values": {"confirm": true}},
        {"server": "github", "action": "cancel"},
        {"message": "token", "action": "decline"},
        {"properties": ["name", "age"], "exact": true, "action": "fill"},
        {"properties": ["name"], "action": "ask"},
        {"mode": "url", "action": "ask"}
    ]}}));
    let rules = &c.elicitation.rules;
    let pick = |server: &str, message: &str, mode, props: &[&str]| {
        first_match(
            rules,
            &RuleInput {
                server,
                message,
                mode,
                properties: props,
            },
        )
        .map(|(i, _)| i + 1)
    };
    use ElicitMode::{Form, Url};
    assert_eq!(
        pick("github", "Please confirm the push", Form, &["confirm"]),
        Some(1)
    );
    assert_eq!(pick("gitxub", "CONFIRM?", Form, &[]), Some(1));
    assert_eq!(pick("gitlab", "please Confirm", Form, &[]), None);
    assert_eq!(pick("github", "something else", Form, &[]), Some(2));
    assert_eq!(
        pick("slack", "Paste your API Token here", Form, &[]),
        Some(3)
    );
    assert_eq!(
        pick("slack", "who are you?", Form, &["name", "age"]),
        Some(4)
    );
    assert_eq!(
        pick("slack", "who are you?", Form, &["name", "age", "email"]),
        Some(5)
    );
    assert_eq!(pick("slack", "who are you?", Form, &["email"]), None);
    assert_eq!(pick("slack", "sign in", Url, &[]), Some(6));
}
