"""A stdio MCP server (handshake era, stdlib only) whose tools count their
executions: each call appends one JSON line to the file named by argv[1]
*before* it does its work (sleeping `sleep_ms`), so a call killed mid-way
is still counted, and "executed twice" is measured.

Each `notifications/cancelled` the client sends appends its `requestId`
to argv[1] + ".cancelled", so a dropped call is seen to be cancelled.

Calls run on threads of their own (the client sends several at once);
each line also says how many calls of this process were in flight.
Tools: `write` (a side effect: destructiveHint true), `read` (readOnlyHint
true). Arguments: {"tag": str, "sleep_ms": int}. Exits when stdin closes.
"""
import json, os, sys, threading, time

LOG = sys.argv[1]
SCHEMA = {"type": "object", "properties": {"tag": {"type": "string"}, "sleep_ms": {"type": "integer"}}}
TOOLS = [
    {"name": "write", "description": "Appends a line (a side effect)", "inputSchema": SCHEMA,
     "annotations": {"destructiveHint": True, "readOnlyHint": False}},
    {"name": "read", "description": "Reads (no side effect)", "inputSchema": SCHEMA,
     "annotations": {"readOnlyHint": True}},
]

OUT = threading.Lock()
INFLIGHT = [0]

def reply(id, result=None, error=None):
    msg = {"jsonrpc": "2.0", "id": id}
    if error is not None:
        msg["error"] = error
    else:
        msg["result"] = result
    with OUT:
        try:
            sys.stdout.write(json.dumps(msg) + "\n")
            sys.stdout.flush()
        except (BrokenPipeError, ValueError):
            os._exit(0)

def call(id, params):
    name = params.get("name")
    args = params.get("arguments") or {}
    tag = str(args.get("tag", ""))
    key = (params.get("_meta") or {}).get("io.switchboard/idempotency-key", "")
    with OUT:
        INFLIGHT[0] += 1
        line = {"tool": name, "tag": tag, "key": key, "pid": os.getpid(), "inflight": INFLIGHT[0]}
        with open(LOG, "a") as f:
            f.write(json.dumps(line) + "\n")
            f.flush()
            os.fsync(f.fileno())
    time.sleep(int(args.get("sleep_ms", 0)) / 1000.0)
    with OUT:
        INFLIGHT[0] -= 1
    reply(id, {"content": [{"type": "text", "text": f"{name} {tag} ok"}], "isError": False})

for line in sys.stdin:
    try:
        msg = json.loads(line)
    except ValueError:
        continue
    id, method, params = msg.get("id"), msg.get("method"), msg.get("params") or {}
    if method == "notifications/cancelled":
        with OUT:
            with open(LOG + ".cancelled", "a") as f:
                f.write(json.dumps({"cancelled": params.get("requestId")}) + "\n")
                f.flush()
        continue
    if id is None or method is None:
        continue
    if method == "initialize":
        reply(id, {"protocolVersion": params.get("protocolVersion", "2025-06-18"),
                   "capabilities": {"tools": {}}, "serverInfo": {"name": "effect", "version": "1"}})
    elif method == "tools/list":
        reply(id, {"tools": TOOLS})
    elif method == "ping":
        reply(id, {})
    elif method == "tools/call":
        threading.Thread(target=call, args=(id, params), daemon=True).start()
    else:
        reply(id, error={"code": -32601, "message": f"no method {method}"})
os._exit(0)
