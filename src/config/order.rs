//! The order servers are written in. The `config` crate keeps tables in
//! hash maps, so the file is skimmed once more for the order of the keys of
//! the servers table.

use std::fmt;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};

use super::Format;

/// The keys of the top-level table `top`, in file order; empty when they
/// cannot be found (the caller then falls back to sorted order).
pub(crate) fn server_order(text: &str, format: Format, top: &str) -> Vec<String> {
    match format {
        Format::Json => {
            let mut de = serde_json::Deserializer::from_str(text);
            Keys { wanted: Some(top) }
                .deserialize(&mut de)
                .unwrap_or_default()
        }
        Format::Toml => toml_order(text, top),
    }
}

fn toml_order(text: &str, top: &str) -> Vec<String> {
    let Ok(doc) = toml::de::DeTable::parse(text) else {
        return Vec::new();
    };
    for (key, value) in doc.get_ref() {
        if key.get_ref().as_ref() != top {
            continue;
        }
        if let toml::de::DeValue::Table(servers) = value.get_ref() {
            // Without toml's `preserve_order` the table is sorted, but every
            // key remembers where it was written.
            let mut keys: Vec<(usize, String)> = servers
                .iter()
                .map(|(k, _)| (k.span().start, k.get_ref().to_string()))
                .collect();
            keys.sort();
            return keys.into_iter().map(|(_, k)| k).collect();
        }
    }
    Vec::new()
}

/// With `wanted`, the keys of the table under that key of a map; without,
/// the keys of the map itself.
struct Keys<'a> {
    wanted: Option<&'a str>,
}

impl<'de> DeserializeSeed<'de> for Keys<'_> {
    type Value = Vec<String>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Vec<String>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Keys<'_> {
    type Value = Vec<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a table")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Vec<String>, A::Error> {
        let mut found = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            match self.wanted {
                Some(w) if key == w => found = map.next_value_seed(Keys { wanted: None })?,
                Some(_) => {
                    map.next_value::<IgnoredAny>()?;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                    found.push(key);
                }
            }
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keeps_file_order() {
        let text = r#"{"x": 1, "mcpServers": {"zeta": {"a": [1]}, "alpha": {}, "mid": {}}}"#;
        assert_eq!(
            server_order(text, Format::Json, "mcpServers"),
            ["zeta", "alpha", "mid"]
        );
        assert!(server_order("{", Format::Json, "mcpServers").is_empty());
    }

    #[test]
    fn toml_keeps_file_order() {
        let text = "[mcpServers.zeta]\ncommand = 'z'\n[mcpServers.alpha]\ncommand = 'a'\n[mcpServers.\"m-id\"]\nurl = 'u'\n";
        assert_eq!(
            server_order(text, Format::Toml, "mcpServers"),
            ["zeta", "alpha", "m-id"]
        );
    }
}
