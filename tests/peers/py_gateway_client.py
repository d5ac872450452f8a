"""Drive a Switchboard gateway (Streamable HTTP) with a real Python MCP client.

    $SWITCHBOARD_PYTHON tests/peers/py_gateway_client.py URL FLAVOR

URL is the gateway's `http://127.0.0.1:PORT/mcp`. The gateway must serve (at least)
these config servers under these names: `everything` (server-everything, stdio),
`fastmcp` (tests/peers/fastmcp_server.py) and `rounds` (tests/peers/rounds_server.py).

FLAVOR picks the client library and how it negotiates:
  fastmcp         fastmcp 4 `fastmcp.Client(URL)`, default mode "auto" (server/discover
                  probe, 2026-07-28 when the server answers it)
  mcp             MCP Python SDK 2 `mcp.Client(URL)`, default mode "auto" (same probe)
  fastmcp-legacy  the same fastmcp client with mode="legacy" (initialize handshake)
  mcp-legacy      the same SDK client with mode="legacy" (initialize handshake)

Both clients install sampling, elicitation and roots handlers (so they declare those
capabilities):
  - sampling answers the text `sampled: <the text of the messages it got, joined by " ">`;
  - elicitation (form mode) accepts with content filling every property of the requested
    schema: its `default` when given, else enums/oneOf/anyOf their first value, strings
    "Ada" (format email/uri/date get a valid value of that format), booleans true,
    numbers and integers 1 (raised to `minimum` if that is larger), arrays one item;
    URL-mode elicitation is accepted with no content;
  - roots answers [file:///tmp/switchboard-root] (name "tmp").

Steps, in order (each under a 15 s timeout, the whole run under 28 s):
  tools        tools/list (all pages)
  progress     everything_trigger-long-running-operation {"duration":1,"steps":3}
               with a progress handler
  sampling     everything_trigger-sampling-request {"prompt":"ping","maxTokens":5}
  elicitation  everything_trigger-elicitation-request {}
  rounds_*     rounds_ask_sampling, rounds_ask_elicitation, rounds_ask_roots
  fastmcp_call fastmcp_add {"a":2,"b":3}
  resources    resources/list; read the first `demo://` resource (server-everything)
               and `data://greeting` (FastMCP peer)
  prompt       everything_simple-prompt (no arguments) and
               everything_args-prompt {"city":"Paris"}

Output: exactly one JSON line on stdout (even on failure), keys:
  flavor               the FLAVOR argument
  library              e.g. "fastmcp 4.2.3" / "mcp 2.3.0"
  protocolVersion      the version the client negotiated (client.protocol_version)
  serverInfo           {"name","version"} the client saw, or null
  tools                sorted tool names from tools/list
  progress             progress values received for the long-running call, in order
  progress_text        that call's result text
  sampling             text of everything_trigger-sampling-request's result
  elicitation          text of everything_trigger-elicitation-request's result
  sampling_requests    the prompt texts the sampling handler was asked, in order
  elicitation_requests the messages the elicitation handler was asked, in order
  roots_requests       how many times the roots handler was asked
  rounds_sampling      text of rounds_ask_sampling (expected "sampled: What is 6 x 7?")
  rounds_elicitation   text of rounds_ask_elicitation (expected "accepted: name=Ada age=1")
  rounds_roots         text blocks of rounds_ask_roots (list of URIs)
  fastmcp_call         text of fastmcp_add {"a":2,"b":3} (expected '{"sum":5}')
  fastmcp_structured   its structuredContent (expected {"sum":5})
  resources            sorted resource URIs from resources/list
  resource_uri         the server-everything resource read
  resource_text        its text, first 200 characters
  fastmcp_resource_text text of data://greeting (expected "hello")
  prompt_messages      number of messages of everything_simple-prompt
  prompt_text          text of its first message
  args_prompt_text     text of the first message of everything_args-prompt {"city":"Paris"}
  errors               ["<step>: <ExceptionType>: <message>", ...] (empty on success)
A step that failed leaves its keys null (the lists progress, sampling_requests and
elicitation_requests keep what arrived; roots_requests counts). Exit status: 0 when every step succeeded,
1 when any failed (each failure is also written to stderr), 2 on bad usage.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import traceback
from importlib.metadata import version as pkg_version
from typing import Any

os.environ.setdefault("FASTMCP_SHOW_SERVER_BANNER", "false")
os.environ.setdefault("FASTMCP_LOG_LEVEL", "WARNING")
os.environ.setdefault("FASTMCP_CHECK_FOR_UPDATES", "off")

STEP_TIMEOUT = 15.0
TOTAL_TIMEOUT = 28.0
ROOT_URI = "file:///tmp/switchboard-root"
FLAVORS = ("fastmcp", "mcp", "fastmcp-legacy", "mcp-legacy")


# ---------------------------------------------------------------------------------------
# Handler logic shared by both libraries


def fill_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Content accepting a form `requestedSchema`: every property filled."""
    out: dict[str, Any] = {}
    for name, prop in (schema.get("properties") or {}).items():
        out[name] = fill_value(prop if isinstance(prop, dict) else {})
    return out


def fill_value(prop: dict[str, Any]) -> Any:
    if "default" in prop:
        return prop["default"]
    if prop.get("enum"):
        return prop["enum"][0]
    for key in ("oneOf", "anyOf"):
        if prop.get(key) and isinstance(prop[key][0], dict) and "const" in prop[key][0]:
            return prop[key][0]["const"]
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind == "boolean":
        return True
    if kind in ("integer", "number"):
        low = prop.get("minimum")
        return max(1, int(low)) if low is not None and kind == "integer" else max(1, low or 1)
    if kind == "array":
        return [fill_value(prop.get("items") or {"type": "string"})]
    fmt = prop.get("format")
    return {
        "email": "ada@example.com",
        "uri": "https://example.com/ada",
        "date": "1815-12-10",
        "date-time": "1815-12-10T00:00:00Z",
    }.get(fmt, "Ada")


def blocks_text(content: Any) -> str:
    """Text of a content block or a list of them."""
    blocks = content if isinstance(content, list) else [content]
    return "".join(getattr(b, "text", "") or "" for b in blocks if getattr(b, "type", None) == "text")


def result_text(result: Any) -> str:
    return "".join(getattr(b, "text", "") or "" for b in (result.content or []) if getattr(b, "type", None) == "text")


class Record:
    """What the handlers saw."""

    def __init__(self) -> None:
        self.sampling_requests: list[str] = []
        self.elicitation_requests: list[str] = []
        self.roots_requests = 0

    def sampled(self, messages: list[Any]) -> str:
        prompt = " ".join(blocks_text(m.content) for m in messages)
        self.sampling_requests.append(prompt)
        return f"sampled: {prompt}"


# ---------------------------------------------------------------------------------------
# Library adapters: connect + the handful of calls the steps need, returning plain data


class FastMCPAdapter:
    def __init__(self, url: str, legacy: bool, rec: Record) -> None:
        from fastmcp import Client

        self.library = f"fastmcp {pkg_version('fastmcp')}"

        async def sampling_handler(messages, params, context):
            return rec.sampled(messages)

        async def elicitation_handler(message, response_type, params, context):
            rec.elicitation_requests.append(message)
            schema = getattr(params, "requested_schema", None)
            if schema is None:  # URL mode: consent, no content
                from fastmcp.client.elicitation import ElicitResult

                return ElicitResult(action="accept")
            return fill_schema(schema)

        def roots_handler(context):
            rec.roots_requests += 1
            return [ROOT_URI]

        self.client = Client(
            url,
            sampling_handler=sampling_handler,
            elicitation_handler=elicitation_handler,
            roots=roots_handler,
            timeout=STEP_TIMEOUT,
            init_timeout=STEP_TIMEOUT,
            mode="legacy" if legacy else "auto",
        )

    async def __aenter__(self):
        await self.client.__aenter__()
        return self

    async def __aexit__(self, *exc):
        return await self.client.__aexit__(*exc)

    def protocol_version(self):
        return self.client.protocol_version

    def server_info(self):
        info = self.client.server_info
        return {"name": info.name, "version": info.version} if info else None

    async def list_tools(self):
        return [t.name for t in await self.client.list_tools()]

    async def call(self, name, args, progress=None):
        async def on_progress(p, total, message):
            progress.append(p)

        # raise_on_error=True (the default): an isError result raises ToolError.
        r = await self.client.call_tool(name, args, progress_handler=on_progress if progress is not None else None)
        return result_text(r), r.structured_content, [getattr(b, "text", None) for b in r.content]

    async def list_resources(self):
        return [str(r.uri) for r in await self.client.list_resources()]

    async def read_text(self, uri):
        contents = await self.client.read_resource(uri)
        return "".join(getattr(c, "text", "") or "" for c in contents)

    async def get_prompt(self, name, args):
        r = await self.client.get_prompt(name, args)
        return [blocks_text(m.content) for m in r.messages]


class SDKAdapter:
    def __init__(self, url: str, legacy: bool, rec: Record) -> None:
        import mcp_types as types
        from mcp import Client

        self.library = f"mcp {pkg_version('mcp')}"

        async def sampling_callback(context, params):
            return types.CreateMessageResult(
                role="assistant",
                content=types.TextContent(type="text", text=rec.sampled(params.messages)),
                model="py-gateway-client",
                stop_reason="endTurn",
            )

        async def elicitation_callback(context, params):
            rec.elicitation_requests.append(params.message)
            schema = getattr(params, "requested_schema", None)
            if schema is None:
                return types.ElicitResult(action="accept")
            return types.ElicitResult(action="accept", content=fill_schema(schema))

        async def list_roots_callback(context):
            rec.roots_requests += 1
            return types.ListRootsResult(roots=[types.Root(uri=ROOT_URI, name="tmp")])

        self.client = Client(
            url,
            sampling_callback=sampling_callback,
            elicitation_callback=elicitation_callback,
            list_roots_callback=list_roots_callback,
            read_timeout_seconds=STEP_TIMEOUT,
            mode="legacy" if legacy else "auto",
        )

    async def __aenter__(self):
        await self.client.__aenter__()
        return self

    async def __aexit__(self, *exc):
        return await self.client.__aexit__(*exc)

    def protocol_version(self):
        return self.client.protocol_version

    def server_info(self):
        info = self.client.server_info
        return {"name": info.name, "version": info.version} if info else None

    async def list_tools(self):
        names, cursor = [], None
        for _ in range(50):
            page = await self.client.list_tools(cursor=cursor)
            names += [t.name for t in page.tools]
            cursor = page.next_cursor
            if not cursor:
                break
        return names

    async def call(self, name, args, progress=None):
        async def on_progress(p, total, message):
            progress.append(p)

        r = await self.client.call_tool(name, args, progress_callback=on_progress if progress is not None else None)
        if r.is_error:
            raise RuntimeError(f"{name} returned isError: {result_text(r)!r}")
        return result_text(r), r.structured_content, [getattr(b, "text", None) for b in r.content]

    async def list_resources(self):
        uris, cursor = [], None
        for _ in range(50):
            page = await self.client.list_resources(cursor=cursor)
            uris += [str(r.uri) for r in page.resources]
            cursor = page.next_cursor
            if not cursor:
                break
        return uris

    async def read_text(self, uri):
        r = await self.client.read_resource(uri)
        return "".join(getattr(c, "text", "") or "" for c in r.contents)

    async def get_prompt(self, name, args):
        r = await self.client.get_prompt(name, args)
        return [blocks_text(m.content) for m in r.messages]


def describe(e: BaseException) -> str:
    """`Type: message`, with an exception group flattened to its leaves."""
    if isinstance(e, BaseExceptionGroup):
        return "; ".join(describe(x) for x in e.exceptions)
    return f"{type(e).__name__}: {e}"


# ---------------------------------------------------------------------------------------


async def run(url: str, flavor: str, out: dict[str, Any]) -> None:
    rec = Record()
    legacy = flavor.endswith("-legacy")
    adapter_cls = FastMCPAdapter if flavor.startswith("fastmcp") else SDKAdapter
    adapter = adapter_cls(url, legacy, rec)
    out["library"] = adapter.library
    errors: list[str] = out["errors"]
    out["sampling_requests"] = rec.sampling_requests
    out["elicitation_requests"] = rec.elicitation_requests
    out["progress"] = []
    out["roots_requests"] = 0

    async def step(label: str, coro_fn):
        try:
            async with asyncio.timeout(STEP_TIMEOUT):
                return await coro_fn()
        except TimeoutError:
            errors.append(f"{label}: timed out after {STEP_TIMEOUT:g} s")
        except Exception as e:  # noqa: BLE001 -- recorded, reported and turned into exit 1
            errors.append(f"{label}: {describe(e)}")
            if os.environ.get("PY_GATEWAY_CLIENT_TRACE"):
                traceback.print_exc()
        return None

    # Enter and exit the client in this same task (anyio cancel scopes require it).
    try:
        async with asyncio.timeout(STEP_TIMEOUT):
            await adapter.__aenter__()
    except Exception as e:  # noqa: BLE001
        errors.append(f"connect: {describe(e)}")
        return
    try:
        out["protocolVersion"] = adapter.protocol_version()
        out["serverInfo"] = adapter.server_info()

        tools = await step("tools", adapter.list_tools)
        out["tools"] = sorted(tools) if tools is not None else None

        progress: list[float] = out["progress"]
        r = await step(
            "progress",
            lambda: adapter.call("everything_trigger-long-running-operation", {"duration": 1, "steps": 3}, progress),
        )
        out["progress_text"] = r[0] if r else None

        r = await step(
            "sampling", lambda: adapter.call("everything_trigger-sampling-request", {"prompt": "ping", "maxTokens": 5})
        )
        out["sampling"] = r[0] if r else None

        r = await step("elicitation", lambda: adapter.call("everything_trigger-elicitation-request", {}))
        out["elicitation"] = r[0] if r else None

        r = await step("rounds_sampling", lambda: adapter.call("rounds_ask_sampling", {}))
        out["rounds_sampling"] = r[0] if r else None
        r = await step("rounds_elicitation", lambda: adapter.call("rounds_ask_elicitation", {}))
        out["rounds_elicitation"] = r[0] if r else None
        r = await step("rounds_roots", lambda: adapter.call("rounds_ask_roots", {}))
        out["rounds_roots"] = r[2] if r else None

        r = await step("fastmcp_call", lambda: adapter.call("fastmcp_add", {"a": 2, "b": 3}))
        out["fastmcp_call"] = r[0] if r else None
        out["fastmcp_structured"] = r[1] if r else None

        uris = await step("resources", adapter.list_resources)
        out["resources"] = sorted(uris) if uris is not None else None
        demo = next((u for u in uris or [] if u.startswith("demo://")), None)
        if uris is not None and demo is None:
            errors.append(f"resources: no demo:// (server-everything) resource in {uris}")
        if demo is not None:
            out["resource_uri"] = demo
            text = await step("resource_read", lambda: adapter.read_text(demo))
            out["resource_text"] = text[:200] if text is not None else None
        out["fastmcp_resource_text"] = await step("fastmcp_resource_read", lambda: adapter.read_text("data://greeting"))

        msgs = await step("prompt", lambda: adapter.get_prompt("everything_simple-prompt", None))
        out["prompt_messages"] = len(msgs) if msgs is not None else None
        out["prompt_text"] = msgs[0] if msgs else None
        msgs = await step("args_prompt", lambda: adapter.get_prompt("everything_args-prompt", {"city": "Paris"}))
        out["args_prompt_text"] = msgs[0] if msgs else None
    finally:
        out["roots_requests"] = rec.roots_requests
        try:
            async with asyncio.timeout(5):
                await adapter.__aexit__(None, None, None)
        except Exception as e:  # noqa: BLE001
            errors.append(f"close: {describe(e)}")


def main() -> int:
    if len(sys.argv) != 3 or sys.argv[2] not in FLAVORS:
        print(f"usage: py_gateway_client.py URL {{{'|'.join(FLAVORS)}}}", file=sys.stderr)
        return 2
    url, flavor = sys.argv[1], sys.argv[2]
    keys = (
        "library protocolVersion serverInfo tools progress progress_text sampling elicitation "
        "sampling_requests elicitation_requests roots_requests rounds_sampling rounds_elicitation "
        "rounds_roots fastmcp_call fastmcp_structured resources resource_uri resource_text "
        "fastmcp_resource_text prompt_messages prompt_text args_prompt_text"
    ).split()
    out: dict[str, Any] = {"flavor": flavor, **{k: None for k in keys}, "errors": []}

    async def bounded():
        try:
            async with asyncio.timeout(TOTAL_TIMEOUT):
                await run(url, flavor, out)
        except TimeoutError:
            out["errors"].append(f"run: timed out after {TOTAL_TIMEOUT:g} s")

    try:
        asyncio.run(bounded())
    except BaseException as e:  # noqa: BLE001 -- e.g. an exception group escaping a client's task group
        out["errors"].append(f"run: {describe(e)}")
    print(json.dumps(out), flush=True)
    for err in out["errors"]:
        print(f"py_gateway_client.py ({flavor}): {err}", file=sys.stderr)
    return 1 if out["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
