//! Cutting a byte stream into chunks the way a socket might: sizes from a
//! seed, empty chunks included.

/// `data` cut into chunks of 0 to 16 bytes, chosen by `seed` (a small
/// linear congruential sequence, so every seed is one fixed chunking).
pub(super) fn chunks(seed: u8, data: &[u8]) -> Vec<&[u8]> {
    let mut state = u32::from(seed).wrapping_mul(2_654_435_761) | 1;
    let mut out = Vec::new();
    let mut rest = data;
    // Each round takes a chunk of up to 16 bytes; at most one in 17 rounds
    // is empty, so the loop ends.
    while !rest.is_empty() {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let n = ((state >> 16) % 17) as usize;
        let (head, tail) = rest.split_at(n.min(rest.len()));
        out.push(head);
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_cover_the_data_in_order_with_empty_ones_among_them() {
        let data: Vec<u8> = (0..=255).collect();
        let mut empty = 0;
        for seed in 0..=u8::MAX {
            let parts = chunks(seed, &data);
            assert_eq!(parts.concat(), data);
            assert!(parts.iter().all(|c| c.len() <= 16));
            empty += parts.iter().filter(|c| c.is_empty()).count();
        }
        assert!(empty > 0);
    }
}
