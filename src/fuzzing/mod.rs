//! The bodies of the fuzz targets in `fuzz/` (cargo-fuzz), one function per
//! target, shared with `tests/fuzz_corpus.rs`, which replays the saved
//! corpus on stable in the normal test suite.
//!
//! Each function takes the fuzzer's bytes and panics when a property
//! fails: a parser panics, or a fast path and its reference disagree (the
//! compact-reply reader and the general JSON-RPC parser, the hand-written
//! request encoder and serde, a chunked parse and a whole one, a parser and
//! a model of its format). Not an API: hidden, behind feature `fuzzing`.

mod chunks;
mod config;
mod content;
mod encoder;
mod frame;
mod frontmatter;
mod lines;
mod names;
mod oauth;
mod sse;

pub use config::config;
pub use content::content;
pub use encoder::encoder;
pub use frame::{fast_path_reads, frame};
pub use frontmatter::frontmatter;
pub use lines::lines;
pub use names::names;
pub use oauth::oauth;
pub use sse::sse;

/// A target's body: the fuzzer's bytes in, a panic on a failed property.
pub type Body = fn(&[u8]);

/// Every target by name, as `fuzz/fuzz_targets/<name>.rs` and
/// `fuzz/corpus/<name>/` call it.
pub const TARGETS: &[(&str, Body)] = &[
    ("config", config),
    ("content", content),
    ("encoder", encoder),
    ("frame", frame),
    ("frontmatter", frontmatter),
    ("lines", lines),
    ("names", names),
    ("oauth", oauth),
    ("sse", sse),
];
