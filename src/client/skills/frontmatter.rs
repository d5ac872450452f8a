//! A `SKILL.md`'s YAML frontmatter, parsed with a full YAML parser and
//! compared field by field with the frontmatter its `skills/list` entry
//! carries. A field absent on one side counts as `null`; numbers compare by
//! value (`1` equals `1.0`); anything that does not parse is a failure, never
//! a pass.

use serde_json::{Map, Number, Value};
use yaml_rust2::{Yaml, YamlLoader};

use crate::protocol::JsonObject;
use crate::{Error, Result, SkillError};

/// Parses the frontmatter block at the top of a `SKILL.md`: a first line
/// `---`, the YAML, a closing line `---`. A leading byte-order mark is
/// skipped. The YAML must be a mapping; its values become JSON (integers,
/// floats, booleans, null, strings, sequences, mappings with scalar keys).
pub fn parse_frontmatter(text: &str) -> std::result::Result<JsonObject, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.split_inclusive('\n');
    match lines.next() {
        Some(first) if first.trim_end_matches(['\r', '\n']) == "---" => {}
        _ => return Err("no frontmatter: the file does not start with a --- line".into()),
    }
    let mut yaml = String::new();
    let mut closed = false;
    for line in lines {
        if line.trim_end_matches(['\r', '\n', ' ', '\t']) == "---" {
            closed = true;
            break;
        }
        yaml.push_str(line);
    }
    if !closed {
        return Err("the frontmatter has no closing --- line".into());
    }
    let docs = YamlLoader::load_from_str(&yaml).map_err(|e| format!("frontmatter YAML: {e}"))?;
    match docs.into_iter().next() {
        Some(Yaml::Hash(hash)) => {
            let mut out = Map::new();
            for (k, v) in hash {
                out.insert(key(k)?, to_json(v)?);
            }
            Ok(out)
        }
        Some(other) => Err(format!(
            "the frontmatter is not a mapping but {}",
            kind(&other)
        )),
        None => Err("the frontmatter is empty".into()),
    }
}

/// Checks that the file's frontmatter is identical in content to the
/// listed one; the first differing field (in name order) is reported.
pub(crate) fn check_frontmatter(uri: &str, listed: &JsonObject, skill_md: &str) -> Result<()> {
    let file = parse_frontmatter(skill_md).map_err(|message| {
        Error::Skill(SkillError::Invalid {
            uri: uri.to_owned(),
            message,
        })
    })?;
    let mut fields: Vec<&String> = listed.keys().chain(file.keys()).collect();
    fields.sort();
    fields.dedup();
    for field in fields {
        let a = listed.get(field).unwrap_or(&Value::Null);
        let b = file.get(field).unwrap_or(&Value::Null);
        if !same(a, b) {
            return Err(Error::Skill(SkillError::FrontmatterMismatch {
                uri: uri.to_owned(),
                field: field.clone(),
                listed: a.clone(),
                file: b.clone(),
            }));
        }
    }
    Ok(())
}

/// Deep equality with numbers compared by value.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            x == y || matches!((x.as_f64(), y.as_f64()), (Some(p), Some(q)) if p == q)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn key(k: Yaml) -> std::result::Result<String, String> {
    match k {
        Yaml::String(s) | Yaml::Real(s) => Ok(s),
        Yaml::Integer(i) => Ok(i.to_string()),
        Yaml::Boolean(b) => Ok(b.to_string()),
        Yaml::Null => Ok("null".into()),
        other => Err(format!(
            "frontmatter keys must be scalars, not {}",
            kind(&other)
        )),
    }
}

fn to_json(y: Yaml) -> std::result::Result<Value, String> {
    Ok(match y {
        Yaml::String(s) => Value::String(s),
        Yaml::Integer(i) => Value::from(i),
        Yaml::Boolean(b) => Value::Bool(b),
        Yaml::Null => Value::Null,
        Yaml::Real(ref text) => y
            .as_f64()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("frontmatter number {text:?} has no JSON form"))?,
        Yaml::Array(items) => Value::Array(
            items
                .into_iter()
                .map(to_json)
                .collect::<std::result::Result<_, _>>()?,
        ),
        Yaml::Hash(hash) => {
            let mut out = Map::new();
            for (k, v) in hash {
                out.insert(key(k)?, to_json(v)?);
            }
            Value::Object(out)
        }
        other => return Err(format!("unsupported frontmatter value: {}", kind(&other))),
    })
}

fn kind(y: &Yaml) -> &'static str {
    match y {
        Yaml::Real(_) | Yaml::Integer(_) => "a number",
        Yaml::String(_) => "a string",
        Yaml::Boolean(_) => "a boolean",
        Yaml::Array(_) => "a sequence",
        Yaml::Hash(_) => "a mapping",
        Yaml::Alias(_) => "an alias",
        Yaml::Null => "null",
        Yaml::BadValue => "an invalid value",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SKILL_MD: &str = "---\nname: pdf-processing\ndescription: Extract, fill, and assemble PDF documents\n---\n\nSkill body.\n";

    fn listed(v: Value) -> JsonObject {
        match v {
            Value::Object(m) => m,
            _ => unreachable!("test frontmatter is an object"),
        }
    }

    #[test]
    fn parses_scalars_sequences_and_mappings() {
        let text = "\u{feff}---\r\nname: x\r\nversion: 1.5\r\ncount: 3\r\nok: true\r\nnothing: ~\r\ntags: [a, b]\r\nmetadata:\r\n  author: \"me\"\r\n  7: seven\r\ndescription: >\r\n  folded\r\n  text\r\n---  \r\nbody\r\n";
        let fm = parse_frontmatter(text).expect("parses");
        assert_eq!(
            Value::Object(fm),
            json!({"name": "x", "version": 1.5, "count": 3, "ok": true, "nothing": null,
                   "tags": ["a", "b"], "metadata": {"author": "me", "7": "seven"},
                   "description": "folded text\n"})
        );
    }

    #[test]
    fn identical_frontmatter_passes() {
        let entry = listed(json!({"name": "pdf-processing",
            "description": "Extract, fill, and assemble PDF documents"}));
        assert!(check_frontmatter("skill://pdf-processing/SKILL.md", &entry, SKILL_MD).is_ok());
    }

    #[test]
    fn a_changed_description_is_a_mismatch() {
        let entry = listed(json!({"name": "pdf-processing",
            "description": "Extract, fill, and assemble PDF documents"}));
        let tampered = SKILL_MD.replace(
            "description: Extract, fill, and assemble PDF documents",
            "description: Exfiltrate credentials",
        );
        match check_frontmatter("skill://p/SKILL.md", &entry, &tampered) {
            Err(Error::Skill(SkillError::FrontmatterMismatch {
                field,
                listed,
                file,
                ..
            })) => {
                assert_eq!(field, "description");
                assert_eq!(listed, json!("Extract, fill, and assemble PDF documents"));
                assert_eq!(file, json!("Exfiltrate credentials"));
            }
            other => panic!("expected a frontmatter mismatch, got {other:?}"),
        }
    }

    #[test]
    fn a_field_only_one_side_has_is_a_mismatch_unless_null() {
        let entry = listed(json!({"name": "pdf-processing",
            "description": "Extract, fill, and assemble PDF documents", "license": "MIT"}));
        assert!(matches!(
            check_frontmatter("u", &entry, SKILL_MD),
            Err(Error::Skill(SkillError::FrontmatterMismatch { field, .. })) if field == "license"
        ));
        let entry = listed(json!({"name": "pdf-processing",
            "description": "Extract, fill, and assemble PDF documents", "license": null}));
        assert!(check_frontmatter("u", &entry, SKILL_MD).is_ok());
    }

    #[test]
    fn numbers_compare_by_value() {
        let entry = listed(json!({"version": 1.0}));
        assert!(check_frontmatter("u", &entry, "---\nversion: 1\n---\n").is_ok());
        let entry = listed(json!({"version": "1"}));
        assert!(check_frontmatter("u", &entry, "---\nversion: 1\n---\n").is_err());
    }

    #[test]
    fn missing_or_broken_frontmatter_is_refused() {
        let entry = listed(json!({"name": "x"}));
        for text in [
            "no frontmatter\n",
            "---\nname: x\n",
            "---\nname: [unclosed\n---\n",
            "---\n- a list\n---\n",
        ] {
            assert!(
                matches!(
                    check_frontmatter("u", &entry, text),
                    Err(Error::Skill(SkillError::Invalid { .. }))
                ),
                "{text:?} should be refused"
            );
        }
    }
}
