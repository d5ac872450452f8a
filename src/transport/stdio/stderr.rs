//! Draining a server's stderr: it must always be read (a full pipe blocks
//! the server), into a ring of recent lines for error reports and into
//! `tracing` (target `switchboard::server_stderr`, DEBUG).
//!
//! Memory is bounded whatever the server writes: each line keeps at most
//! [`MAX_LINE`] bytes, cut at a UTF-8 character boundary and marked with
//! `…`; the rest of a longer line is read and dropped chunk by chunk, never
//! stored, so one endless line costs no more than a short one.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};
use tokio::process::ChildStderr;

use super::lock;

/// Longest stderr line kept, in bytes.
pub(super) const MAX_LINE: usize = 4096;

/// Recent stderr lines, oldest first.
#[derive(Default)]
pub(super) struct StderrRing {
    pub(super) lines: VecDeque<String>,
}

/// Reads stderr to its end, keeping the last `keep` lines in `ring`.
pub(super) async fn drain(
    stderr: ChildStderr,
    ring: Arc<Mutex<StderrRing>>,
    keep: usize,
    description: String,
) {
    let mut reader = BufReader::new(stderr);
    let mut line = Vec::with_capacity(256);
    while let Ok(Some(cut)) = read_line_bounded(&mut reader, &mut line, MAX_LINE).await {
        let text = shown(&line, cut);
        if text.is_empty() {
            continue;
        }
        tracing::debug!(target: "switchboard::server_stderr", server = %description, "{text}");
        let mut ring = lock(&ring);
        if ring.lines.len() >= keep.max(1) {
            ring.lines.pop_front();
        }
        ring.lines.push_back(text);
    }
}

/// Reads one line into `line` (without its newline), keeping at most `max`
/// bytes and discarding the rest of the line as it arrives. `Ok(None)` at
/// end of input with nothing read; otherwise `Ok(Some(cut))`, where `cut`
/// says the line was longer than `max`.
pub(super) async fn read_line_bounded<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    line: &mut Vec<u8>,
    max: usize,
) -> io::Result<Option<bool>> {
    line.clear();
    let mut read_any = false;
    let mut cut = false;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(read_any.then_some(cut));
        }
        read_any = true;
        let newline = memchr::memchr(b'\n', buf);
        let piece = &buf[..newline.unwrap_or(buf.len())];
        let room = max.saturating_sub(line.len());
        cut |= piece.len() > room;
        line.extend_from_slice(&piece[..piece.len().min(room)]);
        let used = newline.map_or(buf.len(), |i| i + 1);
        reader.consume(used);
        if newline.is_some() {
            return Ok(Some(cut));
        }
    }
}

/// The line as text: trailing whitespace trimmed; a cut line ends at a
/// whole UTF-8 character, followed by `…`.
fn shown(line: &[u8], cut: bool) -> String {
    if !cut {
        return String::from_utf8_lossy(line).trim_end().to_owned();
    }
    let whole = match std::str::from_utf8(line) {
        Ok(_) => line,
        // An incomplete character at the end: the cut went through it.
        Err(e) if e.error_len().is_none() => &line[..e.valid_up_to()],
        Err(_) => line,
    };
    format!("{}…", String::from_utf8_lossy(whole).trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn lines(input: &[u8], max: usize) -> Vec<(String, bool)> {
        // A tiny buffer, so lines span many fills.
        let mut reader = BufReader::with_capacity(7, input);
        let mut line = Vec::new();
        let mut out = Vec::new();
        while let Some(cut) = read_line_bounded(&mut reader, &mut line, max)
            .await
            .unwrap()
        {
            out.push((String::from_utf8_lossy(&line).into_owned(), cut));
        }
        out
    }

    #[tokio::test]
    async fn long_lines_keep_their_head_and_the_next_line_is_whole() {
        let mut input = vec![b'x'; 1000];
        input.extend_from_slice(b"\nnext\nlast without newline");
        let got = lines(&input, 10).await;
        assert_eq!(
            got,
            vec![
                ("x".repeat(10), true),
                ("next".into(), false),
                ("last witho".into(), true)
            ]
        );
        assert_eq!(lines(b"", 10).await, vec![]);
        assert_eq!(lines(b"\n", 10).await, vec![(String::new(), false)]);
        assert_eq!(
            lines(b"0123456789\n", 10).await,
            vec![("0123456789".into(), false)]
        );
    }

    #[test]
    fn a_cut_never_splits_a_character() {
        // "é" is two bytes; a cut after its first byte drops it whole.
        let line = "abcé".as_bytes();
        assert_eq!(shown(&line[..4], true), "abc…");
        assert_eq!(shown(line, false), "abcé");
        assert_eq!(shown(b"plain  ", false), "plain");
    }
}
