//! Object keys read without allocating when the input has no escapes
//! (serde's `Cow<str>` always allocates).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};

/// A key or short string, borrowed when the input allows, owned when it
/// had escapes.
pub(crate) enum KeyBuf<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl KeyBuf<'_> {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            KeyBuf::Borrowed(s) => s,
            KeyBuf::Owned(s) => s,
        }
    }
}

impl KeyBuf<'_> {
    /// The key as an owned string.
    pub(crate) fn into_owned(self) -> String {
        match self {
            KeyBuf::Borrowed(s) => s.to_owned(),
            KeyBuf::Owned(s) => s,
        }
    }
}

impl<'de> Deserialize<'de> for KeyBuf<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyBuf<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<KeyBuf<'de>, E> {
                Ok(KeyBuf::Borrowed(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyBuf<'de>, E> {
                Ok(KeyBuf::Owned(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<KeyBuf<'de>, E> {
                Ok(KeyBuf::Owned(v))
            }
        }
        d.deserialize_str(V)
    }
}
