//! The skills extension (SEP-2640, `io.modelcontextprotocol/skills`): a
//! server lists the skills it serves with `skills/list` (one entry by URI
//! with `skills/get`), each entry carrying the skill's `SKILL.md`
//! frontmatter and a manifest of its files (URI, `sha256:` digest, byte
//! size). The files themselves are ordinary resources, read with
//! `resources/read` only when a skill is loaded; see [`crate::client::skills`].

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::common::{JsonObject, Meta};
use super::lifecycle::CacheScope;
use super::result::{list_result, ResultType};

/// The extension's identifier, as it appears in `capabilities.extensions`.
pub const SKILLS_EXTENSION: &str = "io.modelcontextprotocol/skills";

/// The file every skill has at its root.
pub const SKILL_FILE: &str = "SKILL.md";

/// One skill a server serves: an entry of `skills/list` or `skills/get`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Skill {
    /// The URI of the skill's `SKILL.md`, e.g. `skill://pdf-processing/SKILL.md`.
    pub uri: String,
    /// The `SKILL.md` frontmatter as the server lists it (at least `name`
    /// and `description`). Loading a skill checks the file against it.
    #[serde(default)]
    pub frontmatter: JsonObject,
    /// The skill's files (the `SKILL.md` included), or
    /// [`SkillResources::Dynamic`] for a generated file set. An entry
    /// without one lists no file, so it cannot be loaded.
    #[serde(default)]
    pub resources: SkillResources,
    /// Entry metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this client does not know.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

impl Skill {
    /// The frontmatter's `name`, when it is a string.
    pub fn name(&self) -> Option<&str> {
        self.frontmatter.get("name").and_then(Value::as_str)
    }

    /// The frontmatter's `description`, when it is a string.
    pub fn description(&self) -> Option<&str> {
        self.frontmatter.get("description").and_then(Value::as_str)
    }

    /// The skill's directory URI: its `uri` without the final `SKILL.md`
    /// (ending in `/`), against which relative file paths resolve.
    pub fn base_uri(&self) -> &str {
        match self.uri.rfind('/') {
            Some(slash) => &self.uri[..=slash],
            None => &self.uri,
        }
    }

    /// The manifest entry for `uri`, when the manifest lists it.
    pub fn file(&self, uri: &str) -> Option<&SkillFile> {
        match &self.resources {
            SkillResources::Listed(files) => files.iter().find(|f| f.uri == uri),
            SkillResources::Dynamic => None,
        }
    }

    /// The listed files other than the `SKILL.md` (none for a dynamic skill).
    pub fn supporting_files(&self) -> impl Iterator<Item = &SkillFile> {
        let files: &[SkillFile] = match &self.resources {
            SkillResources::Listed(files) => files,
            SkillResources::Dynamic => &[],
        };
        files.iter().filter(move |f| f.uri != self.uri)
    }
}

/// A skill's manifest: every file with its digest and size, or `"dynamic"`
/// when the server generates the file set and publishes no digests.
#[derive(Debug, Clone, PartialEq)]
pub enum SkillResources {
    /// The files, each verifiable.
    Listed(Vec<SkillFile>),
    /// `"dynamic"`: generated files, no digests to verify against.
    Dynamic,
}

impl Default for SkillResources {
    fn default() -> Self {
        SkillResources::Listed(Vec::new())
    }
}

const DYNAMIC: &str = "dynamic";

impl Serialize for SkillResources {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            SkillResources::Listed(files) => files.serialize(serializer),
            SkillResources::Dynamic => serializer.serialize_str(DYNAMIC),
        }
    }
}

impl<'de> Deserialize<'de> for SkillResources {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::String(s) if s == DYNAMIC => Ok(SkillResources::Dynamic),
            array @ Value::Array(_) => serde_json::from_value(array)
                .map(SkillResources::Listed)
                .map_err(D::Error::custom),
            other => Err(D::Error::custom(format!(
                "skill resources must be an array or \"dynamic\", not {other}"
            ))),
        }
    }
}

/// One file of a skill's manifest.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillFile {
    /// The file's resource URI.
    pub uri: String,
    /// `sha256:` and the lowercase hex SHA-256 of the file's bytes.
    pub digest: String,
    /// The file's length in bytes (the bytes the digest covers).
    pub size: u64,
    /// Fields this client does not know.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

/// The result of `skills/list`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListSkillsResult {
    /// `resultType` (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_type: Option<ResultType>,
    /// The skills of this page.
    #[serde(default)]
    pub skills: Vec<Skill>,
    /// Cursor of the next page, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Freshness lifetime in milliseconds (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_ms: Option<i64>,
    /// Cache sharing scope (2026-07-28).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_scope: Option<CacheScope>,
    /// Result metadata.
    #[serde(rename = "_meta", default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    /// Fields this library does not know.
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

list_result!(ListSkillsResult, skills, Skill);

/// Params of `skills/get`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GetSkillRequestParams {
    /// The skill's URI (its `SKILL.md`).
    pub uri: String,
}

/// The result of `skills/get`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetSkillResult {
    /// The skill's entry.
    pub skill: Skill,
    /// Fields this client does not know (`resultType`, `ttlMs`, ...).
    #[serde(flatten, default, skip_serializing_if = "Map::is_empty")]
    pub extra: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_listed_entry_round_trips_with_unknown_fields_kept() {
        let wire = json!({
            "uri": "skill://acme/pdf/SKILL.md",
            "frontmatter": {"name": "pdf", "description": "PDFs", "metadata": {"v": 2}},
            "resources": [
                {"uri": "skill://acme/pdf/SKILL.md", "digest": "sha256:00", "size": 12, "mimeType": "text/markdown"},
                {"uri": "skill://acme/pdf/a/B.md", "digest": "sha256:11", "size": 3}
            ],
            "_meta": {"k": 1},
            "future": true
        });
        let skill: Skill = serde_json::from_value(wire.clone()).expect("decodes");
        assert_eq!(skill.name(), Some("pdf"));
        assert_eq!(skill.description(), Some("PDFs"));
        assert_eq!(skill.base_uri(), "skill://acme/pdf/");
        assert_eq!(
            skill.file("skill://acme/pdf/a/B.md").map(|f| f.size),
            Some(3)
        );
        assert!(skill.file("skill://acme/pdf/C.md").is_none());
        let supporting: Vec<&str> = skill.supporting_files().map(|f| f.uri.as_str()).collect();
        assert_eq!(supporting, ["skill://acme/pdf/a/B.md"]);
        assert_eq!(skill.extra["future"], json!(true));
        assert_eq!(serde_json::to_value(&skill).expect("encodes"), wire);
    }

    #[test]
    fn dynamic_resources_round_trip_and_other_shapes_are_refused() {
        let wire = json!({"uri": "skill://g/SKILL.md", "frontmatter": {}, "resources": "dynamic"});
        let skill: Skill = serde_json::from_value(wire.clone()).expect("decodes");
        assert_eq!(skill.resources, SkillResources::Dynamic);
        assert_eq!(skill.supporting_files().count(), 0);
        assert_eq!(serde_json::to_value(&skill).expect("encodes"), wire);
        for bad in [json!("static"), json!(7), json!({"uri": "x"})] {
            let wire = json!({"uri": "skill://g/SKILL.md", "resources": bad});
            assert!(serde_json::from_value::<Skill>(wire).is_err(), "{bad}");
        }
    }

    #[test]
    fn get_skill_result_keeps_cache_fields() {
        let wire = json!({"resultType": "complete", "ttlMs": 0, "cacheScope": "private",
            "skill": {"uri": "skill://g/SKILL.md", "frontmatter": {"name": "g"}, "resources": []}});
        let got: GetSkillResult = serde_json::from_value(wire).expect("decodes");
        assert_eq!(got.skill.name(), Some("g"));
        assert_eq!(got.extra["ttlMs"], json!(0));
    }
}
