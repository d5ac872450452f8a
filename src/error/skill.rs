//! A skill whose files could not be verified against its manifest.

use serde_json::Value;

/// A skill's content was refused because it could not be verified: the
/// bytes read differ from what its `skills/list` entry or manifest says.
/// Nothing of the refused file or skill is returned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum SkillError {
    /// A file's bytes do not hash to the digest its manifest lists.
    #[error(
        "skill file {uri}: digest mismatch (listed {expected}, read {actual}); content refused"
    )]
    DigestMismatch {
        /// The file's URI.
        uri: String,
        /// The digest the manifest lists.
        expected: String,
        /// The digest of the bytes read (`sha256:<hex>`).
        actual: String,
    },
    /// A file's length differs from the size its manifest lists.
    #[error(
        "skill file {uri}: size mismatch (listed {expected} bytes, read {actual}); content refused"
    )]
    SizeMismatch {
        /// The file's URI.
        uri: String,
        /// The size the manifest lists.
        expected: u64,
        /// The length of the bytes read.
        actual: u64,
    },
    /// A `SKILL.md`'s frontmatter differs from the frontmatter its
    /// `skills/list` entry carries. The skill was not loaded.
    #[error("skill {uri}: frontmatter field {field:?} differs (listed {listed}, file has {file}); skill not loaded")]
    FrontmatterMismatch {
        /// The `SKILL.md` URI.
        uri: String,
        /// The first field that differs.
        field: String,
        /// The field's value in the listed entry (`null` when absent).
        listed: Value,
        /// The field's value in the file (`null` when absent).
        file: Value,
    },
    /// A file could not be verified: a `SKILL.md` without parseable YAML
    /// frontmatter, a read that returned no content for the file, a
    /// manifest digest this client cannot check.
    #[error("skill file {uri}: {message}; content refused")]
    Invalid {
        /// The file's URI.
        uri: String,
        /// What is wrong.
        message: String,
    },
    /// A file was asked of a skill whose manifest does not list it:
    /// reading it would be a verification failure, so it is not read.
    #[error("skill {skill}: {uri} is not listed in its manifest; not read")]
    FileNotListed {
        /// The skill's URI.
        skill: String,
        /// The file asked for.
        uri: String,
    },
}
