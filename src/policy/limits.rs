//! The limits of a form: what the spec allows a `requestedSchema` to be (a
//! flat object of primitive fields), checked before anything is shown,
//! filled or validated. A schema outside them is refused with a typed list
//! of [`Violation`]s, which become one `-32602` error for the server.

use serde_json::{Map, Value};
use std::collections::HashSet;

use super::violation::{LimitRule, Violation};
use crate::protocol::{ElicitationSchema, FieldKind, PrimitiveSchemaDefinition};

/// Caps on the size of a form. The spec restricts shapes but not sizes; a
/// form is for a human, so these caps are generous for a person and small
/// for a machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaLimits {
    /// Most properties a form may have (default 64: more than any form a
    /// person fills in, and few enough that rules, defaults and validation
    /// stay cheap).
    pub max_properties: usize,
    /// Most options a select field may offer (default 256).
    pub max_options: usize,
}

impl Default for SchemaLimits {
    fn default() -> Self {
        SchemaLimits {
            max_properties: 64,
            max_options: 256,
        }
    }
}

/// Schema dialects the validator understands (`$schema`); a form without
/// `$schema` is 2020-12.
const DIALECTS: [&str; 5] = [
    "https://json-schema.org/draft/2020-12/schema",
    "https://json-schema.org/draft/2019-09/schema",
    "http://json-schema.org/draft-07/schema",
    "http://json-schema.org/draft-06/schema",
    "http://json-schema.org/draft-04/schema",
];

/// Keywords that would make a field (or the form) something other than a
/// flat list of primitives: references, sub-schemas and composition; and
/// `pattern`, which is no part of the form vocabulary and would run a
/// server's regular expression on the user's input.
const STRUCTURAL: &[&str] = &[
    "$ref",
    "$dynamicRef",
    "$defs",
    "definitions",
    "properties",
    "patternProperties",
    "additionalProperties",
    "allOf",
    "anyOf",
    "oneOf",
    "items",
    "contains",
    "not",
    "if",
    "then",
    "else",
    "dependentSchemas",
    "prefixItems",
    "pattern",
];

/// Checks a form against the spec's restrictions and `limits`. `Ok` means
/// every field is one of the spec's primitive shapes and every default
/// fits its field.
pub fn check_schema(
    schema: &ElicitationSchema,
    limits: &SchemaLimits,
) -> Result<(), Vec<Violation>> {
    let mut out = Vec::new();
    let mut form = |rule| {
        out.push(Violation {
            property: None,
            rule,
        })
    };
    if schema.type_ != "object" {
        form(LimitRule::NotAnObject(schema.type_.clone()));
    }
    if let Some(dialect) = &schema.schema {
        let bare = dialect.trim_end_matches('#');
        if !DIALECTS.contains(&bare) {
            form(LimitRule::UnsupportedDialect(dialect.clone()));
        }
    }
    for rule in structural(&schema.extra) {
        form(rule);
    }
    let count = schema.properties.0.len();
    if count > limits.max_properties {
        form(LimitRule::TooManyProperties {
            count,
            max: limits.max_properties,
        });
        // Checking each of thousands of fields would only make a longer
        // error; the count says enough.
        return Err(out);
    }
    let mut seen = HashSet::new();
    for (name, field) in &schema.properties.0 {
        let mut rules = Vec::new();
        if !seen.insert(name.as_str()) {
            rules.push(LimitRule::DuplicateProperty);
        }
        check_field(field, limits, &mut rules);
        out.extend(rules.into_iter().map(|rule| Violation {
            property: Some(name.clone()),
            rule,
        }));
    }
    for name in schema.required.iter().flatten() {
        if !seen.contains(name.as_str()) {
            out.push(Violation {
                property: Some(name.clone()),
                rule: LimitRule::RequiredNotDeclared,
            });
        }
    }
    if out.is_empty() {
        Ok(())
    } else {
        Err(out)
    }
}

/// Reference and sub-schema keywords among unknown fields.
fn structural(extra: &Map<String, Value>) -> Vec<LimitRule> {
    let mut out = Vec::new();
    for key in extra.keys() {
        if key == "$ref" || key == "$dynamicRef" {
            out.push(LimitRule::Reference(key.clone()));
        } else if let Some(k) = STRUCTURAL.iter().find(|k| **k == key) {
            out.push(LimitRule::UnsupportedKeyword((*k).to_owned()));
        }
    }
    out
}

fn check_field(field: &PrimitiveSchemaDefinition, limits: &SchemaLimits, out: &mut Vec<LimitRule>) {
    match field.type_.as_str() {
        "" => return out.push(LimitRule::MissingType),
        "object" => return out.push(LimitRule::NestedObject),
        _ => {}
    }
    out.extend(structural(&field.extra));
    let kind = field.kind();
    let is_string = matches!(kind, FieldKind::String | FieldKind::SingleSelect);
    let is_number = matches!(kind, FieldKind::Number | FieldKind::Integer);
    let misplaced = [
        (
            "format",
            field.format.is_some() && kind != FieldKind::String,
        ),
        ("minLength", field.min_length.is_some() && !is_string),
        ("maxLength", field.max_length.is_some() && !is_string),
        ("minimum", field.minimum.is_some() && !is_number),
        ("maximum", field.maximum.is_some() && !is_number),
        ("enum", field.enum_values.is_some() && !is_string),
        ("oneOf", field.one_of.is_some() && !is_string),
        (
            "items",
            field.items.is_some() && kind != FieldKind::MultiSelect,
        ),
        (
            "minItems",
            field.min_items.is_some() && kind != FieldKind::MultiSelect,
        ),
        (
            "maxItems",
            field.max_items.is_some() && kind != FieldKind::MultiSelect,
        ),
    ];
    out.extend(
        misplaced
            .into_iter()
            .filter(|(_, bad)| *bad)
            .map(|(k, _)| LimitRule::MisplacedKeyword(k)),
    );
    match kind {
        FieldKind::Unknown => out.push(LimitRule::UnknownType(field.type_.clone())),
        FieldKind::String => {
            if let Some(f) = &field.format {
                if !matches!(f.as_str(), "email" | "uri" | "date" | "date-time") {
                    out.push(LimitRule::UnknownFormat(f.clone()));
                }
            }
            bounds(
                field.min_length,
                field.max_length,
                "minLength",
                "maxLength",
                out,
            );
        }
        FieldKind::Number | FieldKind::Integer => {
            let low = field.minimum.as_ref().and_then(|n| n.as_f64());
            let high = field.maximum.as_ref().and_then(|n| n.as_f64());
            if let (Some(l), Some(h)) = (low, high) {
                if l > h {
                    out.push(LimitRule::BoundsInverted {
                        low: "minimum",
                        high: "maximum",
                    });
                }
            }
        }
        FieldKind::Boolean => {}
        FieldKind::SingleSelect => {
            options(field, limits, out);
            if let (Some(values), Some(names)) = (&field.enum_values, &field.enum_names) {
                if values.len() != names.len() {
                    out.push(LimitRule::EnumNamesMismatch {
                        values: values.len(),
                        names: names.len(),
                    });
                }
            }
        }
        FieldKind::MultiSelect => {
            match &field.items {
                Some(items) if items.enum_values.is_some() || items.any_of.is_some() => {
                    if let Some(t) = items.type_.as_deref().filter(|t| *t != "string") {
                        out.push(LimitRule::ItemsNotStrings(t.to_owned()));
                    }
                    out.extend(structural(&items.extra));
                    options(field, limits, out);
                }
                _ => out.push(LimitRule::ArrayWithoutEnum),
            }
            bounds(
                field.min_items,
                field.max_items,
                "minItems",
                "maxItems",
                out,
            );
        }
    }
    if let Some(d) = &field.default {
        if !default_fits(field, d) {
            out.push(LimitRule::BadDefault(d.to_string()));
        }
    }
}

fn bounds(
    low: Option<u64>,
    high: Option<u64>,
    low_name: &'static str,
    high_name: &'static str,
    out: &mut Vec<LimitRule>,
) {
    if let (Some(l), Some(h)) = (low, high) {
        if l > h {
            out.push(LimitRule::BoundsInverted {
                low: low_name,
                high: high_name,
            });
        }
    }
}

fn options(field: &PrimitiveSchemaDefinition, limits: &SchemaLimits, out: &mut Vec<LimitRule>) {
    let count = field.options().len();
    if count == 0 {
        out.push(LimitRule::NoOptions);
    } else if count > limits.max_options {
        out.push(LimitRule::TooManyOptions {
            count,
            max: limits.max_options,
        });
    }
}

/// Whether a `default` has the field's type (and, for selects, is one of
/// its options). Bounds are left to validation of the final content.
fn default_fits(field: &PrimitiveSchemaDefinition, d: &Value) -> bool {
    let is_option = |s: &str| field.options().iter().any(|(v, _)| v == s);
    match field.kind() {
        FieldKind::String => d.is_string(),
        FieldKind::Number => d.is_number(),
        FieldKind::Integer => is_integer(d),
        FieldKind::Boolean => d.is_boolean(),
        FieldKind::SingleSelect => d.as_str().is_some_and(is_option),
        FieldKind::MultiSelect => d
            .as_array()
            .is_some_and(|a| a.iter().all(|v| v.as_str().is_some_and(is_option))),
        FieldKind::Unknown => false,
    }
}

/// An integer, including `3.0` (JSON Schema counts it as one).
pub(crate) fn is_integer(v: &Value) -> bool {
    match v {
        Value::Number(n) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        _ => false,
    }
}
