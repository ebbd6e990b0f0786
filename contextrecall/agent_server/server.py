"""The `recall mcp` server: the project's memory as MCP tools, on the official SDK, over stdio.

Only `recall mcp` imports this module (the SDK costs a few hundred milliseconds to load).
Each tool answers with readable text for the model plus the same data as structured content;
anticipated failures (bad arguments, a database or broker that is down) come back as tool
errors with a message saying what to do, and the server keeps serving.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from contextrecall.agent_server.tools import ProjectMemory
from contextrecall.client.notes import MAX_NOTE_CHARS, MAX_TAG_CHARS, MAX_TAGS
from contextrecall.memory import MANUAL_KINDS
from contextrecall.recall.details import MAX_IDS
from contextrecall.recall.service import MAX_BUDGET, MAX_ITEMS, MAX_QUERY_CHARS, SEARCH_BUDGET
from contextrecall.settings import Settings

SERVER_NAME = "context-recall"
Kind = Literal["note", "decision", "snippet", "command", "fix", "configuration", "gotcha"]
assert set(Kind.__args__) == set(MANUAL_KINDS)

READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
SAVES = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
FORGETS = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)


def instructions(project: str) -> str:
    return (
        f"Context Recall: the persistent memory of project {project}, kept across sessions "
        "and machines. Call project_state at the start of a task to see where the project "
        "stands; search_memory before re-deciding or re-discovering something (earlier "
        "decisions, fixes, commands, conventions); get_memory for the full text of what a "
        "search listed; save_memory when a decision is made or something is learnt that a "
        "later session should know; forget_memory only when the user asks to forget "
        "something."
    )


def _failure(exc: BaseException) -> ToolError:
    """An anticipated failure as a tool error whose message says what went wrong."""
    from sqlalchemy.exc import OperationalError, SQLAlchemyError

    from contextrecall.db import is_missing_schema

    first = (str(exc).splitlines() or [type(exc).__name__])[0]
    if isinstance(exc, SQLAlchemyError) and is_missing_schema(exc):
        return ToolError("the memory database has no tables yet: run `recall db upgrade`")
    if isinstance(exc, OperationalError):
        orig = (str(exc.orig).splitlines() or [""])[0]
        return ToolError(f"the memory database is unavailable ({orig}); try again later")
    if isinstance(exc, SQLAlchemyError):
        return ToolError(f"memory database error: {first}")
    if isinstance(exc, ValueError):
        return ToolError(first)
    return ToolError(f"{type(exc).__name__}: {first}")


def _answer(
    work: Callable[[], dict[str, Any]], render: Callable[[dict[str, Any]], str]
) -> CallToolResult:
    from sqlalchemy.exc import SQLAlchemyError

    try:
        data = work()
    except (ValueError, OSError, SQLAlchemyError) as exc:  # OSError: timeouts, refused, disk
        raise _failure(exc) from exc
    return CallToolResult(content=[TextContent(text=render(data))], structured_content=data)


# --- what the model reads ------------------------------------------------------------------


def render_search(result: dict[str, Any]) -> str:
    items = result["items"]
    query = f" for {json.dumps(result['query'])}" if result.get("query") else ""
    if not items:
        return f"No memory of {result['project']} matches{query}."
    lines = [
        f"{len(items)} memories of {result['project']}{query} ({result['tokens']} tokens), "
        "best first. get_memory(ids) gives the full text of any of them."
    ]
    for item in items:
        lines.append(f"\n[{item['kind']} {item['id']}] score {item['score']}\n{item['text']}")
    return "\n".join(lines)


def _render_item(item: dict[str, Any]) -> str:
    head = f"## {item['kind']} {item['id']}"
    if item.get("category") and item["category"] != item["kind"]:
        head += f" ({item['category']})"
    lines = [head]
    if item.get("title") and item["kind"] == "session":
        lines.append(item["title"])
    lines.append(item["text"])
    if item.get("rationale"):
        lines.append(f"Rationale: {item['rationale']}")
    if item.get("alternatives"):
        lines.append("Alternatives considered: " + "; ".join(item["alternatives"]))
    for decision in item.get("decisions") or []:
        if isinstance(decision, dict) and decision.get("text"):
            lines.append(f"- Decision: {decision['text']}")
    if item.get("tags"):
        lines.append("Tags: " + ", ".join(item["tags"]))
    when = item.get("occurred_at") or item.get("created_at") or item.get("updated_at")
    if when:
        lines.append(f"Saved: {when}")
    return "\n".join(lines)


def render_items(result: dict[str, Any]) -> str:
    parts = [_render_item(item) for item in result["items"]]
    if result["not_found"]:
        parts.append(
            f"Not found in the memory of {result['project']}: {', '.join(result['not_found'])}"
        )
    return "\n\n".join(parts)


def render_saved(result: dict[str, Any]) -> str:
    tags = f" tagged {', '.join(result['tags'])}" if result["tags"] else ""
    text = f"Saved a {result['kind']}{tags} to the memory of {result['project']}: "
    if result["status"] == "queued":
        text += "queued; search_memory finds it once the worker has stored it (seconds)."
    else:
        text += (
            "the broker is unreachable, so it waits in the local spool and is stored once "
            "`recall spool flush` (or the next hook) delivers it."
        )
    if result["redacted"]:
        text += f" Secrets were redacted before saving ({', '.join(result['redacted'])})."
    return text


def render_forget(result: dict[str, Any]) -> str:
    if not result["confirmed"]:
        found = [m for m in result["would_forget"] if m.get("forgotten", True)]
        if not found:
            return f"Nothing in the memory of {result['project']} matches: nothing to forget."
        lines = [
            f"Would forget {len(found)} memories of {result['project']}. Show them to the "
            "user and, only if they agree, call forget_memory again with confirm=true:"
        ]
        lines += [f"- [{m['kind']} {m['id']}] {' '.join(m['text'].split())[:200]}" for m in found]
        return "\n".join(lines)
    removed = result.get("removed") or {}
    shown = ", ".join(f"{n} {kind}" for kind, n in removed.items() if n)
    text = f"Forgot {len(result['forgotten'])} memories of {result['project']}"
    text += f" ({shown})." if shown else "."
    text += " They are gone from the database, the stored transcripts, the index and the "
    text += "cache, and will not be saved again."
    if result.get("not_found"):
        text += f" Not found: {', '.join(result['not_found'])}."
    return text


def render_state(state: dict[str, Any]) -> str:
    if not state["has_state"]:
        return (
            f"No project state of {state['project']} yet: it is written when a session of "
            "this project has been saved."
        )
    lines = [
        f"Project {state['project']}: phase {state['phase'] or 'unknown'}, "
        f"progress {state['progress']}% (updated {state['updated_at']})"
    ]
    for label, key in (
        ("Blockers", "blockers"),
        ("Next actions", "next_actions"),
        ("Key decisions", "decisions"),
    ):
        if state[key]:
            lines.append(f"{label}:")
            lines.extend(f"- {entry}" for entry in state[key])
    if state["key_files"]:
        lines.append("Key files: " + ", ".join(state["key_files"]))
    if state["summary"]:
        lines.append(f"Summary: {state['summary']}")
    return "\n".join(lines)


# --- the server -----------------------------------------------------------------------------


def build_server(memory: ProjectMemory) -> MCPServer:
    """An MCP server whose tools read and write ``memory``'s project only."""
    server: MCPServer = MCPServer(
        name=SERVER_NAME,
        title="Context Recall",
        instructions=instructions(memory.name),
        log_level="WARNING",
    )

    @server.tool(title="Search project memory", annotations=READ_ONLY)
    def search_memory(
        query: Annotated[
            str,
            Field(
                min_length=1,
                max_length=MAX_QUERY_CHARS,
                description="What to recall, in plain words: a topic, an error message, a "
                "file or library name, a question (e.g. 'why did we pick MariaDB').",
            ),
        ],
        limit: Annotated[
            int | None,
            Field(ge=1, le=MAX_ITEMS, description="At most this many items (default: no cap)."),
        ] = None,
        budget: Annotated[
            int,
            Field(
                ge=1,
                le=MAX_BUDGET,
                description="Token budget of the answer (tokens = ceil(characters / 4)).",
            ),
        ] = SEARCH_BUDGET,
    ) -> CallToolResult:
        """Search this project's long-term memory: decisions, fixes, commands, notes and
        summaries of earlier sessions, ranked by relevance and recency and cut to a token
        budget. Use it before re-investigating something that may have been settled before.
        Each item has an id; pass ids to get_memory for the full text."""
        return _answer(lambda: memory.search(query, limit, budget), render_search)

    @server.tool(title="Get memory items in full", annotations=READ_ONLY)
    def get_memory(
        ids: Annotated[
            list[str],
            Field(
                min_length=1,
                max_length=MAX_IDS,
                description="Ids of items returned by search_memory.",
            ),
        ],
    ) -> CallToolResult:
        """The full text of memory items that search_memory listed: a decision with its
        rationale and alternatives, a snippet or note verbatim, or a whole session summary.
        Ids that are not in this project's memory are reported as not found."""
        return _answer(lambda: memory.get(ids), render_items)

    @server.tool(title="Save to project memory", annotations=SAVES)
    def save_memory(
        text: Annotated[
            str,
            Field(
                min_length=1,
                max_length=MAX_NOTE_CHARS,
                description="The memory itself, self-contained: a later session reads it "
                "without this conversation. For a decision, say what was chosen and why.",
            ),
        ],
        kind: Annotated[
            Kind,
            Field(
                description="decision: a choice and its reason; snippet: code or text kept "
                "verbatim; command: a command that works; fix: a problem and its solution; "
                "configuration: a setting and its value; gotcha: a pitfall; note: anything "
                "else."
            ),
        ] = "note",
        tags: Annotated[
            list[str] | None,
            Field(
                max_length=MAX_TAGS,
                description=f"Up to {MAX_TAGS} short lowercase tags (a-z 0-9 . _ + # / -, at "
                f"most {MAX_TAG_CHARS} characters), e.g. ['database', 'testing'].",
            ),
        ] = None,
    ) -> CallToolResult:
        """Save a decision, snippet or note to this project's long-term memory so later
        sessions (on any machine) can find it with search_memory. Secrets in the text are
        redacted before anything is written. Saving the same text twice stores it once."""
        return _answer(lambda: memory.save(text, kind, tags), render_saved)

    @server.tool(title="Forget project memory", annotations=FORGETS)
    def forget_memory(
        ids: Annotated[
            list[str] | None,
            Field(max_length=MAX_IDS, description="Ids of items search_memory returned."),
        ] = None,
        query: Annotated[
            str | None,
            Field(
                max_length=MAX_QUERY_CHARS,
                description="Or: forget what a search for this finds.",
            ),
        ] = None,
        confirm: Annotated[
            bool,
            Field(description="false: only list what would be forgotten; true: forget it."),
        ] = False,
    ) -> CallToolResult:
        """Forget memories of this project, when the user asks for it (a wrong or stale
        memory, something private): by ids from search_memory, or everything a search for
        a query finds. First call without confirm and show the user the list; call again
        with confirm=true only once they agree. Forgotten memory is removed everywhere and
        is never saved again."""
        return _answer(lambda: memory.forget(ids, query, confirm), render_forget)

    @server.tool(title="Project state", annotations=READ_ONLY)
    def project_state() -> CallToolResult:
        """Where this project stands: current phase and progress, blockers, next actions,
        key files and key decisions, as of the latest saved session. A good first call
        when starting work."""
        return _answer(memory.state, render_state)

    return server


def serve(settings: Settings, project: str | None = None) -> None:
    """Serve the memory of ``project`` (default: this directory's) over stdio until EOF."""
    build_server(ProjectMemory.for_server(settings, project)).run("stdio")
