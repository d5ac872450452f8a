"""MCP Python SDK (mcp 2.3.x) `MCPServer` test peer whose tools resolve their
parameters through client input: `Annotated[T, Resolve(fn)]` where the resolver
returns `Sample`, `Elicit` or `ListRoots`.

    python rounds_server.py    # stdio

In the 2026-07-28 era each question comes back as an `input_required` result
(`inputRequests` + sealed `requestState`) and the client retries tools/call
with `inputResponses` + the echoed `requestState` under a new id. In the
handshake era (initialize, <= 2025-11-25) the SDK sends standalone
`sampling/createMessage`, `elicitation/create` and `roots/list` requests mid-call.
See WIRE.md beside this file.
"""

from __future__ import annotations

import logging
from typing import Annotated

from mcp.server.mcpserver import (
    ElicitationResult,
    AcceptedElicitation,
    Elicit,
    ListRoots,
    MCPServer,
    Resolve,
    Sample,
)
from mcp_types import CreateMessageResult, ListRootsResult, SamplingMessage, TextContent
from pydantic import BaseModel

logging.basicConfig(level=logging.WARNING)

mcp = MCPServer(
    "switchboard-rounds-peer",
    version="1.0.0",
    instructions="Switchboard test peer (MCP SDK MCPServer, input-required rounds).",
    log_level="WARNING",
)


class Person(BaseModel):
    name: str
    age: int


def sample_answer() -> Sample:
    return Sample(
        [SamplingMessage(role="user", content=TextContent(type="text", text="What is 6 x 7?"))],
        max_tokens=50,
    )


def ask_person() -> Elicit[Person]:
    return Elicit("Who are you?", Person)


def client_roots() -> ListRoots:
    return ListRoots()


@mcp.tool()
def ask_sampling(answer: Annotated[CreateMessageResult, Resolve(sample_answer)]) -> str:
    """Asks the client to sample an LLM and returns the sampled text."""
    content = answer.content
    blocks = content if isinstance(content, list) else [content]
    return "".join(getattr(b, "text", "") for b in blocks)


@mcp.tool()
def ask_elicitation(person: Annotated[ElicitationResult[Person], Resolve(ask_person)]) -> str:
    """Asks the client for a form {name: string, age: integer}; returns what was accepted, or the action."""
    if isinstance(person, AcceptedElicitation):
        return f"accepted: name={person.data.name} age={person.data.age}"
    return person.action


@mcp.tool()
def ask_roots(roots: Annotated[ListRootsResult, Resolve(client_roots)]) -> list[str]:
    """Returns the root URIs the client gave."""
    return [str(r.uri) for r in roots.roots]


if __name__ == "__main__":
    mcp.run("stdio")
