//! Run ids (ULIDs, made by the client so a retry reuses its id) and UTC
//! timestamps (RFC 3339), without a date-time dependency.

use std::time::{SystemTime, UNIX_EPOCH};

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new ULID: 48 bits of milliseconds since the epoch, 80 random bits,
/// 26 characters of Crockford base32 (sortable by time).
pub fn new_run_id() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let mut random = [0u8; 10];
    // The system's randomness; on the (never seen) failure the id is still
    // unique enough with the time and the process id.
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random).is_err() {
        random[..4].copy_from_slice(&std::process::id().to_be_bytes());
    }
    let mut value: u128 = u128::from(ms & 0xFFFF_FFFF_FFFF) << 80;
    for (i, b) in random.iter().enumerate() {
        value |= u128::from(*b) << (72 - 8 * i);
    }
    (0..26)
        .rev()
        .map(|i| CROCKFORD[((value >> (5 * i)) & 31) as usize] as char)
        .collect()
}

/// Whether `id` may be a run id: 1 to 64 characters of `[A-Za-z0-9_-]`,
/// so it is one NATS subject token and one KV key.
pub fn valid_run_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Now, as `2026-12-02T07:00:00.123Z`.
pub fn now_rfc3339() -> String {
    crate::protocol::time::now_rfc3339()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_ids_are_26_crockford_characters_and_differ() {
        let a = new_run_id();
        let b = new_run_id();
        assert_eq!(a.len(), 26);
        assert!(a.bytes().all(|c| CROCKFORD.contains(&c)), "{a}");
        assert_ne!(a, b);
        assert!(valid_run_id(&a));
        assert!(!valid_run_id("a.b"));
        assert!(!valid_run_id("a*"));
        assert!(!valid_run_id(""));
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        use crate::protocol::time::rfc3339;
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_795_158_000, 5), "2026-11-20T07:00:00.005Z");
        assert_eq!(rfc3339(951_782_400, 999), "2000-02-29T00:00:00.999Z");
    }
}
