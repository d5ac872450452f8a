#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs the pinned test peers
# (npm server-everything, PyPI fastmcp and mcp), then runs formatting and
# lint checks, the docs build, every test and doctest, the examples and the
# demo, and closes with one "tests: N passed, N failed" line. Exits non-zero
# on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash .ci/install-peers.sh
# shellcheck disable=SC1091
. .peers/env.sh

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
# The distributed feature (NATS JetStream; async-nats needs rustc 1.89).
cargo clippy --all-targets --locked --features distributed -- -D warnings
# The bare library (no default features) and each optional part alone:
# each builds lint-clean, and the bare one links no CLI dependency.
for features in "" fuzzing testing agent http-server distributed otel; do
    cargo clippy --lib --no-default-features --features "$features" --locked -- -D warnings
done
if cargo tree --no-default-features -e normal --prefix none | grep -E '^(clap|tracing-subscriber|axum) '; then
    echo "the library without default features must not depend on clap, tracing-subscriber or axum" >&2
    exit 1
fi
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked --quiet
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked --quiet --features distributed,otel
# The conformance suite drives the conformance_client example binary and
# tests the conformance_server one (tests/conformance*.rs find them built).
cargo build --examples --locked --quiet
# Every test (unit, integration, benches' smoke runs), then the doctests
# (the README's examples included), which --all-targets skips. The counts
# are summed for the closing line.
results="$(mktemp)"
trap 'rm -f "$results"' EXIT
status=0
cargo test --all-targets --locked --no-fail-fast 2>&1 | tee -a "$results" || status=1
cargo test --doc --locked --no-fail-fast 2>&1 | tee -a "$results" || status=1
# The distributed suite against a real nats-server (tests/dist_*.rs, about
# 30 s after the build; the bar is 90 s on 2 cores), built first so the
# wall time printed is the suite's own; then the dist module's unit tests.
cargo test --locked --features distributed --test 'dist_*' --no-run --quiet
dist_started=$(date +%s%N)
cargo test --locked --no-fail-fast --features distributed --test 'dist_*' 2>&1 | tee -a "$results" || status=1
echo "distributed suite: $(( ($(date +%s%N) - dist_started) / 1000000 )) ms wall after the build"
cargo test --locked --no-fail-fast --features distributed --lib -- dist:: 2>&1 | tee -a "$results" || status=1
# The otel feature: spans exported over OTLP/HTTP to a real receiver
# (tests/trace_otel.rs).
cargo test --locked --no-fail-fast --features otel --test trace_otel 2>&1 | tee -a "$results" || status=1
# Each fuzz target for a few seconds from a copy of the saved corpus
# (cargo-fuzz on stable, installed by the script; the corpus replay itself
# runs in cargo test above).
FUZZ_JOBS=2 bash scripts/fuzz.sh --check 5 || status=1
summary() {
    awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed/) p += $(i-1); if ($i ~ /^failed/) f += $(i-1) } }
         END { printf "%d passed, %d failed\n", p, f }' "$results"
}
if [ "$status" -ne 0 ]; then
    echo "tests: $(summary)"
    exit 1
fi
# The examples that need no external service, as a user runs them.
for example in quickstart many_servers sampling_with_a_model elicitation_to_a_human \
    tokio_bot supervised in_memory_unit_test agent; do
    timeout 120 cargo run --quiet --locked --example "$example" < /dev/null > /dev/null
done
# The README's first command.
timeout 120 cargo run --quiet --locked -- demo > /dev/null
echo "tests: $(summary)"
