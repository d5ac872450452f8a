//! The fuzz corpus replayed on stable: every input saved under
//! `fuzz/corpus/<target>/` (what the campaigns of `scripts/fuzz.sh` kept)
//! and `fuzz/artifacts-fixed/<target>/` (the inputs that found a defect)
//! goes through the same function its cargo-fuzz target calls
//! (`switchboard::fuzzing::<target>`), which panics on a failed property:
//! a parser's panic, or a fast path that disagrees with its reference.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use switchboard::fuzzing::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `dir` (none when it does not exist), in name order.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .map(|e| e.expect("a readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// Replays every saved input of `target`; returns how many there were.
fn replay(target: &str) -> usize {
    let (_, body) = TARGETS
        .iter()
        .find(|(name, _)| *name == target)
        .unwrap_or_else(|| panic!("no target {target} in switchboard::fuzzing::TARGETS"));
    let mut inputs = files(&fuzz_dir().join("corpus").join(target));
    let corpus = inputs.len();
    inputs.extend(files(&fuzz_dir().join("artifacts-fixed").join(target)));
    // A whole corpus takes well under a second; a hang is a finding.
    let deadline = Instant::now() + Duration::from_secs(60);
    for path in &inputs {
        let data = fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if let Err(panic) = panic::catch_unwind(AssertUnwindSafe(|| body(&data))) {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            panic!("{target}: {} fails: {message}", path.display());
        }
        assert!(Instant::now() < deadline, "{target}: replay past 60 s");
    }
    assert!(
        corpus >= 5,
        "{target}: only {corpus} inputs in fuzz/corpus/{target}"
    );
    inputs.len()
}

macro_rules! replays {
    ($($target:ident),* $(,)?) => {
        $(
            #[test]
            fn $target() {
                replay(stringify!($target));
            }
        )*

        /// Every fuzz target, every body and every corpus folder is replayed here.
        #[test]
        fn every_target_is_replayed() {
            let here = [$(stringify!($target)),*];
            let bodies: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
            assert_eq!(bodies, here, "switchboard::fuzzing::TARGETS");
            let stem = |p: &PathBuf| p.file_stem().and_then(|s| s.to_str()).map(str::to_owned);
            let mut fuzzed: Vec<String> =
                files(&fuzz_dir().join("fuzz_targets")).iter().filter_map(stem).collect();
            fuzzed.sort();
            assert_eq!(fuzzed, here, "fuzz/fuzz_targets");
        }
    };
}

replays!(
    config,
    content,
    encoder,
    frame,
    frontmatter,
    lines,
    names,
    oauth,
    sse
);
