//! Elicitation: a server asks the user for input, through a form
//! (a flat JSON Schema) or by sending them to a URL.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Number, Value};

use super::common::{JsonObject, Meta, OrderedMap};

/// Params of `elicitation/create`, by mode. A request without `mode` is a
/// form request (the only kind before 2025-11-25).
#[derive(Debug, Clone, PartialEq)]
pub enum ElicitRequestParams {
    /// `mode: "form"` (or no mode): fill in a form.
    Form(ElicitRequestFormParams),
    /// `mode: "url"`: visit a URL out of band.
    Url(ElicitRequestUrlParams),
}

impl ElicitRequestParams {
    /// The message to show the user.
    pub fn message(&self) -> &str {
        match self {
            ElicitRequestParams::Form(f) => &f.message,
            ElicitRequestParams::Url(u) => &u.message,
        }
    }

    /// The request metadata.
    pub fn meta(&self) -> Option<&Meta> {
        match self {
            ElicitRequestParams::Form(f) => f.meta.as_ref(),
            ElicitRequestParams::Url(u) => u.meta.as_ref(),
        }
    }
}

/// Form-mode elicitation params.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitRequestFormParams {
    /// What the server asks, for the user.
    pub message: String,
    /// The form: a flat object schema of primitive fields.
    pub requested_schema: ElicitationSchema,
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this client does not know (e.g. a 2025-11-25 `task`).
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// URL-mode elicitation params.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitRequestUrlParams {
    /// Why the user should visit the URL.
    pub message: String,
    /// The URL (never fetched or opened without the user's consent).
    pub url: String,
    /// Correlation id for `notifications/elicitation/complete` (2025-11-25
    /// only; gone in 2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub elicitation_id: Option<String>,
    /// Request metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this client does not know.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

impl Serialize for ElicitRequestParams {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(tag = "mode", rename_all = "lowercase")]
        enum Tagged<'a> {
            Form(&'a ElicitRequestFormParams),
            Url(&'a ElicitRequestUrlParams),
        }
        match self {
            ElicitRequestParams::Form(f) => Tagged::Form(f).serialize(s),
            ElicitRequestParams::Url(u) => Tagged::Url(u).serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ElicitRequestParams {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // One pass over every field either mode has, so key order (which is
        // the form's field order) survives.
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Raw {
            #[serde(default)]
            mode: Option<String>,
            #[serde(default)]
            message: String,
            #[serde(default)]
            requested_schema: Option<ElicitationSchema>,
            #[serde(default)]
            url: Option<String>,
            #[serde(default)]
            elicitation_id: Option<String>,
            #[serde(rename = "_meta", default)]
            meta: Option<Meta>,
            #[serde(flatten)]
            extra: Map<String, Value>,
        }
        let mut raw = Raw::deserialize(d)?;
        match raw.mode.as_deref() {
            None | Some("form") => {
                let requested_schema = raw
                    .requested_schema
                    .ok_or_else(|| serde::de::Error::missing_field("requestedSchema"))?;
                if let Some(url) = raw.url {
                    raw.extra.insert("url".into(), Value::String(url));
                }
                if let Some(id) = raw.elicitation_id {
                    raw.extra.insert("elicitationId".into(), Value::String(id));
                }
                Ok(ElicitRequestParams::Form(ElicitRequestFormParams {
                    message: raw.message,
                    requested_schema,
                    meta: raw.meta,
                    extra: raw.extra,
                }))
            }
            Some("url") => {
                let url = raw
                    .url
                    .ok_or_else(|| serde::de::Error::missing_field("url"))?;
                if let Some(schema) = raw.requested_schema {
                    let v = serde_json::to_value(schema).map_err(serde::de::Error::custom)?;
                    raw.extra.insert("requestedSchema".into(), v);
                }
                Ok(ElicitRequestParams::Url(ElicitRequestUrlParams {
                    message: raw.message,
                    url,
                    elicitation_id: raw.elicitation_id,
                    meta: raw.meta,
                    extra: raw.extra,
                }))
            }
            Some(other) => Err(serde::de::Error::unknown_variant(other, &["form", "url"])),
        }
    }
}

/// The schema of an elicitation form: `{type: "object", properties, required}`.
/// Properties keep the order the server sent them in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitationSchema {
    /// The declared dialect, if any (`$schema`).
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Always `"object"`.
    #[serde(rename = "type", default = "object")]
    pub type_: String,
    /// The fields, in wire order.
    #[serde(default)]
    pub properties: OrderedMap<PrimitiveSchemaDefinition>,
    /// Names of the required fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<Vec<String>>,
    /// Fields this client does not know.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

fn object() -> String {
    "object".into()
}

impl Default for ElicitationSchema {
    fn default() -> Self {
        ElicitationSchema {
            schema: None,
            type_: object(),
            properties: OrderedMap::default(),
            required: None,
            extra: Map::new(),
        }
    }
}

impl ElicitationSchema {
    /// True when `name` is a required field.
    pub fn is_required(&self, name: &str) -> bool {
        self.required
            .as_ref()
            .is_some_and(|r| r.iter().any(|n| n == name))
    }
}

/// One field of an elicitation form. The spec's eight shapes (string,
/// number/integer, boolean, single-select with `enum` or `oneOf`,
/// multi-select with `items.enum` or `items.anyOf`, legacy `enumNames`) share
/// one struct; [`PrimitiveSchemaDefinition::kind`] tells them apart.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrimitiveSchemaDefinition {
    /// `string`, `number`, `integer`, `boolean` or `array`.
    #[serde(rename = "type", default)]
    pub type_: String,
    /// Field label.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Field help text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// String format: `email`, `uri`, `date` or `date-time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// Minimum string length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u64>,
    /// Maximum string length.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u64>,
    /// Minimum number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<Number>,
    /// Maximum number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<Number>,
    /// Allowed values of a single-select (untitled or legacy).
    #[serde(rename = "enum", default, skip_serializing_if = "Option::is_none")]
    pub enum_values: Option<Vec<String>>,
    /// Legacy labels for `enum`, index for index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enum_names: Option<Vec<String>>,
    /// Titled single-select options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub one_of: Option<Vec<EnumOption>>,
    /// Multi-select item schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub items: Option<MultiSelectItems>,
    /// Minimum number of selections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_items: Option<u64>,
    /// Maximum number of selections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_items: Option<u64>,
    /// Default value (string, number, boolean or array of strings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// Fields this client does not know.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// The shape of a form field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// Free text (maybe with a `format`).
    String,
    /// A number.
    Number,
    /// An integer.
    Integer,
    /// A yes/no.
    Boolean,
    /// Pick one of [`PrimitiveSchemaDefinition::options`].
    SingleSelect,
    /// Pick several of [`PrimitiveSchemaDefinition::options`].
    MultiSelect,
    /// A type this client does not know.
    Unknown,
}

impl PrimitiveSchemaDefinition {
    /// The field's shape.
    pub fn kind(&self) -> FieldKind {
        match self.type_.as_str() {
            "string" if self.enum_values.is_some() || self.one_of.is_some() => {
                FieldKind::SingleSelect
            }
            "string" => FieldKind::String,
            "number" => FieldKind::Number,
            "integer" => FieldKind::Integer,
            "boolean" => FieldKind::Boolean,
            "array" => FieldKind::MultiSelect,
            _ => FieldKind::Unknown,
        }
    }

    /// The options of a select field as `(value, label)`, labels falling back
    /// to the value. Empty for other kinds.
    pub fn options(&self) -> Vec<(String, String)> {
        fn titled(opts: &[EnumOption]) -> Vec<(String, String)> {
            opts.iter()
                .map(|o| {
                    let label = o.title.clone().unwrap_or_else(|| o.value.clone());
                    (o.value.clone(), label)
                })
                .collect()
        }
        fn plain(values: &[String], names: Option<&Vec<String>>) -> Vec<(String, String)> {
            values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let label = names.and_then(|n| n.get(i)).unwrap_or(v);
                    (v.clone(), label.clone())
                })
                .collect()
        }
        match self.kind() {
            FieldKind::SingleSelect => match (&self.one_of, &self.enum_values) {
                (Some(o), _) => titled(o),
                (None, Some(v)) => plain(v, self.enum_names.as_ref()),
                (None, None) => Vec::new(),
            },
            FieldKind::MultiSelect => match &self.items {
                Some(MultiSelectItems {
                    any_of: Some(o), ..
                }) => titled(o),
                Some(MultiSelectItems {
                    enum_values: Some(v),
                    ..
                }) => plain(v, None),
                _ => Vec::new(),
            },
            _ => Vec::new(),
        }
    }
}

/// A titled option: `{const, title}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EnumOption {
    /// The value sent back.
    #[serde(rename = "const")]
    pub value: String,
    /// The label shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Fields this client does not know.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// The `items` of a multi-select field.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MultiSelectItems {
    /// `"string"` for untitled options.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Untitled options.
    #[serde(rename = "enum", default, skip_serializing_if = "Option::is_none")]
    pub enum_values: Option<Vec<String>>,
    /// Titled options.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any_of: Option<Vec<EnumOption>>,
    /// Fields this client does not know.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// What the user did with an elicitation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ElicitAction {
    /// Submitted (form) or consented to open the URL (url).
    Accept,
    /// Explicitly said no.
    Decline,
    /// Dismissed without choosing.
    Cancel,
}

/// The client's answer to `elicitation/create` (no `resultType`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitResult {
    /// What the user did.
    pub action: ElicitAction,
    /// The submitted values (form mode, accept only): strings, numbers,
    /// booleans or arrays of strings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<JsonObject>,
    /// Metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this client does not know.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

impl ElicitResult {
    fn with(action: ElicitAction, content: Option<JsonObject>) -> Self {
        ElicitResult {
            action,
            content,
            meta: None,
            extra: Map::new(),
        }
    }

    /// Accepted with form values.
    pub fn accept(content: JsonObject) -> Self {
        Self::with(ElicitAction::Accept, Some(content))
    }

    /// Accepted without content (URL mode: consent to open).
    pub fn accept_url() -> Self {
        Self::with(ElicitAction::Accept, None)
    }

    /// Explicitly declined.
    pub fn decline() -> Self {
        Self::with(ElicitAction::Decline, None)
    }

    /// Dismissed.
    pub fn cancel() -> Self {
        Self::with(ElicitAction::Cancel, None)
    }
}

/// Params of `notifications/elicitation/complete` (2025-11-25 only).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElicitationCompleteNotificationParams {
    /// The id from the URL-mode request.
    pub elicitation_id: String,
    /// Notification metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this client does not know.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}
