#!/usr/bin/env python3
"""Hand driver for MCP servers over stdio: newline-delimited JSON-RPC, every
message printed (`>>` sent, `<<` received).

    python drive.py fastmcp   [--era modern|handshake|both]
    python drive.py rounds    [--era ...]
    python drive.py everything [--era ...]     # plus a pre-initialize server/discover probe
    python drive.py raw -- CMD ARGS...          # send JSON lines typed on stdin, print replies

Paths come from .peers/env.sh (SWITCHBOARD_PYTHON, SWITCHBOARD_EVERYTHING) or
default to <repo>/.peers. Server->client requests (roots/list,
sampling/createMessage, elicitation/create) and MRTR `inputRequests` are
answered with canned replies (see `answer_input`).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
PEERS = Path(os.environ.get("SWITCHBOARD_PEERS", REPO / ".peers"))
PYTHON = os.environ.get("SWITCHBOARD_PYTHON", str(PEERS / "venv/bin/python"))
EVERYTHING = os.environ.get(
    "SWITCHBOARD_EVERYTHING",
    str(PEERS / "node/node_modules/@modelcontextprotocol/server-everything/dist/index.js"),
)

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
CLIENT_INFO = {"name": "x", "version": "1"}
CAPS = {"sampling": {}, "elicitation": {"form": {}}, "roots": {}}
LEGACY_CAPS = {"sampling": {}, "elicitation": {"form": {}, "url": {}}, "roots": {"listChanged": True}}
ROOTS = [{"uri": "file:///work/main", "name": "main"}, {"uri": "file:///tmp", "name": "tmp"}]

MAX_CHARS = int(os.environ.get("DRIVE_MAX_CHARS", "1500"))


def show(prefix: str, msg: object) -> None:
    text = json.dumps(msg, separators=(",", ":"))
    if len(text) > MAX_CHARS:
        text = text[:MAX_CHARS] + f"...<{len(text)} chars>"
    print(f"{prefix} {text}", flush=True)


def canned_value(schema: dict):
    """A value that satisfies one flat elicitation-schema property."""
    if "default" in schema:
        return schema["default"]
    t = schema.get("type")
    if t == "array":
        items = schema.get("items", {})
        opts = items.get("enum") or [o["const"] for o in items.get("anyOf", [])]
        return opts[:1]
    if "enum" in schema:
        return schema["enum"][0]
    if "oneOf" in schema:
        return schema["oneOf"][0]["const"]
    if t == "integer":
        return int(schema.get("minimum", 42))
    if t == "number":
        return schema.get("minimum", 4.2)
    if t == "boolean":
        return True
    return {"email": "ada@example.com", "uri": "https://example.com/ada", "date": "1990-01-01",
            "date-time": "1990-01-01T00:00:00Z"}.get(schema.get("format"), "Ada")


def answer_input(method: str, params: dict | None) -> dict:
    """Canned answer to a sampling / elicitation / roots request (either era)."""
    params = params or {}
    if method == "sampling/createMessage":
        return {
            "role": "assistant",
            "content": {"type": "text", "text": "sampled: 42"},
            "model": "drive-canned",
            "stopReason": "endTurn",
        }
    if method == "elicitation/create":
        if params.get("mode") == "url":
            return {"action": "accept"}
        props = (params.get("requestedSchema") or {}).get("properties", {})
        return {"action": "accept", "content": {k: canned_value(v) for k, v in props.items()}}
    if method == "roots/list":
        return {"roots": ROOTS}
    raise ValueError(f"no canned answer for {method}")


class Peer:
    def __init__(self, cmd: list[str], era: str):
        self.era = era
        self.next_id = 0
        show("$", cmd)
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
        )
        self.inbox: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._stderr, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout
        for line in self.proc.stdout:
            line = line.strip()
            if not line:
                continue
            try:
                self.inbox.put(json.loads(line))
            except json.JSONDecodeError:
                print(f"!! non-JSON on stdout: {line[:200]}", flush=True)
        self.inbox.put(None)

    def _stderr(self) -> None:
        assert self.proc.stderr
        for line in self.proc.stderr:
            if os.environ.get("DRIVE_STDERR"):
                print(f"stderr: {line.rstrip()}", flush=True)

    def send(self, msg: dict) -> None:
        show(">>", msg)
        assert self.proc.stdin
        try:
            self.proc.stdin.write(json.dumps(msg) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            sys.exit(f"!! server is gone (exit {self.proc.poll()}); rerun with DRIVE_STDERR=1")

    def meta(self, extra: dict | None = None) -> dict:
        m = {}
        if self.era == "modern":
            m = {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": CAPS,
                "io.modelcontextprotocol/clientInfo": CLIENT_INFO,
            }
        m.update(extra or {})
        return m

    def request(self, method: str, params: dict | None = None, meta: dict | None = None, timeout: float = 10.0):
        """Send a request; print everything until its response; return the response (or None on timeout)."""
        params = dict(params or {})
        m = self.meta(meta)
        if m:
            params["_meta"] = {**m, **params.get("_meta", {})}
        self.next_id += 1
        rid = self.next_id
        msg = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params or self.era == "modern":
            msg["params"] = params
        self.send(msg)
        return self.wait_for(rid, timeout)

    def notify(self, method: str, params: dict | None = None) -> None:
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    def wait_for(self, rid, timeout: float):
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                print(f"!! no response to id {rid} within {timeout}s", flush=True)
                return None
            try:
                msg = self.inbox.get(timeout=left)
            except queue.Empty:
                continue
            if msg is None:
                print(f"!! server closed stdout (exit {self.proc.poll()})", flush=True)
                return None
            show("<<", msg)
            if "method" in msg and "id" in msg:  # server->client request (handshake era)
                self.answer_server_request(msg)
                continue
            if msg.get("id") == rid and "method" not in msg:
                return msg

    def answer_server_request(self, msg: dict) -> None:
        """Answer a server->client request (handshake era) with a canned reply."""
        if msg["method"] == "ping":
            self.send({"jsonrpc": "2.0", "id": msg["id"], "result": {}})
            return
        try:
            result = answer_input(msg["method"], msg.get("params"))
        except ValueError:
            self.send({"jsonrpc": "2.0", "id": msg["id"], "error": {"code": -32601, "message": "not supported"}})
            return
        self.send({"jsonrpc": "2.0", "id": msg["id"], "result": result})

    def drain(self, secs: float = 0.3) -> None:
        end = time.monotonic() + secs
        while (left := end - time.monotonic()) > 0:
            try:
                msg = self.inbox.get(timeout=left)
            except queue.Empty:
                return
            if msg is None:
                return
            show("<<", msg)
            if "method" in msg and "id" in msg:
                self.answer_server_request(msg)

    def call(self, method: str, params: dict, meta: dict | None = None, rounds: int = 5):
        """tools/call (etc.) with the MRTR loop: answer inputRequests, echo requestState, new id."""
        resp = self.request(method, params, meta)
        for _ in range(rounds):
            result = (resp or {}).get("result") or {}
            if result.get("resultType") != "input_required":
                return resp
            retry = dict(params)
            if "inputRequests" in result:
                retry["inputResponses"] = {
                    k: answer_input(r["method"], r.get("params")) for k, r in result["inputRequests"].items()
                }
            if "requestState" in result:
                retry["requestState"] = result["requestState"]
            print("-- input_required: retrying with inputResponses/requestState under a new id", flush=True)
            resp = self.request(method, retry, meta)
        return resp

    def start(self) -> None:
        if self.era == "modern":
            print("== server/discover", flush=True)
            self.request("server/discover")
        else:
            print("== initialize", flush=True)
            self.request(
                "initialize",
                {"protocolVersion": LEGACY, "capabilities": LEGACY_CAPS, "clientInfo": CLIENT_INFO},
            )
            self.notify("notifications/initialized")
            self.drain(0.5)

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()
        try:
            self.proc.wait(3)
        except subprocess.TimeoutExpired:
            self.proc.terminate()
            try:
                self.proc.wait(3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        print(f"== exit {self.proc.returncode}", flush=True)


def logs_meta(era: str) -> dict:
    return {"io.modelcontextprotocol/logLevel": "debug"} if era == "modern" else {}


def scenario_fastmcp(era: str) -> None:
    p = Peer([PYTHON, str(HERE / "fastmcp_server.py")], era)
    if era == "modern":
        print("== server/discover with an unsupported version (expect -32022)", flush=True)
        p.request("server/discover", meta={"io.modelcontextprotocol/protocolVersion": "2099-01-01"})
        print("== tools/list with params but no _meta", flush=True)
        p.era = "raw"
        p.request("tools/list", {})
        p.era = "modern"
    p.start()
    if era == "handshake":
        print("== tools/call log BEFORE logging/setLevel", flush=True)
        p.call("tools/call", {"name": "log", "arguments": {"message": "before-setLevel"}})
        print("== logging/setLevel (handshake-era opt-in)", flush=True)
        p.request("logging/setLevel", {"level": "debug"})
    for m in ("tools/list", "resources/list", "resources/templates/list", "prompts/list"):
        print(f"== {m}", flush=True)
        p.request(m)
    print("== tools/call add", flush=True)
    p.call("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}})
    print("== tools/call fail", flush=True)
    p.call("tools/call", {"name": "fail", "arguments": {"message": "boom"}})
    print("== tools/call image", flush=True)
    p.call("tools/call", {"name": "image", "arguments": {}})
    print("== tools/call slow (with progressToken)", flush=True)
    p.call("tools/call", {"name": "slow", "arguments": {"steps": 3}}, meta={"progressToken": "tok-1"})
    print("== tools/call log" + (" (with _meta logLevel=debug)" if era == "modern" else ""), flush=True)
    p.call("tools/call", {"name": "log", "arguments": {"message": "hi"}}, meta=logs_meta(era))
    if era == "modern":
        print("== tools/call log WITHOUT logLevel (expect no notifications/message)", flush=True)
        p.call("tools/call", {"name": "log", "arguments": {"message": "quiet"}})
    print("== tools/call echo", flush=True)
    p.call("tools/call", {"name": "echo", "arguments": {"text": "hello"}})
    print("== tools/call add with a bad argument", flush=True)
    p.call("tools/call", {"name": "add", "arguments": {"a": "x", "b": 3}})
    print("== tools/call unknown tool", flush=True)
    p.call("tools/call", {"name": "nope", "arguments": {}})
    for uri in ("data://greeting", "data://blob", "greet://Ada"):
        print(f"== resources/read {uri}", flush=True)
        p.call("resources/read", {"uri": uri})
    print("== prompts/get review", flush=True)
    p.call("prompts/get", {"name": "review", "arguments": {"code": "fn main() {}"}})
    print("== prompts/get plain", flush=True)
    p.call("prompts/get", {"name": "plain"})
    p.close()


def scenario_rounds(era: str) -> None:
    p = Peer([PYTHON, str(HERE / "rounds_server.py")], era)
    p.start()
    print("== tools/list", flush=True)
    p.request("tools/list")
    for tool in ("ask_sampling", "ask_elicitation", "ask_roots"):
        print(f"== tools/call {tool}", flush=True)
        p.call("tools/call", {"name": tool, "arguments": {}})
    if era == "modern":
        print("== tools/call ask_roots WITHOUT the roots capability (expect -32021)", flush=True)
        saved = dict(CAPS)
        CAPS.pop("roots")
        p.call("tools/call", {"name": "ask_roots", "arguments": {}})
        CAPS.update(saved)
        print("== tools/call ask_elicitation answered with decline", flush=True)
        resp = p.request("tools/call", {"name": "ask_elicitation", "arguments": {}})
        r = resp["result"]
        key = next(iter(r["inputRequests"]))
        p.request(
            "tools/call",
            {"name": "ask_elicitation", "arguments": {}, "inputResponses": {key: {"action": "decline"}},
             "requestState": r.get("requestState")} if r.get("requestState") else
            {"name": "ask_elicitation", "arguments": {}, "inputResponses": {key: {"action": "decline"}}},
        )
        print("== tools/call ask_sampling retried WITHOUT requestState", flush=True)
        resp = p.request("tools/call", {"name": "ask_sampling", "arguments": {}})
        key = next(iter(resp["result"]["inputRequests"]))
        ans = {key: answer_input("sampling/createMessage", None)}
        p.request("tools/call", {"name": "ask_sampling", "arguments": {}, "inputResponses": ans})
        print("== tools/call ask_sampling retried with a TAMPERED requestState", flush=True)
        p.request("tools/call", {"name": "ask_sampling", "arguments": {}, "inputResponses": ans,
                                 "requestState": resp["result"]["requestState"][:-4] + "AAAA"})
    p.close()


def scenario_everything(era: str) -> None:
    p = Peer(["node", EVERYTHING, "stdio"], "handshake")
    if era == "modern":
        print("== server/discover BEFORE initialize (era probe)", flush=True)
        p.era = "modern"
        p.request("server/discover", timeout=5)
        p.era = "handshake"
    p.start()
    for m in ("tools/list", "resources/list", "resources/templates/list", "prompts/list"):
        print(f"== {m}", flush=True)
        p.request(m)
    print("== ping", flush=True)
    p.request("ping")
    for tool, args in (
        ("echo", {"message": "hi"}),
        ("get-sum", {"a": 2, "b": 3}),
        ("get-tiny-image", {}),
        ("get-structured-content", {"location": "Chicago"}),
        ("get-annotated-message", {"messageType": "error"}),
        ("get-resource-links", {"count": 2}),
        ("get-resource-reference", {"resourceType": "Blob", "resourceId": 2}),
        ("echo", {}),  # invalid arguments
        ("nope", {}),  # unknown tool
        ("simulate-research-query", {"topic": "x"}),  # taskSupport=required, called without a task
    ):
        print(f"== tools/call {tool} {json.dumps(args)}", flush=True)
        p.call("tools/call", {"name": tool, "arguments": args})
    print("== tools/call trigger-long-running-operation (progressToken)", flush=True)
    p.call("tools/call", {"name": "trigger-long-running-operation", "arguments": {"duration": 1, "steps": 3}},
           meta={"progressToken": "tok-e"})
    print("== logging/setLevel", flush=True)
    p.request("logging/setLevel", {"level": "debug"})
    for tool, args in (
        ("trigger-sampling-request", {"prompt": "hi", "maxTokens": 10}),
        ("trigger-elicitation-request", {}),
        ("trigger-url-elicitation", {"url": "https://example.com/consent"}),
        ("trigger-url-elicitation", {"url": "https://example.com/other", "errorPath": True}),
        ("get-roots-list", {}),
    ):
        print(f"== tools/call {tool} {json.dumps(args)}", flush=True)
        p.call("tools/call", {"name": tool, "arguments": args})
    for uri in ("demo://resource/dynamic/text/1", "demo://resource/dynamic/blob/1",
                "demo://resource/static/document/features.md", "demo://nope"):
        print(f"== resources/read {uri}", flush=True)
        p.call("resources/read", {"uri": uri})
    for name, args in (("simple-prompt", None), ("args-prompt", {"city": "Paris"}),
                       ("resource-prompt", {"resourceType": "Text", "resourceId": "1"}), ("args-prompt", {})):
        print(f"== prompts/get {name} {json.dumps(args)}", flush=True)
        p.call("prompts/get", {"name": name, **({"arguments": args} if args is not None else {})})
    print("== completion/complete", flush=True)
    p.request("completion/complete", {"ref": {"type": "ref/prompt", "name": "completable-prompt"},
                                      "argument": {"name": "department", "value": "E"}})
    p.drain(0.5)
    p.close()


def raw(cmd: list[str]) -> None:
    p = Peer(cmd, "raw")
    for line in sys.stdin:
        line = line.strip()
        if line:
            msg = json.loads(line)
            p.send(msg)
            if "id" in msg and "method" in msg:
                p.wait_for(msg["id"], 10)
            else:
                p.drain(0.3)
    p.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("target", choices=["fastmcp", "rounds", "everything", "raw"])
    ap.add_argument("--era", choices=["modern", "handshake", "both"], default="both")
    ap.add_argument("cmd", nargs="*")
    a = ap.parse_args()
    if a.target == "raw":
        raw(a.cmd)
        return
    fn = {"fastmcp": scenario_fastmcp, "rounds": scenario_rounds, "everything": scenario_everything}[a.target]
    for era in (["modern", "handshake"] if a.era == "both" else [a.era]):
        print(f"########## {a.target}: {era} era", flush=True)
        fn(era)


if __name__ == "__main__":
    main()
