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
cargo run --quiet --locked --example quickstart > /dev/null
