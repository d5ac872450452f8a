use serde_json::json;

use super::schema;
use crate::policy::{compose, missing_required, prefill, validate_content};
use crate::protocol::JsonObject;

fn obj(v: serde_json::Value) -> JsonObject {
    v.as_object().cloned().expect("an object")
}

fn form() -> crate::protocol::ElicitationSchema {
    schema(json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "default": "Ada", "maxLength": 10},
            "age": {"type": "integer", "minimum": 0, "default": 36},
            "email": {"type": "string", "format": "email"},
            "ok": {"type": "boolean", "default": true},
            "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "default": ["a"]}
        },
        "required": ["name", "email"]
    }))
}

#[test]
fn prefill_takes_every_default_of_every_type() {
    assert_eq!(
        prefill(&form()),
        obj(json!({"name": "Ada", "age": 36, "ok": true, "tags": ["a"]}))
    );
}

#[test]
fn values_override_defaults_and_undeclared_names_are_dropped() {
    let s = form();
    let content = compose(
        &s,
        &prefill(&s),
        &obj(json!({"name": "Grace", "email": "g@x.org", "unasked": 1})),
    );
    assert_eq!(content["name"], json!("Grace"));
    assert_eq!(content["age"], json!(36));
    assert_eq!(content["email"], json!("g@x.org"));
    assert!(!content.contains_key("unasked"));
    assert_eq!(missing_required(&s, &content), Vec::<String>::new());
    assert_eq!(validate_content(&s, &content), Ok(()));
}

#[test]
fn missing_required_fields_are_listed() {
    let s = form();
    assert_eq!(missing_required(&s, &prefill(&s)), vec!["email".to_owned()]);
}

#[test]
fn validation_names_each_field_that_does_not_fit() {
    let s = form();
    let bad = obj(
        json!({"name": "a name far too long", "age": -1, "email": "not-an-email", "tags": ["z"]}),
    );
    let problems = validate_content(&s, &bad).expect_err("invalid");
    let mut fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    fields.sort();
    assert_eq!(fields, ["age", "email", "name", "tags"], "{problems:?}");
    let wrong_type = obj(json!({"name": "x", "email": "a@b.co", "ok": "yes"}));
    let problems = validate_content(&s, &wrong_type).expect_err("invalid");
    assert_eq!(problems[0].field, "ok");
}
