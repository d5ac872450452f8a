//! What kind of result a server sent (`resultType`, 2026-07-28), telling
//! complete, input-required and unknown results apart from the raw bytes
//! without decoding the payload, and traits shared by list and cacheable
//! results.

use std::borrow::Cow;

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{string_enum, Meta};
use super::input_required::InputRequiredResult;
use super::lifecycle::CacheScope;

string_enum! {
    /// The `resultType` of a result. Absent (every handshake-era server)
    /// means [`ResultType::Complete`]; extensions add values such as `"task"`.
    #[derive(Default)]
    pub enum ResultType {
        /// A normal, final result.
        #[default]
        Complete = "complete",
        /// The server needs input first (an [`InputRequiredResult`]).
        InputRequired = "input_required",
    }
}

impl ResultType {
    /// Reads `resultType` from the raw bytes of a `result`, skipping every
    /// other field without building it. Absent or `null` means `Complete`.
    /// Fails only when the bytes are not a JSON object or `resultType` is
    /// not a string.
    pub fn sniff(raw: &[u8]) -> Result<ResultType, serde_json::Error> {
        #[derive(Deserialize)]
        struct Peek<'a> {
            #[serde(rename = "resultType", borrow, default)]
            result_type: Option<Cow<'a, str>>,
            #[serde(rename = "_meta", default)]
            _meta: Option<IgnoredAny>,
        }
        let peek: Peek<'_> = serde_json::from_slice(raw)?;
        Ok(peek
            .result_type
            .map(|s| ResultType::from_wire(&s))
            .unwrap_or_default())
    }

    /// True for `complete` (the default).
    pub fn is_complete(&self) -> bool {
        matches!(self, ResultType::Complete)
    }
}

/// A decoded result, by kind. Decode with [`ResultEnvelope::decode`].
#[derive(Debug, Clone, PartialEq)]
pub enum ResultEnvelope<T> {
    /// `resultType` is `complete` or absent: the expected result.
    Complete(T),
    /// `resultType` is `input_required`: fulfil and retry.
    InputRequired(InputRequiredResult),
    /// A `resultType` this client does not know (e.g. an extension's `task`
    /// that was not negotiated). The spec says to treat it as invalid; the
    /// raw result is kept for diagnostics and for extensions.
    Other {
        /// The unknown `resultType`.
        result_type: String,
        /// The whole result.
        raw: Value,
    },
}

impl<T: DeserializeOwned> ResultEnvelope<T> {
    /// Sniffs `resultType` and decodes the bytes into the matching type.
    pub fn decode(raw: &[u8]) -> Result<Self, serde_json::Error> {
        match ResultType::sniff(raw)? {
            ResultType::Complete => serde_json::from_slice(raw).map(ResultEnvelope::Complete),
            ResultType::InputRequired => {
                serde_json::from_slice(raw).map(ResultEnvelope::InputRequired)
            }
            ResultType::Other(result_type) => Ok(ResultEnvelope::Other {
                result_type,
                raw: serde_json::from_slice(raw)?,
            }),
        }
    }
}

/// A result with no fields of its own (`ping`, `logging/setLevel`,
/// `resources/subscribe`, ...). Anything it carries is kept.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmptyResult {
    /// `resultType` (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this client does not know.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// A page of a paginated list (`tools/list`, `prompts/list`, ...).
pub trait Page {
    /// The listed item.
    type Item;
    /// The cursor of the next page; `None` ends the list (an empty string
    /// does not).
    fn next_cursor(&self) -> Option<&str>;
    /// The items of this page.
    fn items(&self) -> &[Self::Item];
    /// Takes the items of this page.
    fn into_items(self) -> Vec<Self::Item>;
}

/// A result that carries caching hints (2026-07-28).
pub trait Cacheable {
    /// Freshness lifetime in milliseconds; absent (older servers), zero or
    /// negative mean stale at once.
    fn ttl_ms(&self) -> Option<i64>;
    /// Whether the cache may be shared across authorization contexts.
    fn cache_scope(&self) -> Option<&CacheScope>;
}

/// Implements [`Page`] and [`Cacheable`] for a list result.
macro_rules! list_result {
    ($ty:ty, $field:ident, $item:ty) => {
        impl $crate::protocol::result::Page for $ty {
            type Item = $item;
            fn next_cursor(&self) -> Option<&str> {
                self.next_cursor.as_deref()
            }
            fn items(&self) -> &[$item] {
                &self.$field
            }
            fn into_items(self) -> Vec<$item> {
                self.$field
            }
        }
        $crate::protocol::result::cacheable!($ty);
    };
}
pub(crate) use list_result;

/// Implements [`Cacheable`] for a result with `ttl_ms` and `cache_scope`.
macro_rules! cacheable {
    ($ty:ty) => {
        impl $crate::protocol::result::Cacheable for $ty {
            fn ttl_ms(&self) -> Option<i64> {
                self.ttl_ms
            }
            fn cache_scope(&self) -> Option<&$crate::protocol::lifecycle::CacheScope> {
                self.cache_scope.as_ref()
            }
        }
    };
}
pub(crate) use cacheable;
