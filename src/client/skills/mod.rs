//! The client side of the skills extension (SEP-2640,
//! `io.modelcontextprotocol/skills`).
//!
//! A server that declares the extension lists its skills with
//! [`Client::list_skills`]: each [`Skill`] carries the frontmatter of its
//! `SKILL.md` (name, description, ...) and a manifest of its files, each
//! with a `sha256:` digest and a byte size. Listing reads no file: a
//! skill's files are fetched only once it is loaded
//! ([`Client::load_skill`]), and each read is verified before anything is
//! handed over:
//!
//! - the byte length must equal the listed size
//!   ([`SkillError::SizeMismatch`]),
//! - the SHA-256 of the bytes must equal the listed digest
//!   ([`SkillError::DigestMismatch`]),
//! - the `SKILL.md` frontmatter, parsed as YAML, must equal the listed
//!   frontmatter field by field ([`SkillError::FrontmatterMismatch`]; no
//!   parseable frontmatter is [`SkillError::Invalid`]),
//! - a file the manifest does not list is not read at all
//!   ([`SkillError::FileNotListed`]).
//!
//! On any failure the bytes are dropped and only the error comes back
//! ([`Error::is_skill_verification`] tells these apart). A skill whose
//! manifest is `"dynamic"` publishes no digests: its `SKILL.md`
//! frontmatter is still checked, its files (under the skill's directory)
//! are returned with [`SkillContent::digest_verified`] false.
//!
//! ```no_run
//! # async fn run(client: switchboard::Client) -> switchboard::Result<()> {
//! for skill in client.list_skills().await? {
//!     println!("{}: {}", skill.name().unwrap_or("?"), skill.description().unwrap_or(""));
//! }
//! // Later, when the model or the user picks one:
//! let skills = client.list_skills().await?;
//! if let Some(skill) = skills.first() {
//!     let loaded = client.load_skill(skill).await?; // SKILL.md read and verified
//!     println!("{}", loaded.instructions());
//!     let forms = loaded.read_file("references/FORMS.md").await?; // verified too
//!     println!("{}", forms.text().unwrap_or_default());
//! }
//! # Ok(()) }
//! ```
//!
//! Digests come from the same server as the content: a match proves the
//! two agree, not that either is trustworthy.

mod frontmatter;
mod methods;
mod verify;

pub use frontmatter::parse_frontmatter;
pub use verify::sha256_digest;

pub(crate) use frontmatter::check_frontmatter;
pub(crate) use verify::verify_file;

use crate::protocol::Skill;
use crate::{Client, Result};
#[cfg(doc)]
use crate::{Error, SkillError};

/// The content of one skill file, read after the skill was loaded and
/// checked against its manifest entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillContent {
    pub(crate) uri: String,
    pub(crate) mime_type: Option<String>,
    pub(crate) bytes: Vec<u8>,
    pub(crate) digest_verified: bool,
}

impl SkillContent {
    /// The file's URI.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The MIME type the server gave, if any.
    pub fn mime_type(&self) -> Option<&str> {
        self.mime_type.as_deref()
    }

    /// The file's bytes.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The bytes as UTF-8 text, when they are.
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.bytes).ok()
    }

    /// The file's bytes, owned.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// True when the bytes matched a listed digest and size; false only
    /// for a skill whose manifest is `"dynamic"` (no digests published).
    pub fn digest_verified(&self) -> bool {
        self.digest_verified
    }
}

/// A skill whose `SKILL.md` was read and verified (size, digest,
/// frontmatter): its instructions are ready for the model, and its other
/// files are read on demand with [`LoadedSkill::read_file`], each verified.
#[derive(Debug, Clone)]
pub struct LoadedSkill {
    pub(crate) client: Client,
    pub(crate) skill: Skill,
    pub(crate) skill_md: SkillContent,
}

impl LoadedSkill {
    /// The skill's entry, as listed.
    pub fn skill(&self) -> &Skill {
        &self.skill
    }

    /// The verified `SKILL.md`.
    pub fn skill_md(&self) -> &SkillContent {
        &self.skill_md
    }

    /// The `SKILL.md` text (frontmatter included).
    pub fn instructions(&self) -> &str {
        // Verified as UTF-8 when the skill was loaded.
        self.skill_md.text().unwrap_or_default()
    }

    /// Reads one of the skill's files and verifies it against the
    /// manifest. `path` is a URI, or a path relative to the skill's
    /// directory (`references/FORMS.md`). A file the manifest does not list
    /// is refused without a read.
    pub async fn read_file(&self, path: &str) -> Result<SkillContent> {
        let uri = resolve(&self.skill, path);
        self.client.read_skill_file(&self.skill, &uri).await
    }
}

/// `path` as a URI: kept when it has a scheme, else joined to the skill's
/// directory.
pub(crate) fn resolve(skill: &Skill, path: &str) -> String {
    if path.contains("://") {
        path.to_owned()
    } else {
        let rel = path.trim_start_matches("./").trim_start_matches('/');
        format!("{}{rel}", skill.base_uri())
    }
}
