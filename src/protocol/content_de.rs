//! Reading content blocks without buffering: the hot path of every tool
//! result.
//!
//! serde's derived code for an internally tagged enum (`"type"`) buffers
//! each block into an intermediate tree to find its tag, and a struct with
//! a flattened `extra` map buffers again. Servers write `"type"` first, so
//! this reads the first key, and when it is the tag, reads the rest of the
//! block straight into its struct. A block whose tag comes later is
//! collected into a map first (correct, only slower).

use std::fmt;

use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::content::{ContentBlock, TextContent};
use super::key::KeyBuf;

impl<'de> Deserialize<'de> for ContentBlock {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(BlockVisitor)
    }
}

struct BlockVisitor;

impl<'de> Visitor<'de> for BlockVisitor {
    type Value = ContentBlock;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a content block (an object with a \"type\")")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ContentBlock, A::Error> {
        let Some(first) = map.next_key::<KeyBuf<'de>>()? else {
            return Err(de::Error::missing_field("type"));
        };
        if first.as_str() == "type" {
            let tag: KeyBuf<'de> = map.next_value()?;
            return block_from(tag.as_str(), MapAccessDeserializer::new(map));
        }
        // The tag comes later: collect the block, then read it.
        let mut all = Map::new();
        all.insert(first.as_str().to_owned(), map.next_value()?);
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            all.insert(k, v);
        }
        let tag = match all.remove("type") {
            Some(Value::String(t)) => t,
            Some(_) => return Err(de::Error::custom("content block \"type\" must be a string")),
            None => return Err(de::Error::missing_field("type")),
        };
        block_from(&tag, Value::Object(all)).map_err(de::Error::custom)
    }
}

/// The block of type `tag`, read from the rest of its fields.
fn block_from<'de, D: Deserializer<'de>>(tag: &str, rest: D) -> Result<ContentBlock, D::Error> {
    Ok(match tag {
        "text" => ContentBlock::Text(TextContent::deserialize(rest)?),
        "image" => ContentBlock::Image(Deserialize::deserialize(rest)?),
        "audio" => ContentBlock::Audio(Deserialize::deserialize(rest)?),
        "resource_link" => ContentBlock::ResourceLink(Deserialize::deserialize(rest)?),
        "resource" => ContentBlock::Resource(Deserialize::deserialize(rest)?),
        other => {
            return Err(de::Error::unknown_variant(
                other,
                &["text", "image", "audio", "resource_link", "resource"],
            ))
        }
    })
}

impl<'de> Deserialize<'de> for TextContent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(TextVisitor)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = TextContent;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("text content")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<TextContent, A::Error> {
        let mut out = TextContent::default();
        let mut text = None;
        while let Some(key) = map.next_key::<KeyBuf<'de>>()? {
            match key.as_str() {
                "text" => text = Some(map.next_value::<String>()?),
                "annotations" => out.annotations = map.next_value()?,
                "_meta" => out.meta = map.next_value()?,
                // A tag read by whoever passed us the map is not repeated;
                // one that is (when read as a plain struct) is not extra.
                "type" => {
                    map.next_value::<de::IgnoredAny>()?;
                }
                other => {
                    let value: Value = map.next_value()?;
                    out.extra.insert(other.to_owned(), value);
                }
            }
        }
        out.text = text.ok_or_else(|| de::Error::missing_field("text"))?;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn blocks_read_with_the_tag_first_or_later_and_keep_unknown_fields() {
        let first: ContentBlock =
            serde_json::from_str(r#"{"type":"text","text":"hi","x-extra":1,"_meta":{"m":true}}"#)
                .unwrap();
        let later: ContentBlock =
            serde_json::from_str(r#"{"text":"hi","x-extra":1,"_meta":{"m":true},"type":"text"}"#)
                .unwrap();
        assert_eq!(first, later);
        let ContentBlock::Text(t) = &first else {
            panic!("{first:?}")
        };
        assert_eq!(t.text, "hi");
        assert_eq!(t.extra.get("x-extra"), Some(&json!(1)));
        assert!(!t.extra.contains_key("type"));
        assert_eq!(t.meta.as_ref().unwrap()["m"], json!(true));
        // Round trip: what we write reads back the same.
        let again: ContentBlock =
            serde_json::from_value(serde_json::to_value(&first).unwrap()).unwrap();
        assert_eq!(again, first);
        // Escaped keys and values.
        let esc: ContentBlock =
            serde_json::from_str(r#"{"t\u0079pe":"text","text":"a\nb"}"#).unwrap();
        assert_eq!(esc, ContentBlock::text("a\nb"));
    }

    #[test]
    fn other_blocks_and_errors() {
        let image: ContentBlock =
            serde_json::from_str(r#"{"type":"image","data":"AA==","mimeType":"image/png"}"#)
                .unwrap();
        assert!(matches!(image, ContentBlock::Image(ref i) if i.mime_type == "image/png"));
        let link: ContentBlock = serde_json::from_value(
            json!({"uri": "file:///a", "name": "a", "type": "resource_link"}),
        )
        .unwrap();
        assert!(matches!(link, ContentBlock::ResourceLink(ref l) if l.uri == "file:///a"));
        for bad in [
            r#"{"type":"nope"}"#,
            r#"{"text":"no tag"}"#,
            r#"{"type":"text"}"#,
            r#"{"type":7,"text":"x"}"#,
            r#"{}"#,
            r#"[]"#,
        ] {
            assert!(serde_json::from_str::<ContentBlock>(bad).is_err(), "{bad}");
        }
        let err = serde_json::from_str::<ContentBlock>(r#"{"type":"nope"}"#).unwrap_err();
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
