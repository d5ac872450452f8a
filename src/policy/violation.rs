//! What a form outside the limits broke, typed, and the one error the
//! server gets for it.

use std::fmt;

use crate::session::HandlerError;

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
    /// More properties than [`super::SchemaLimits::max_properties`].
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
    /// More options than [`super::SchemaLimits::max_options`].
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
