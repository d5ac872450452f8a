"""FastMCP 4 test peer for Switchboard's integration tests.

    python fastmcp_server.py              # stdio
    python fastmcp_server.py --http PORT  # Streamable HTTP on 127.0.0.1:PORT, path /mcp

FastMCP 4 speaks 2026-07-28 to a client that probes `server/discover` and the
handshake era (initialize, 2025-11-25 and older) to one that does not.
See WIRE.md beside this file for what it sends.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import struct
import sys
import zlib
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

# Keep stdout for JSON-RPC only: no banner, quiet logging (stderr).
os.environ.setdefault("FASTMCP_SHOW_SERVER_BANNER", "false")
os.environ.setdefault("FASTMCP_LOG_LEVEL", "WARNING")
os.environ.setdefault("FASTMCP_CHECK_FOR_UPDATES", "off")

from fastmcp import Context, FastMCP  # noqa: E402
from fastmcp.exceptions import ToolError  # noqa: E402
from fastmcp.utilities.types import Image  # noqa: E402

mcp = FastMCP("switchboard-fastmcp-peer", version="1.0.0", instructions="Switchboard test peer (FastMCP 4).")


def tiny_png() -> bytes:
    """A valid 1x1 opaque red PNG, built in code."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit, RGB
    idat = zlib.compress(b"\x00\xff\x00\x00")  # filter 0, one red pixel
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


class Sum(TypedDict):
    sum: int


@mcp.tool
def add(a: int, b: int) -> Sum:
    """Add two integers; returns a structured {"sum": a+b}."""
    return {"sum": a + b}


@mcp.tool
def fail(message: str) -> str:
    """Always fails with a tool error (isError: true) carrying `message`."""
    raise ToolError(message)


@mcp.tool
def image() -> Image:
    """Returns a 1x1 PNG image."""
    return Image(data=tiny_png(), format="png")


@mcp.tool
async def slow(steps: int, ctx: Context) -> str:
    """Reports progress `steps` times (needs a progressToken), then returns "done"."""
    for i in range(1, steps + 1):
        await asyncio.sleep(0.05)
        await ctx.report_progress(progress=i, total=steps, message=f"step {i}/{steps}")
    return "done"


@mcp.tool
async def log(message: str, ctx: Context) -> str:
    """Emits `message` as an info and a warning log notification, then returns text."""
    await ctx.info(f"info: {message}")
    await ctx.warning(f"warning: {message}")
    return f"logged: {message}"


@mcp.tool
async def announce(uri: str, ctx: Context) -> str:
    """Tells the client its tool list changed and that resource `uri` was updated."""
    await ctx.session.send_tool_list_changed()
    await ctx.session.send_resource_updated(uri)
    return f"announced: {uri}"


@mcp.tool(output_schema=None)
def echo(text: str) -> str:
    """Returns `text` unchanged (plain text content, no structuredContent)."""
    return text


@mcp.resource("data://greeting", mime_type="text/plain")
def greeting() -> str:
    """A static text resource."""
    return "hello"


@mcp.resource("data://blob", mime_type="application/octet-stream")
def blob() -> bytes:
    """A static binary resource: bytes 0..255."""
    return bytes(range(256))


@mcp.resource("greet://{name}", mime_type="text/plain")
def greet(name: str) -> str:
    """A resource template."""
    return f"Hello, {name}!"


@mcp.prompt
def review(code: str, language: str = "rust") -> str:
    """Asks for a code review."""
    return f"Please review this {language} code:\n\n{code}"


@mcp.prompt
def plain() -> str:
    """A prompt with no arguments."""
    return "Say hello."


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http", type=int, metavar="PORT", help="serve Streamable HTTP on 127.0.0.1:PORT/mcp")
    args = parser.parse_args()
    if args.http is not None:
        mcp.run(transport="http", host="127.0.0.1", port=args.http, show_banner=False)
    else:
        mcp.run(transport="stdio", show_banner=False)


if __name__ == "__main__":
    main()
