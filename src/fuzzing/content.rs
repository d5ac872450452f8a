//! Target `content`: tool results and content blocks, decoded by the
//! hand-written visitors (no buffering, tag read first) straight from the
//! bytes and from a `Value` tree (where keys come sorted, so the tag is
//! mostly read late), and encoded back.

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeOwned, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Serialize;
use serde_json::Value;

use crate::protocol::{CallToolResult, ContentBlock, ResultEnvelope};

/// Decodes `data` as a `tools/call` result, a content block and a list of
/// blocks. Panics when a decode from the bytes and one from the `Value`
/// tree disagree (inputs with a repeated key excepted: which one wins is
/// the reader's choice), when UTF-8 that is not JSON decodes, or when an
/// encoded result does not decode back to itself.
pub fn content(data: &[u8]) {
    let _ = ResultEnvelope::<CallToolResult>::decode(data);
    let Ok(tree) = serde_json::from_slice::<Value>(data) else {
        // serde_json skips an ignored value without checking its UTF-8;
        // a frame's `result` is checked whole before it is decoded.
        assert!(
            std::str::from_utf8(data).is_err()
                || serde_json::from_slice::<CallToolResult>(data).is_err(),
            "a result decoded from bytes that are not JSON"
        );
        return;
    };
    let unique = !has_repeated_key(data);
    same_both_ways::<CallToolResult>(data, &tree, unique);
    same_both_ways::<ContentBlock>(data, &tree, unique);
    same_both_ways::<Vec<ContentBlock>>(data, &tree, unique);
    if let Ok(result) = serde_json::from_slice::<CallToolResult>(data) {
        for block in &result.content {
            let _ = (block.kind(), block.as_text(), block.annotations());
            if let ContentBlock::Resource(embedded) = block {
                let _ = embedded.resource.blob_bytes();
            }
        }
    }
}

/// Decodes `T` from the bytes and from the tree: the same outcome (when
/// every key is unique), and a value that encodes and decodes to itself.
fn same_both_ways<T>(data: &[u8], tree: &Value, unique: bool)
where
    T: DeserializeOwned + Serialize + PartialEq + fmt::Debug,
{
    let direct = serde_json::from_slice::<T>(data);
    if unique {
        let via_tree = T::deserialize(tree);
        match (&direct, &via_tree) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "bytes and tree decode differently"),
            (Err(_), Err(_)) => {}
            (a, b) => panic!("bytes decode to {a:?}, the tree to {b:?}"),
        }
    }
    if let Ok(value) = direct {
        let encoded = serde_json::to_vec(&value).expect("a decoded value encodes");
        let again: T = serde_json::from_slice(&encoded).unwrap_or_else(|e| {
            panic!("{} does not decode: {e}", String::from_utf8_lossy(&encoded))
        });
        assert_eq!(again, value, "encoding and decoding changed the value");
    }
}

/// True when some object in the JSON text has a key twice.
fn has_repeated_key(data: &[u8]) -> bool {
    let found = Cell::new(false);
    let mut de = serde_json::Deserializer::from_slice(data);
    let _ = Walk(&found).deserialize(&mut de);
    found.get()
}

/// Walks a JSON value, noting a repeated key in any object.
struct Walk<'a>(&'a Cell<bool>);

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Walk(self.0))?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key) {
                self.0.set(true);
            }
            map.next_value_seed(Walk(self.0))?;
        }
        Ok(())
    }
}
