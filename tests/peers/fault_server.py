"""A deliberately bad MCP server for Switchboard's fault tests (plain python3, no deps).

    python3 fault_server.py MODE

It speaks just enough of the handshake era: `server/discover` gets -32601
(like server-everything, so the client falls back to `initialize`),
`initialize` is answered with the requested version, `ping` and `tools/list`
work. `tools/call` of the tool `ok` always answers `{"text": "ok: <args>"}`;
`tools/call` of `noisy` writes garbage lines and then answers properly;
`typed` has an outputSchema and breaks it when called with `{"lie": true}`;
each `tool=NAME` argument after MODE adds a tool NAME answering `NAME: <args>`;
`tools/call` of `bad` misbehaves according to MODE:

    good        answers like `ok`
    garbage     writes non-JSON-RPC lines and never answers
    oversized   answers with a single 1 MiB line (correct id; last with
                `{"id_last": true}`)
    unknown_id  answers with an id nobody asked for
    broken_result  answers in the compact shape with the right id, but the
                result inside is not JSON
    silent      never answers
    exit        writes a last word to stderr and exits with status 3
    stubborn    like `silent`, and ignores SIGTERM and stdin EOF (only SIGKILL ends it)
    spawner     like `good`, after starting a grandchild `sleep 300` in its process group
    mute        answers nothing at all, not even `initialize`
    escapes     answers text full of terminal control sequences (OSC 52
                clipboard write, title, clear screen), and `bad`'s
                description has them too
    stderr_flood  writes one stderr line of `{"mib": N}` MiB (default 256),
                then `fault_server: flood over`, then answers like `ok`
    endless     starts the reply (right id) and never ends its line: 200 MiB
                of text, then silence
    garbage_flood  writes `{"lines": N}` (default 100000) non-JSON lines, then
                answers like `ok`
    ping_flood  sends `{"pings": N}` (default 500000) pings without reading our
                answers meanwhile, then answers like `ok`
    many_pages  `many_pages PAGES PER DESC`: tools/list is PAGES pages of PER
                tools, each with a DESC-byte description
    nested_id   sends a 256 KiB notification whose params carry `"id"` equal
                to the call's id (near the start), then answers like `ok`

Every `notifications/cancelled` is reported on stderr as
`fault_server: cancelled request <id>` so tests can see it arrived.

Every line this script writes to stdout is one JSON-RPC message (or, on
purpose, garbage).
"""

import json
import os
import signal
import subprocess
import sys
import time

MODE = sys.argv[1] if len(sys.argv) > 1 else "good"
# `tool=NAME` arguments add tools that answer "NAME: <args>".
EXTRA_TOOLS = [a[len("tool="):] for a in sys.argv[2:] if a.startswith("tool=")]


def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def result(msg_id, res):
    send({"jsonrpc": "2.0", "id": msg_id, "result": res})


def error(msg_id, code, message):
    send({"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}})


def text_result(msg_id, text):
    result(msg_id, {"content": [{"type": "text", "text": text}], "isError": False})


def garbage():
    sys.stdout.write("this is not JSON at all\n")
    sys.stdout.write("{\"jsonrpc\": \"2.0\", \"id\": \n")
    sys.stdout.write("[1, 2, 3\n")
    sys.stdout.write("\x00\x01 binary-ish junk \xff\n")
    sys.stdout.flush()


def hang_forever():
    while True:
        time.sleep(3600)


ESCAPES = "\x1b]52;c;aGVsbG8=\x07\x1b]0;owned\x07\x1b[2J\r"


def misbehave(msg_id, args):
    if MODE in ("good", "spawner"):
        text_result(msg_id, "ok: " + json.dumps(args, sort_keys=True))
    elif MODE == "escapes":
        text_result(msg_id, ESCAPES + "hello")
    elif MODE == "stderr_flood":
        chunk = b"x" * (1024 * 1024)
        for _ in range(int(args.get("mib", 256))):
            sys.stderr.buffer.write(chunk)
        sys.stderr.buffer.write(b"\nfault_server: flood over\n")
        sys.stderr.flush()
        text_result(msg_id, "flooded")
    elif MODE == "garbage":
        garbage()
    elif MODE == "endless":
        sys.stdout.write('{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":"'
                         % json.dumps(msg_id))
        chunk = "x" * (1024 * 1024)
        for _ in range(200):
            sys.stdout.write(chunk)
        sys.stdout.flush()
        hang_forever()
    elif MODE == "garbage_flood":
        n = int(args.get("lines", 100_000))
        junk = "not JSON-RPC, line %d\n"
        for start in range(0, n, 1000):
            sys.stdout.write("".join(junk % i for i in range(start, min(n, start + 1000))))
        sys.stdout.flush()
        text_result(msg_id, "ok: " + json.dumps(args, sort_keys=True))
    elif MODE == "ping_flood":
        n = int(args.get("pings", 500_000))
        ping = '{"jsonrpc":"2.0","id":"p%d","method":"ping"}\n'
        for start in range(0, n, 1000):
            sys.stdout.write("".join(ping % i for i in range(start, min(n, start + 1000))))
        sys.stdout.flush()
        text_result(msg_id, "ok: " + json.dumps(args, sort_keys=True))
    elif MODE == "nested_id":
        send({"jsonrpc": "2.0", "method": "notifications/message",
              "params": {"level": "info", "data": {"id": msg_id, "blob": "x" * (256 * 1024)}}})
        text_result(msg_id, "ok: " + json.dumps(args, sort_keys=True))
    elif MODE == "oversized":
        big = {"content": [{"type": "text", "text": "x" * (1024 * 1024)}]}
        if args.get("id_last"):
            # The TypeScript SDK's order: the id comes after the result.
            reply = {"result": big, "jsonrpc": "2.0", "id": msg_id}
        else:
            reply = {"jsonrpc": "2.0", "id": msg_id, "result": big}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    elif MODE == "broken_result":
        sys.stdout.write('{"jsonrpc":"2.0","id":%s,"result":{"content":[{"type":"text","text":}]}}\n'
                         % json.dumps(msg_id))
        sys.stdout.flush()
    elif MODE == "unknown_id":
        text_result(msg_id + 1_000_000 if isinstance(msg_id, int) else "nobody-" + str(msg_id), "misdirected")
    elif MODE in ("silent", "stubborn"):
        pass
    elif MODE == "exit":
        sys.stderr.write("fault_server: about to crash\n")
        sys.stderr.write("fault_server: fatal: simulated crash during tools/call\n")
        sys.stderr.flush()
        os._exit(3)
    else:
        error(msg_id, -32603, "unknown fault mode " + MODE)


TOOLS = [
    {"name": n, "description": d, "inputSchema": {"type": "object"}}
    for n, d in [("ok", "always answers"), ("noisy", "garbage, then an answer"),
                 ("bad", (ESCAPES if MODE == "escapes" else "") + "misbehaves: " + MODE)]
] + [{
    "name": "typed",
    "description": "structured output; {\"lie\": true} breaks its own outputSchema",
    "inputSchema": {"type": "object", "properties": {"lie": {"type": "boolean"}}},
    "outputSchema": {"type": "object", "properties": {"sum": {"type": "integer"}}, "required": ["sum"]},
}] + [{"name": n, "description": "named on the command line", "inputSchema": {"type": "object"}}
      for n in EXTRA_TOOLS]


def handle(msg):
    method = msg.get("method")
    msg_id = msg.get("id")
    params = msg.get("params") or {}
    if MODE == "mute":
        return
    if msg_id is None:
        if method == "notifications/cancelled":
            sys.stderr.write("fault_server: cancelled request %s\n" % json.dumps(params.get("requestId")))
            sys.stderr.flush()
        return  # notifications: initialized, cancelled, ...
    if method is None:
        return  # a response to something we never sent
    if method == "server/discover":
        error(msg_id, -32601, "Method not found")
    elif method == "initialize":
        result(msg_id, {
            "protocolVersion": params.get("protocolVersion", "2025-11-25"),
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "fault-server-" + MODE, "version": "0.0.1"},
        })
    elif method == "ping":
        result(msg_id, {})
    elif method == "tools/list" and MODE == "many_pages":
        pages, per, desc = (int(a) for a in sys.argv[2:5])
        page = int(params.get("cursor") or 0)
        tools = [{"name": "t%d_%d" % (page, i), "description": "d" * desc,
                  "inputSchema": {"type": "object"}} for i in range(per)]
        res = {"tools": tools}
        if page + 1 < pages:
            res["nextCursor"] = str(page + 1)
        result(msg_id, res)
    elif method == "tools/list":
        result(msg_id, {"tools": TOOLS})
    elif method == "tools/call":
        name = params.get("name")
        args = params.get("arguments") or {}
        if name == "ok":
            text_result(msg_id, "ok: " + json.dumps(args, sort_keys=True))
        elif name == "noisy":
            garbage()
            text_result(msg_id, "noisy but fine")
        elif name == "bad":
            misbehave(msg_id, args)
        elif name in EXTRA_TOOLS:
            text_result(msg_id, name + ": " + json.dumps(args, sort_keys=True))
        elif name == "typed":
            value = {"sum": "three"} if args.get("lie") else {"sum": 3}
            result(msg_id, {"content": [{"type": "text", "text": json.dumps(value)}],
                            "structuredContent": value, "isError": False})
        else:
            error(msg_id, -32602, "Unknown tool: " + str(name))
    else:
        error(msg_id, -32601, "Method not found")


def main():
    if MODE == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if MODE == "spawner":
        # Same process group (no new session): only a group kill reaches it.
        child = subprocess.Popen(["sleep", "300"], stdin=subprocess.DEVNULL,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sys.stderr.write("fault_server: grandchild pid %d\n" % child.pid)
        sys.stderr.flush()
    sys.stderr.write("fault_server: mode %s ready\n" % MODE)
    sys.stderr.flush()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if isinstance(msg, dict):
            handle(msg)
    # stdin closed.
    if MODE == "stubborn":
        hang_forever()


if __name__ == "__main__":
    main()
