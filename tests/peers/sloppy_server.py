"""A server with one of each mistake `switchboard check` looks for (plain python3, no deps).

    python3 sloppy_server.py

Handshake era only (`server/discover` gets -32601). What is wrong with it,
on purpose, one mistake per check:

- prints a banner on stdout before anything else (stdio.stdout);
- echoes any protocolVersion in `initialize`, even 2099-01-01 (negotiation.fallback);
- does not declare `prompts` but answers prompts/list with one (capabilities.consistent);
- declares `completions` but answers completion/complete with `{}` (capabilities.completions);
- tools/list: a name of 70 characters and one with a space (tools.name), `dup`
  twice (tools.unique), `stringly` whose inputSchema has type "string"
  (tools.input-schema), `shaky` whose outputSchema does not compile
  (tools.output-schema), `liar` that says readOnly and destructive at once
  (tools.annotations) and whose structuredContent breaks its outputSchema
  (tools.structured);
- resources/list pages forever: every page hands back the same cursor
  (pagination.terminates), and lists `not a uri` (resources.uri) whose read fails
  (resources.read); a template `files://{path` (resources.template);
- an unknown tool succeeds (errors.unknown-tool), `needs` succeeds without its
  required argument (errors.bad-arguments), an unknown method gets `{}`
  (errors.unknown-method), ping gets -32603 (errors.ping);
- ignores stdin closing: it keeps running until killed (stdio.exit).
"""

import json
import signal
import sys
import time

signal.signal(signal.SIGTERM, signal.SIG_IGN)


def send(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


OBJ = {"type": "object"}
TOOLS = [
    {"name": "t" * 70, "inputSchema": OBJ},
    {"name": "has space", "inputSchema": OBJ},
    {"name": "dup", "inputSchema": OBJ},
    {"name": "dup", "inputSchema": OBJ},
    {"name": "stringly", "inputSchema": {"type": "string"}},
    {"name": "shaky", "inputSchema": OBJ, "outputSchema": {"type": "object", "properties": {"n": {"type": 42}}}},
    {"name": "liar", "inputSchema": OBJ, "annotations": {"readOnlyHint": True, "destructiveHint": True},
     "outputSchema": {"type": "object", "properties": {"sum": {"type": "integer"}}, "required": ["sum"]}},
    {"name": "needs", "inputSchema": {"type": "object", "properties": {"x": {"type": "string"}}, "required": ["x"]},
     "annotations": {"destructiveHint": True}},
]


def answer(msg):
    method, msg_id, params = msg.get("method"), msg.get("id"), msg.get("params") or {}
    if msg_id is None:
        return
    def ok(result):
        send({"jsonrpc": "2.0", "id": msg_id, "result": result})
    def err(code, message):
        send({"jsonrpc": "2.0", "id": msg_id, "error": {"code": code, "message": message}})
    if method == "server/discover":
        err(-32601, "Method not found")
    elif method == "initialize":
        ok({"protocolVersion": params.get("protocolVersion"), "capabilities": {"tools": {}, "resources": {}, "completions": {}},
            "serverInfo": {"name": "sloppy", "version": "0.0.1"}})
    elif method == "ping":
        err(-32603, "ping is not my thing")
    elif method == "tools/list":
        ok({"tools": TOOLS})
    elif method == "tools/call":
        if params.get("name") == "liar":
            ok({"content": [{"type": "text", "text": "{\"sum\": \"three\"}"}], "structuredContent": {"sum": "three"}})
        else:
            ok({"content": [{"type": "text", "text": "done"}]})
    elif method == "resources/list":
        ok({"resources": [{"uri": "not a uri", "name": "broken"}], "nextCursor": "again"})
    elif method == "resources/templates/list":
        ok({"resourceTemplates": [{"uriTemplate": "files://{path", "name": "files"}]})
    elif method == "resources/read":
        err(-32002, "nothing here")
    elif method == "prompts/list":
        ok({"prompts": [{"name": "hidden"}]})
    else:
        ok({})


print("sloppy server starting up, hello!")
sys.stdout.flush()
for line in sys.stdin:
    try:
        answer(json.loads(line))
    except ValueError:
        pass
# stdin closed: stay anyway, as a careless server does.
while True:
    time.sleep(3600)
