//! Checking a skill file's bytes against its manifest entry: the byte size
//! first (cheap, and a failure on its own), then the SHA-256 digest.

use ring::digest::{digest, SHA256};

use crate::protocol::SkillFile;
use crate::{Error, Result, SkillError};

/// The prefix of the only digest algorithm the extension defines.
const SHA256_PREFIX: &str = "sha256:";

/// The manifest digest of `bytes`: `sha256:` and the lowercase hex
/// SHA-256, the form `skills/list` entries carry.
pub fn sha256_digest(bytes: &[u8]) -> String {
    let hash = digest(&SHA256, bytes);
    let mut out = String::with_capacity(SHA256_PREFIX.len() + 64);
    out.push_str(SHA256_PREFIX);
    for b in hash.as_ref() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Checks `bytes` against `file`'s listed size and digest. On a mismatch
/// the caller must drop the bytes: the error is all that leaves.
pub(crate) fn verify_file(file: &SkillFile, bytes: &[u8]) -> Result<()> {
    let actual_size = bytes.len() as u64;
    if actual_size != file.size {
        return Err(Error::Skill(SkillError::SizeMismatch {
            uri: file.uri.clone(),
            expected: file.size,
            actual: actual_size,
        }));
    }
    let listed_hex = match file.digest.strip_prefix(SHA256_PREFIX) {
        Some(hex) if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) => hex,
        _ => {
            return Err(Error::Skill(SkillError::Invalid {
                uri: file.uri.clone(),
                message: format!(
                    "the manifest digest {:?} is not sha256:<64 hex digits>",
                    file.digest
                ),
            }))
        }
    };
    let actual = sha256_digest(bytes);
    if !actual[SHA256_PREFIX.len()..].eq_ignore_ascii_case(listed_hex) {
        return Err(Error::Skill(SkillError::DigestMismatch {
            uri: file.uri.clone(),
            expected: file.digest.clone(),
            actual,
        }));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(bytes: &[u8]) -> SkillFile {
        SkillFile {
            uri: "skill://s/SKILL.md".into(),
            digest: sha256_digest(bytes),
            size: bytes.len() as u64,
            ..Default::default()
        }
    }

    #[test]
    fn digest_matches_known_vector() {
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            sha256_digest(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn matching_bytes_pass_and_uppercase_hex_is_accepted() {
        let mut file = entry(b"body");
        assert!(verify_file(&file, b"body").is_ok());
        file.digest = format!("sha256:{}", file.digest[7..].to_ascii_uppercase());
        assert!(verify_file(&file, b"body").is_ok());
    }

    #[test]
    fn same_length_different_bytes_is_a_digest_mismatch() {
        let file = entry(b"Skill body.");
        match verify_file(&file, b"Evil body!!") {
            Err(Error::Skill(SkillError::DigestMismatch {
                expected, actual, ..
            })) => {
                assert_eq!(expected, file.digest);
                assert_eq!(actual, sha256_digest(b"Evil body!!"));
            }
            other => panic!("expected a digest mismatch, got {other:?}"),
        }
    }

    #[test]
    fn extra_bytes_are_a_size_mismatch() {
        let file = entry(b"body");
        match verify_file(&file, b"body and more") {
            Err(Error::Skill(SkillError::SizeMismatch {
                expected, actual, ..
            })) => assert_eq!((expected, actual), (4, 13)),
            other => panic!("expected a size mismatch, got {other:?}"),
        }
    }

    #[test]
    fn unknown_algorithm_is_refused() {
        let mut file = entry(b"body");
        file.digest = "md5:0123".into();
        assert!(matches!(
            verify_file(&file, b"body"),
            Err(Error::Skill(SkillError::Invalid { .. }))
        ));
    }
}
