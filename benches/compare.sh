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

# Streamable HTTP: server-everything's echo tool (the server dominates).
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PORT=$PORT node "$SWITCHBOARD_EVERYTHING" streamableHttp > /dev/null 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null' EXIT
for _ in $(seq 50); do (echo > /dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break; sleep 0.1; done
URL=http://127.0.0.1:$PORT/mcp
HTTP_CALLS=${HTTP_CALLS:-2000}
for c in 1 16; do
  echo "streamable http, concurrency $c"
  printf '  switchboard: '; $BIN bench --json "$URL" --tool echo --args '{"message":"hi"}' --calls "$HTTP_CALLS" --concurrency "$c" | tr -d '\n '; echo
  printf '  ts-sdk:      '; node benches/ts_client_bench.mjs --calls "$HTTP_CALLS" --concurrency "$c" --tool echo --args '{"message":"hi"}' --url "$URL"
done
