use serde_json::json;

use super::schema;
use crate::policy::{check_schema, violations_error, LimitRule, SchemaLimits, Violation};
use crate::protocol::codes;

fn violations(v: serde_json::Value) -> Vec<Violation> {
    check_schema(&schema(v), &SchemaLimits::default()).expect_err("outside the limits")
}

fn only(v: serde_json::Value) -> (Option<String>, LimitRule) {
    let mut found = violations(v);
    assert_eq!(found.len(), 1, "{found:?}");
    let v = found.remove(0);
    (v.property, v.rule)
}

#[test]
fn every_shape_the_spec_allows_passes() {
    let s = schema(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "name": {"type": "string", "title": "Name", "minLength": 1, "maxLength": 50, "default": "Ada"},
            "email": {"type": "string", "format": "email"},
            "site": {"type": "string", "format": "uri"},
            "born": {"type": "string", "format": "date"},
            "at": {"type": "string", "format": "date-time"},
            "age": {"type": "integer", "minimum": 0, "maximum": 150, "default": 36},
            "score": {"type": "number", "minimum": 0.5, "default": 1.5},
            "ok": {"type": "boolean", "default": false},
            "color": {"type": "string", "enum": ["red", "green"], "enumNames": ["Red", "Green"], "default": "red"},
            "size": {"type": "string", "oneOf": [{"const": "s", "title": "Small"}, {"const": "l", "title": "Large"}]},
            "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "minItems": 1, "maxItems": 2, "default": ["a"]},
            "pets": {"type": "array", "items": {"anyOf": [{"const": "cat", "title": "Cat"}]}}
        },
        "required": ["name", "age"]
    }));
    assert_eq!(check_schema(&s, &SchemaLimits::default()), Ok(()));
}

#[test]
fn nested_objects_unknown_types_and_missing_types_are_named() {
    assert_eq!(
        only(
            json!({"type": "object", "properties": {"addr": {"type": "object", "properties": {"x": {"type": "string"}}}}})
        ),
        (Some("addr".into()), LimitRule::NestedObject)
    );
    assert_eq!(
        only(json!({"type": "object", "properties": {"f": {"type": "file"}}})),
        (Some("f".into()), LimitRule::UnknownType("file".into()))
    );
    assert_eq!(
        only(json!({"type": "object", "properties": {"n": {"title": "untyped"}}})),
        (Some("n".into()), LimitRule::MissingType)
    );
}

#[test]
fn references_and_composition_are_refused() {
    assert_eq!(
        only(
            json!({"type": "object", "properties": {"r": {"type": "string", "$ref": "#/$defs/x"}}})
        ),
        (Some("r".into()), LimitRule::Reference("$ref".into()))
    );
    let found = violations(json!({
        "type": "object",
        "$defs": {"x": {"type": "string"}},
        "properties": {"a": {"type": "string", "allOf": [{"minLength": 1}]}}
    }));
    assert!(
        found.contains(&Violation {
            property: None,
            rule: LimitRule::UnsupportedKeyword("$defs".into())
        }),
        "{found:?}"
    );
    assert!(
        found.contains(&Violation {
            property: Some("a".into()),
            rule: LimitRule::UnsupportedKeyword("allOf".into())
        }),
        "{found:?}"
    );
}

#[test]
fn arrays_must_be_multi_selects() {
    assert_eq!(
        only(
            json!({"type": "object", "properties": {"xs": {"type": "array", "items": {"type": "string"}}}})
        ),
        (Some("xs".into()), LimitRule::ArrayWithoutEnum)
    );
    assert_eq!(
        only(json!({"type": "object", "properties": {"xs": {"type": "array"}}})),
        (Some("xs".into()), LimitRule::ArrayWithoutEnum)
    );
    assert_eq!(
        only(
            json!({"type": "object", "properties": {"xs": {"type": "array", "items": {"type": "integer", "enum": ["1"]}}}})
        ),
        (
            Some("xs".into()),
            LimitRule::ItemsNotStrings("integer".into())
        )
    );
}

#[test]
fn too_many_properties_is_one_violation_with_the_cap() {
    let props: serde_json::Map<String, serde_json::Value> = (0..65)
        .map(|i| (format!("f{i}"), json!({"type": "string"})))
        .collect();
    let found = violations(json!({"type": "object", "properties": props}));
    assert_eq!(
        found,
        vec![Violation {
            property: None,
            rule: LimitRule::TooManyProperties { count: 65, max: 64 }
        }]
    );
    let tight = SchemaLimits {
        max_properties: 1,
        ..SchemaLimits::default()
    };
    let two = schema(
        json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}}),
    );
    assert!(check_schema(&two, &tight).is_err());
}

#[test]
fn formats_bounds_defaults_and_required_are_checked() {
    assert_eq!(
        only(json!({"type": "object", "properties": {"p": {"type": "string", "format": "ipv4"}}})),
        (Some("p".into()), LimitRule::UnknownFormat("ipv4".into()))
    );
    assert_eq!(
        only(
            json!({"type": "object", "properties": {"p": {"type": "string", "minLength": 5, "maxLength": 2}}})
        ),
        (
            Some("p".into()),
            LimitRule::BoundsInverted {
                low: "minLength",
                high: "maxLength"
            }
        )
    );
    assert_eq!(
        only(
            json!({"type": "object", "properties": {"n": {"type": "number", "minimum": 3, "maximum": 1}}})
        ),
        (
            Some("n".into()),
            LimitRule::BoundsInverted {
                low: "minimum",
                high: "maximum"
            }
        )
    );
    assert_eq!(
        only(
            json!({"type": "object", "properties": {"c": {"type": "string", "enum": ["a"], "default": "z"}}})
        ),
        (Some("c".into()), LimitRule::BadDefault("\"z\"".into()))
    );
    assert_eq!(
        only(json!({"type": "object", "properties": {"i": {"type": "integer", "default": 1.5}}})),
        (Some("i".into()), LimitRule::BadDefault("1.5".into()))
    );
    assert_eq!(
        only(json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["b"]})),
        (Some("b".into()), LimitRule::RequiredNotDeclared)
    );
    assert_eq!(
        only(
            json!({"type": "object", "properties": {"c": {"type": "string", "enum": ["a", "b"], "enumNames": ["A"]}}})
        ),
        (
            Some("c".into()),
            LimitRule::EnumNamesMismatch {
                values: 2,
                names: 1
            }
        )
    );
    assert_eq!(
        only(json!({"type": "object", "properties": {"b": {"type": "boolean", "minimum": 1}}})),
        (Some("b".into()), LimitRule::MisplacedKeyword("minimum"))
    );
    assert_eq!(
        only(
            json!({"type": "object", "$schema": "https://example.com/my-dialect", "properties": {}})
        ),
        (
            None,
            LimitRule::UnsupportedDialect("https://example.com/my-dialect".into())
        )
    );
}

#[test]
fn the_error_for_the_server_is_invalid_params_naming_property_and_rule() {
    let found = violations(json!({"type": "object", "properties": {"addr": {"type": "object"}}}));
    let e = violations_error(&found);
    assert_eq!(e.code, codes::INVALID_PARAMS);
    assert!(e.message.contains("\"addr\""), "{}", e.message);
    assert!(e.message.contains("nested objects"), "{}", e.message);
}
