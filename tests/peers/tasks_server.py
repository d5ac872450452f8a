"""A real server side of the MCP tasks extension (SEP-2663) for Switchboard's
tests: PyPI `fastmcp` 4.1.4 with `fastmcp-tasks` 4.1.4, in their own venv
(`.peers/tasks-venv`, see .ci/install-peers.sh).

    python tasks_server.py --events FILE              # stdio
    python tasks_server.py --events FILE --http PORT  # Streamable HTTP on 127.0.0.1:PORT, /mcp

Every task writes what happened to it to FILE, one line each, so a test can
see the server's side: `start TAG`, `step TAG N`, `cancelled TAG`,
`done TAG`. The tasks extension is served at 2026-07-28 only (fastmcp-tasks
gates it on the era); tasks live in the process (docket's `memory://`), so a
killed server forgets them.

Tools:
- `research(tag, steps=5, step_ms=1000)`: optional task mode, polled every
  200 ms; reports progress (and a status message) after each step.
- `build(tag, steps=3, step_ms=500)`: required task mode (a call that does
  not declare the extension gets -32021).
- `echo_task(text)`: optional task mode that finishes at once (for the
  overhead of a task round).
- `echo(text)`: a plain tool, never a task.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from datetime import timedelta

os.environ.setdefault("FASTMCP_SHOW_SERVER_BANNER", "false")
os.environ.setdefault("FASTMCP_LOG_LEVEL", "WARNING")
os.environ.setdefault("FASTMCP_CHECK_FOR_UPDATES", "off")

from fastmcp import Context, FastMCP  # noqa: E402
from fastmcp.utilities.tasks import TaskConfig  # noqa: E402
from fastmcp_tasks import TasksExtension  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--events", required=True)
ap.add_argument("--http", type=int)
args = ap.parse_args()

mcp = FastMCP("switchboard-tasks-peer", version="1.0.0")
mcp.add_extension(TasksExtension(url="memory://"))

POLL = timedelta(milliseconds=200)


def event(line: str) -> None:
    with open(args.events, "a") as f:
        f.write(line + "\n")
        f.flush()


async def steps_of(tag: str, steps: int, step_ms: int, ctx: Context) -> str:
    event(f"start {tag}")
    try:
        for n in range(1, steps + 1):
            await asyncio.sleep(step_ms / 1000)
            event(f"step {tag} {n}")
            await ctx.report_progress(n, steps, f"step {n} of {steps}")
    except asyncio.CancelledError:
        event(f"cancelled {tag}")
        raise
    event(f"done {tag}")
    return f"{tag}: {steps} steps"


@mcp.tool(task=TaskConfig(mode="optional", poll_interval=POLL))
async def research(tag: str, ctx: Context, steps: int = 5, step_ms: int = 1000) -> str:
    """Works for `steps` steps of `step_ms` each, reporting progress."""
    return await steps_of(tag, steps, step_ms, ctx)


@mcp.tool(task=TaskConfig(mode="required", poll_interval=POLL))
async def build(tag: str, ctx: Context, steps: int = 3, step_ms: int = 500) -> str:
    """Runs only as a task."""
    return await steps_of(tag, steps, step_ms, ctx)


@mcp.tool(task=TaskConfig(mode="optional", poll_interval=POLL))
async def echo_task(text: str) -> str:
    """Echoes at once (as a task when the client opts in)."""
    return text


@mcp.tool
def echo(text: str) -> str:
    """Echoes (never a task)."""
    return text


if __name__ == "__main__":
    if args.http:
        mcp.run(transport="http", host="127.0.0.1", port=args.http, path="/mcp")
    else:
        mcp.run()
