#!/usr/bin/env bash
# Side by side: Switchboard's client and the official TypeScript SDK client
# against the same server (`switchboard serve-echo`), sequential and with 32
# calls in flight. Needs the peers (bash .ci/install-peers.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. .peers/env.sh
cargo build --release --quiet
BIN=target/release/switchboard
CALLS=${CALLS:-50000}
for c in 1 32; do
  echo "concurrency $c"
  printf '  switchboard: '; $BIN bench --json "$BIN serve-echo" --tool echo --args '{"text":"hi"}' --calls "$CALLS" --concurrency "$c" | tr -d '\n '; echo
  printf '  ts-sdk:      '; node benches/ts_client_bench.mjs --calls "$CALLS" --concurrency "$c" --tool echo --args '{"text":"hi"}' -- "$BIN" serve-echo
done
