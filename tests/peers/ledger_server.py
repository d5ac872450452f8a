"""FastMCP 4 peer that keeps a ledger of what it ran, for the replay and
fan-out tests (tests/replay_stdio.rs, tests/fleet_fan_out.rs).

    python ledger_server.py --ledger FILE [--name NAME] [--delay-ms MS] [--fail]

Every line it appends to FILE (opened in append mode for each line, so the
file outlives the process and its restarts) is one event, space-separated:

    boot <name> <pid>                the process started
    start <name> <tool> <key> <pid>  a call began running
    done <name> <tool> <key> <pid>   a call finished
    cancelled <name> <tool> <key> <pid>  a call was cancelled (the client's
                                     notifications/cancelled reached it)

Tools (each sleeps `ms` milliseconds, default --delay-ms, then answers
"<tool> <key> by <name>"):
    lookup(key, ms)   readOnlyHint: true
    store(key, ms)    idempotentHint: true, readOnlyHint: false
    charge(key, ms)   destructiveHint: true, readOnlyHint: false
    note(key, ms)     no annotations
    work(key, ms)     readOnlyHint: true (the fan-out tests' tool); with
                      --fail it answers a tool error (isError) after its delay

A resource `ledger://name` reads as the server's name.
"""

from __future__ import annotations

import argparse
import asyncio
import os

os.environ.setdefault("FASTMCP_SHOW_SERVER_BANNER", "false")
os.environ.setdefault("FASTMCP_LOG_LEVEL", "WARNING")
os.environ.setdefault("FASTMCP_CHECK_FOR_UPDATES", "off")

from fastmcp import FastMCP  # noqa: E402
from fastmcp.exceptions import ToolError  # noqa: E402
from mcp.types import ToolAnnotations  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--ledger", required=True)
parser.add_argument("--name", default="ledger")
parser.add_argument("--delay-ms", type=int, default=0)
parser.add_argument("--fail", action="store_true")
ARGS = parser.parse_args()

mcp = FastMCP("switchboard-ledger-peer", version="1.0.0")


def record(*words: object) -> None:
    with open(ARGS.ledger, "a", encoding="utf-8") as f:
        f.write(" ".join(str(w) for w in words) + "\n")
        f.flush()
        os.fsync(f.fileno())


async def run(tool: str, key: str, ms: int | None) -> str:
    delay = ARGS.delay_ms if ms is None else ms
    record("start", ARGS.name, tool, key, os.getpid())
    try:
        await asyncio.sleep(delay / 1000)
    except asyncio.CancelledError:
        record("cancelled", ARGS.name, tool, key, os.getpid())
        raise
    record("done", ARGS.name, tool, key, os.getpid())
    return f"{tool} {key} by {ARGS.name}"


@mcp.tool(annotations=ToolAnnotations(readOnlyHint=True))
async def lookup(key: str, ms: int | None = None) -> str:
    """Reads (sleeps `ms`); changes nothing."""
    return await run("lookup", key, ms)


@mcp.tool(annotations=ToolAnnotations(readOnlyHint=False, idempotentHint=True, destructiveHint=False))
async def store(key: str, ms: int | None = None) -> str:
    """Writes the same thing however often it is called."""
    return await run("store", key, ms)


@mcp.tool(annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True, idempotentHint=False))
async def charge(key: str, ms: int | None = None) -> str:
    """Charges once per call: never to be repeated blindly."""
    return await run("charge", key, ms)


@mcp.tool
async def note(key: str, ms: int | None = None) -> str:
    """No annotations at all."""
    return await run("note", key, ms)


@mcp.tool(annotations=ToolAnnotations(readOnlyHint=True))
async def work(key: str, ms: int | None = None) -> str:
    """Sleeps --delay-ms (or `ms`), then answers with the server's name."""
    answer = await run("work", key, ms)
    if ARGS.fail:
        raise ToolError(f"work {key} failed on {ARGS.name}")
    return answer


@mcp.resource("ledger://name")
def name() -> str:
    """The server's name."""
    return ARGS.name


if __name__ == "__main__":
    record("boot", ARGS.name, os.getpid())
    mcp.run(show_banner=False)
