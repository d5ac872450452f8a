//! Tool arguments: any `Serialize` value that is a JSON object (or nothing),
//! written straight into the request instead of through an intermediate
//! JSON string.
//!
//! Which JSON kind a value serializes to is found by [`json_kind`], a
//! serializer that stops at the top level: for a map or struct it visits
//! the entries without serializing them, so the check costs no allocation
//! and no copy.

use std::fmt;

use serde::ser::{self, Serialize, Serializer};

/// Tool arguments checked to be an object; `None` and `()` become `{}`.
pub(crate) enum ToolArguments<'a, A: ?Sized> {
    /// An object, serialized as it is.
    Object(&'a A),
    /// Nothing given: `{}`.
    Empty,
}

impl<'a, A: Serialize + ?Sized> ToolArguments<'a, A> {
    /// Checks that `arguments` serializes to an object (or to `null`).
    pub(crate) fn new(arguments: &'a A) -> crate::Result<Self> {
        match json_kind(arguments) {
            Kind::Object => Ok(ToolArguments::Object(arguments)),
            Kind::Null => Ok(ToolArguments::Empty),
            Kind::Other(kind) => Err(crate::Error::invalid_argument(format!(
                "arguments must be a JSON object, not {kind}"
            ))),
        }
    }
}

impl<A: Serialize + ?Sized> Serialize for ToolArguments<'_, A> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ToolArguments::Object(a) => a.serialize(s),
            ToolArguments::Empty => ser::SerializeMap::end(s.serialize_map(Some(0))?),
        }
    }
}

/// The JSON kind a value serializes to (as `serde_json` writes it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Object,
    Null,
    /// Anything else, named for messages ("a string").
    Other(&'static str),
}

pub(crate) fn json_kind<T: Serialize + ?Sized>(value: &T) -> Kind {
    // Only a failing `Serialize` impl (or a map key the probe never sees)
    // errors here; the real serialization reports that properly.
    value.serialize(KindProbe).unwrap_or(Kind::Object)
}

/// A serializer that answers at the top level and skips what is inside.
struct KindProbe;

/// The probe's only error: some `Serialize` impl failed.
#[derive(Debug)]
struct ProbeError;

impl fmt::Display for ProbeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("value failed to serialize")
    }
}

impl std::error::Error for ProbeError {}

impl ser::Error for ProbeError {
    fn custom<M: fmt::Display>(_: M) -> Self {
        ProbeError
    }
}

/// The entries of an object, skipped.
struct SkipEntries;

/// The elements of an array, skipped.
struct SkipElements;

macro_rules! skip_elements {
    ($($trait:ident::$method:ident),*) => {
        $(impl ser::$trait for SkipElements {
            type Ok = Kind;
            type Error = ProbeError;

            fn $method<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<(), ProbeError> {
                Ok(())
            }

            fn end(self) -> Probe {
                Ok(Kind::Other("an array"))
            }
        })*
    };
}

skip_elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field
);

type Probe = Result<Kind, ProbeError>;

macro_rules! scalar {
    ($($method:ident($ty:ty) => $kind:expr;)*) => {
        $(fn $method(self, _: $ty) -> Probe {
            Ok(Kind::Other($kind))
        })*
    };
}

impl Serializer for KindProbe {
    type Ok = Kind;
    type Error = ProbeError;
    type SerializeSeq = SkipElements;
    type SerializeTuple = SkipElements;
    type SerializeTupleStruct = SkipElements;
    type SerializeTupleVariant = SkipEntries;
    type SerializeMap = SkipEntries;
    type SerializeStruct = SkipEntries;
    type SerializeStructVariant = SkipEntries;

    scalar! {
        serialize_bool(bool) => "a boolean";
        serialize_i8(i8) => "a number";
        serialize_i16(i16) => "a number";
        serialize_i32(i32) => "a number";
        serialize_i64(i64) => "a number";
        serialize_i128(i128) => "a number";
        serialize_u8(u8) => "a number";
        serialize_u16(u16) => "a number";
        serialize_u32(u32) => "a number";
        serialize_u64(u64) => "a number";
        serialize_u128(u128) => "a number";
        serialize_f32(f32) => "a number";
        serialize_f64(f64) => "a number";
        serialize_char(char) => "a string";
        serialize_str(&str) => "a string";
        serialize_bytes(&[u8]) => "an array";
    }

    fn serialize_none(self) -> Probe {
        Ok(Kind::Null)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Probe {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Probe {
        Ok(Kind::Null)
    }

    fn serialize_unit_struct(self, _: &'static str) -> Probe {
        Ok(Kind::Null)
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Probe {
        Ok(Kind::Other("a string"))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Probe {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Probe {
        // `{"Variant": value}`
        Ok(Kind::Object)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, ProbeError> {
        Ok(SkipElements)
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, ProbeError> {
        Ok(SkipElements)
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, ProbeError> {
        Ok(SkipElements)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, ProbeError> {
        Ok(SkipEntries)
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, ProbeError> {
        Ok(SkipEntries)
    }

    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, ProbeError> {
        Ok(SkipEntries)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, ProbeError> {
        Ok(SkipEntries)
    }
}

impl ser::SerializeMap for SkipEntries {
    type Ok = Kind;
    type Error = ProbeError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<(), ProbeError> {
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<(), ProbeError> {
        Ok(())
    }

    fn end(self) -> Probe {
        Ok(Kind::Object)
    }
}

macro_rules! skip_fields {
    ($($trait:ident),*) => {
        $(impl ser::$trait for SkipEntries {
            type Ok = Kind;
            type Error = ProbeError;

            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                _: &'static str,
                _: &T,
            ) -> Result<(), ProbeError> {
                Ok(())
            }

            fn end(self) -> Probe {
                Ok(Kind::Object)
            }
        })*
    };
}

skip_fields!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeTupleVariant for SkipEntries {
    type Ok = Kind;
    type Error = ProbeError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<(), ProbeError> {
        Ok(())
    }

    fn end(self) -> Probe {
        // `{"Variant": [...]}`
        Ok(Kind::Object)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;
    use serde_json::json;

    use super::{json_kind, Kind, ToolArguments};

    #[derive(Serialize)]
    struct Point {
        x: i32,
    }

    #[derive(Serialize)]
    struct Wrapper(Point);

    #[derive(Serialize)]
    enum Shape {
        Unit,
        Circle(f64),
        Rect { w: u8 },
        Pair(u8, u8),
    }

    /// The probe agrees with what `serde_json` writes, for every kind.
    #[test]
    fn kinds_match_serde_json() {
        fn check<T: Serialize>(value: T) {
            let written = serde_json::to_value(&value).expect("serializes");
            let expected = match &written {
                serde_json::Value::Object(_) => Kind::Object,
                serde_json::Value::Null => Kind::Null,
                serde_json::Value::String(_) => Kind::Other("a string"),
                serde_json::Value::Number(_) => Kind::Other("a number"),
                serde_json::Value::Bool(_) => Kind::Other("a boolean"),
                serde_json::Value::Array(_) => Kind::Other("an array"),
            };
            assert_eq!(json_kind(&value), expected, "{written}");
        }
        check(json!({"a": 1}));
        check(json!({}));
        check(json!(null));
        check(json!("s"));
        check(json!(1.5));
        check(json!(true));
        check(json!([1]));
        check(());
        check(None::<Point>);
        check(Some(Point { x: 1 }));
        check(Point { x: 1 });
        check(Wrapper(Point { x: 2 }));
        check(BTreeMap::from([("k", 1)]));
        check(Shape::Unit);
        check(Shape::Circle(1.0));
        check(Shape::Rect { w: 1 });
        check(Shape::Pair(1, 2));
        check(vec![1, 2]);
        check((1, 2));
        check('c');
        check(7u64);
    }

    #[test]
    fn arguments_are_written_in_place_and_checked() {
        let written = |a: &ToolArguments<'_, serde_json::Value>| {
            serde_json::to_string(a).expect("serializes")
        };
        let given = json!({"text": "hi"});
        assert_eq!(
            written(&ToolArguments::new(&given).expect("object")),
            r#"{"text":"hi"}"#
        );
        assert_eq!(
            written(&ToolArguments::new(&json!(null)).expect("null")),
            "{}"
        );
        let err = ToolArguments::new(&json!([1, 2]))
            .err()
            .expect("not an object");
        assert_eq!(
            err.to_string(),
            crate::Error::invalid_argument("arguments must be a JSON object, not an array")
                .to_string()
        );
    }
}
