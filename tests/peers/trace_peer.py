"""MCP Python SDK (mcp 2.3.x) peer for SEP-414 trace context: the SDK reads
W3C `traceparent`/`tracestate`/`baggage` from every request's `_meta` into an
OpenTelemetry context, and injects the current one into what it sends. Only
opentelemetry-api is installed (as with a plain `pip install mcp`): spans do
not record, but the propagated context is what the handler sees as current.

    python trace_peer.py server
        stdio MCPServer with tool `trace_seen`: the OpenTelemetry context the
        SDK extracted from the call's `_meta`, as one JSON object
        {"trace_id", "span_id" (32/16 hex digits, "" when none), "sampled",
        "tracestate", "baggage"}.

    python trace_peer.py client URL TRACEPARENT TRACESTATE BAGGAGE MODE TOOL
        mcp.Client(URL) (MODE "auto": 2026-07-28 after server/discover;
        "legacy": initialize) calls TOOL {} inside the given context, attached
        as the current one. Prints one JSON line: {"ok": true, "text": the
        tool's text} or {"ok": false, "error": "..."}. At most 20 s.
"""

from __future__ import annotations

import asyncio
import json
import sys


def serve() -> None:
    from mcp.server.mcpserver import MCPServer
    from opentelemetry import baggage, trace

    mcp = MCPServer("switchboard-trace-peer", version="1.0.0", log_level="WARNING")

    @mcp.tool()
    def trace_seen() -> str:
        """The trace context this call arrived in."""
        span = trace.get_current_span().get_span_context()
        valid = span.is_valid
        return json.dumps(
            {
                "trace_id": format(span.trace_id, "032x") if valid else "",
                "span_id": format(span.span_id, "016x") if valid else "",
                "sampled": bool(span.trace_flags.sampled) if valid else False,
                "tracestate": span.trace_state.to_header() if valid else "",
                "baggage": dict(baggage.get_all()),
            },
            sort_keys=True,
        )

    mcp.run("stdio")


async def call(url: str, parent: str, state: str, bag: str, mode: str, tool: str) -> dict:
    from mcp import Client
    from opentelemetry import context
    from opentelemetry.propagate import extract

    # The caller's context, as a W3C carrier would bring it in.
    carrier = {"traceparent": parent}
    if state:
        carrier["tracestate"] = state
    if bag:
        carrier["baggage"] = bag
    token = context.attach(extract(carrier))
    try:
        async with Client(url, mode=mode, read_timeout_seconds=15) as client:
            result = await client.call_tool(tool, {})
            text = "".join(getattr(b, "text", "") for b in result.content)
            if result.is_error:
                return {"ok": False, "error": f"isError: {text}"}
            return {"ok": True, "text": text}
    finally:
        context.detach(token)


def main() -> None:
    if sys.argv[1:2] == ["server"]:
        serve()
        return
    if len(sys.argv) != 8 or sys.argv[1] != "client":
        sys.exit(__doc__)
    try:
        out = asyncio.run(asyncio.wait_for(call(*sys.argv[2:]), 20))
    except BaseException as e:  # one JSON line whatever happened
        out = {"ok": False, "error": f"{type(e).__name__}: {e}"}
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
