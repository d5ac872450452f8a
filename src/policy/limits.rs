//! The limits of a form: what the spec allows a `requestedSchema` to be (a
//! flat object of primitive fields), checked before anything is shown,
//! filled or validated. A schema outside them is refused with a typed list
//! of [`Violation`]s, which become one `-32602` error for the server.

use std::collections::HashSet;
use std::fmt;

use serde_json::{Map, Value};

use crate::protocol::{ElicitationSchema, FieldKind, PrimitiveSchemaDefinition};
use crate::session::HandlerError;

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

/// Which rule a schema broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LimitRule {
    /// The form's own `type` is not `object`.
    #[error("the form must be {{\"type\": \"object\"}}, not {0:?}")]
    NotAnObject(String),
    /// The `$schema` dialect is not one the validator knows.
    #[error("unsupported schema dialect {0:?}")]
    UnsupportedDialect(String),
    /// More properties than [`SchemaLimits::max_properties`].
    #[error("{count} properties, more than the {max} allowed")]
    TooManyProperties {
        /// Properties in the form.
        count: usize,
        /// The cap.
        max: usize,
    },
    /// The same property name twice.
    #[error("declared twice")]
    DuplicateProperty,
    /// A property without `type`.
    #[error("no \"type\"")]
    MissingType,
    /// A `type` outside string, number, integer, boolean and array.
    #[error("type {0:?} is not a primitive (string, number, integer, boolean, array)")]
    UnknownType(String),
    /// A property that is itself an object.
    #[error("nested objects are not allowed")]
    NestedObject,
    /// `$ref` (or `$dynamicRef`): forms must be self-contained.
    #[error("\"{0}\" references are not allowed")]
    Reference(String),
    /// A sub-schema or composition keyword (`allOf`, `properties`, ...).
    #[error("keyword \"{0}\" is not allowed in a form")]
    UnsupportedKeyword(String),
    /// A string `format` other than email, uri, date and date-time.
    #[error("format {0:?} is not one of email, uri, date, date-time")]
    UnknownFormat(String),
    /// An array whose items are not an `enum` or `anyOf` of options.
    #[error(
        "an array must be a multi-select: items with \"enum\" or \"anyOf\" of {{const, title}}"
    )]
    ArrayWithoutEnum,
    /// Multi-select items of a type other than string.
    #[error("multi-select items must be strings, not {0:?}")]
    ItemsNotStrings(String),
    /// A select field with no options.
    #[error("a select field needs at least one option")]
    NoOptions,
    /// More options than [`SchemaLimits::max_options`].
    #[error("{count} options, more than the {max} allowed")]
    TooManyOptions {
        /// Options offered.
        count: usize,
        /// The cap.
        max: usize,
    },
    /// `enumNames` not matching `enum` one for one.
    #[error("{names} enumNames for {values} enum values")]
    EnumNamesMismatch {
        /// Length of `enum`.
        values: usize,
        /// Length of `enumNames`.
        names: usize,
    },
    /// A lower bound above its upper bound.
    #[error("{low} is above {high}")]
    BoundsInverted {
        /// The lower bound's keyword.
        low: &'static str,
        /// The upper bound's keyword.
        high: &'static str,
    },
    /// A keyword that does not belong to this field's type.
    #[error("\"{0}\" does not apply to this field's type")]
    MisplacedKeyword(&'static str),
    /// A `default` of the wrong type, or outside the options.
    #[error("default {0} does not fit the field")]
    BadDefault(String),
    /// A required name that no property declares.
    #[error("required but not declared in properties")]
    RequiredNotDeclared,
}

/// One way a form breaks the limits: the property (none for the form
/// itself) and the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The property at fault, or `None` for the whole form.
    pub property: Option<String>,
    /// What it broke.
    pub rule: LimitRule,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.property {
            Some(p) => write!(f, "property {p:?}: {}", self.rule),
            None => write!(f, "{}", self.rule),
        }
    }
}

/// The error the server gets for a form outside the limits: `-32602`,
/// naming every property and rule.
pub fn violations_error(violations: &[Violation]) -> HandlerError {
    let list: Vec<String> = violations.iter().map(|v| v.to_string()).collect();
    HandlerError::invalid_params(format!(
        "elicitation/create: requestedSchema is outside what this client accepts: {}",
        list.join("; ")
    ))
}

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
