#!/usr/bin/env bash
# Side by side: Switchboard's client and the official TypeScript SDK client
# against the same server (`switchboard serve-echo`), sequential and with 32
# calls in flight. Needs the peers (bash .ci/install-peers.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. .peers/env.sh
cargo build --profile dist --quiet
BIN=target/dist/switchboard
CALLS=${CALLS:-50000}
for c in 1 32; do
  echo "concurrency $c"
  printf '  switchboard: '; $BIN bench --json "$BIN serve-echo" --tool echo --args '{"text":"hi"}' --calls "$CALLS" --concurrency "$c" | tr -d '\n '; echo
  printf '  ts-sdk:      '; node benches/ts_client_bench.mjs --calls "$CALLS" --concurrency "$c" --tool echo --args '{"text":"hi"}' -- "$BIN" serve-echo
done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }
SERVERS=()
trap 'kill "${SERVERS[@]}" 2>/dev/null' EXIT
HTTP_CALLS=${HTTP_CALLS:-5000}

# Streamable HTTP against our minimal Rust server (examples/http_echo_server):
# what is measured is the clients. Switchboard speaks 2026-07-28 to it; the
# TS SDK (and Switchboard with --protocol 2025-11-25) the handshake era.
# node --no-warnings: the SDK adds an AbortSignal listener per request and
# warns about it after 1500 calls.
cargo build --profile dist --quiet --example http_echo_server
PORT=$(free_port)
target/dist/examples/http_echo_server "$PORT" > /dev/null &
SERVERS+=($!)
wait_port "$PORT"
URL=http://127.0.0.1:$PORT/mcp
echo "streamable http (examples/http_echo_server), sequential"
printf '  switchboard (2026-07-28): '; $BIN bench --json "$URL" --tool echo --args '{"text":"hi"}' --calls "$HTTP_CALLS" --concurrency 1 | tr -d '\n '; echo
printf '  switchboard (2025-11-25): '; $BIN bench --json --protocol 2025-11-25 "$URL" --tool echo --args '{"text":"hi"}' --calls "$HTTP_CALLS" --concurrency 1 | tr -d '\n '; echo
printf '  ts-sdk (2025-11-25):      '; node --no-warnings benches/ts_client_bench.mjs --calls "$HTTP_CALLS" --concurrency 1 --tool echo --args '{"text":"hi"}' --url "$URL"

# Streamable HTTP: server-everything's echo tool (the server dominates).
PORT=$(free_port)
PORT=$PORT node "$SWITCHBOARD_EVERYTHING" streamableHttp > /dev/null 2>&1 &
SERVERS+=($!)
wait_port "$PORT"
URL=http://127.0.0.1:$PORT/mcp
for c in 1 16; do
  echo "streamable http (server-everything), concurrency $c"
  printf '  switchboard: '; $BIN bench --json "$URL" --tool echo --args '{"message":"hi"}' --calls 2000 --concurrency "$c" | tr -d '\n '; echo
  printf '  ts-sdk:      '; node --no-warnings benches/ts_client_bench.mjs --calls 2000 --concurrency "$c" --tool echo --args '{"message":"hi"}' --url "$URL"
done
