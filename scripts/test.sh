#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs the pinned test peers
# (npm server-everything, PyPI fastmcp and mcp), then runs formatting and
# lint checks and every test. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash .ci/install-peers.sh
# shellcheck disable=SC1091
. .peers/env.sh

cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --locked --quiet
# The conformance suite drives the conformance_client example binary.
cargo build --examples --locked --quiet
cargo test --all-targets --locked --no-fail-fast
# The examples that need no external service, as a user runs them.
for example in quickstart many_servers sampling_with_a_model elicitation_to_a_human \
    tokio_bot supervised in_memory_unit_test agent; do
    timeout 120 cargo run --quiet --locked --example "$example" < /dev/null > /dev/null
done
# The README's first command.
timeout 120 cargo run --quiet --locked -- demo > /dev/null
