#!/usr/bin/env bash
# The gateway against the proxy users run today, in one run: the same
# mcpServers file (one upstream: the floor stdio server, `switchboard
# serve-echo`) served by `switchboard gateway` and by `fastmcp run mcp.json
# --transport http` (PyPI fastmcp, from the peers' venv), both measured by
# the same client (`switchboard bench`), sequential and 32 in flight; and
# the gateway's added latency against calling the stdio server directly.
# Needs the peers (bash .ci/install-peers.sh). A bench, not a test.
#
#   bash benches/gateway_compare.sh            # CALLS=20000 FASTMCP_CALLS=2000 by default
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. .peers/env.sh
PROFILE=${PROFILE:-dist}
cargo build --profile "$PROFILE" --quiet
BIN=$(realpath "${CARGO_TARGET_DIR:-target}/$PROFILE/switchboard")
CALLS=${CALLS:-20000}
FASTMCP_CALLS=${FASTMCP_CALLS:-2000}
FASTMCP=$(dirname "$SWITCHBOARD_PYTHON")/fastmcp
[ -x "$FASTMCP" ] || { echo "fastmcp not found at $FASTMCP: run bash .ci/install-peers.sh" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 300); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return; sleep 0.1; done; echo "port $1 never opened" >&2; exit 1; }
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT

DIR=$(mktemp -d)
printf '{"mcpServers": {"echo": {"command": "%s", "args": ["serve-echo"]}}}\n' "$BIN" > "$DIR/mcp.json"
ARGS='{"text":"hi"}'
bench() { "$BIN" bench --json "$@" | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%10.0f calls/s  p50 %6d us  p99 %7d us" % (d["calls_per_sec"], d["p50_us"], d["p99_us"]))'; }

echo "direct stdio (the floor server, no gateway)"
for c in 1 32; do printf '  c=%-2s ' "$c"; bench "$BIN serve-echo" --tool echo --args "$ARGS" --calls "$CALLS" --concurrency "$c"; done

GW_PORT=$(free_port)
"$BIN" gateway "$DIR/mcp.json" --listen "127.0.0.1:$GW_PORT" > /dev/null &
PIDS+=($!)
wait_port "$GW_PORT"
for proto in auto 2025-11-25; do
  echo "switchboard gateway ($proto), tool echo_echo"
  for c in 1 32; do printf '  c=%-2s ' "$c"; bench --protocol "$proto" "http://127.0.0.1:$GW_PORT/mcp" --tool echo_echo --args "$ARGS" --calls "$CALLS" --concurrency "$c"; done
done

FM_PORT=$(free_port)
"$FASTMCP" run "$DIR/mcp.json" --transport http --port "$FM_PORT" > /dev/null 2>&1 &
PIDS+=($!)
wait_port "$FM_PORT"
# fastmcp's proxy names the tool as its server does when it has one
# upstream. It is measured in the handshake era: in 2026-07-28 its proxy
# refuses the call ("Invalid arguments for tool 'echo'", fastmcp 4.2.3).
FM="--protocol 2025-11-25 http://127.0.0.1:$FM_PORT/mcp"
TOOL=$("$BIN" tools --json $FM | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["name"])')
echo "fastmcp run mcp.json --transport http (fastmcp $("$SWITCHBOARD_PYTHON" -c 'import fastmcp; print(fastmcp.__version__)'), 2025-11-25), tool $TOOL"
for c in 1 32; do printf '  c=%-2s ' "$c"; bench $FM --tool "$TOOL" --args "$ARGS" --calls "$FASTMCP_CALLS" --concurrency "$c"; done
