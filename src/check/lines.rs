//! Reading a raw server's stdout and stderr line by line within a
//! bound: a line longer than the bound is handed on cut to it (the rest
//! is read and dropped), so a server that writes a huge line costs no
//! more than the bound.

use tokio::io::{AsyncRead, AsyncReadExt};

/// Calls `f` with each line of `reader` (without its newline), cut to
/// `max` bytes, until the end or a read error.
pub(super) async fn each_line<R: AsyncRead + Unpin>(
    mut reader: R,
    max: usize,
    mut f: impl FnMut(&[u8]),
) {
    let mut chunk = vec![0u8; 64 * 1024];
    let mut line: Vec<u8> = Vec::new();
    loop {
        let n = match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut rest = &chunk[..n];
        while let Some(at) = memchr::memchr(b'\n', rest) {
            keep(&mut line, &rest[..at], max);
            f(&line);
            line.clear();
            rest = &rest[at + 1..];
        }
        keep(&mut line, rest, max);
    }
    if !line.is_empty() {
        f(&line);
    }
}

fn keep(line: &mut Vec<u8>, more: &[u8], max: usize) {
    let room = max.saturating_sub(line.len());
    line.extend_from_slice(&more[..more.len().min(room)]);
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn long_lines_are_cut_and_the_rest_still_read() {
        let text = format!("a\n{}\nb", "x".repeat(100));
        let mut seen = Vec::new();
        super::each_line(text.as_bytes(), 10, |l| {
            seen.push(String::from_utf8_lossy(l).into_owned())
        })
        .await;
        assert_eq!(seen, ["a", "xxxxxxxxxx", "b"]);
    }
}
