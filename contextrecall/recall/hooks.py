"""The hook's read path: SessionStart and UserPromptSubmit context, cache first.

A cache hit costs one Redis round trip and no heavy import; only a miss loads SQLAlchemy.
"""

from __future__ import annotations

import json
import os

from contextrecall.identity import project_for_directory
from contextrecall.recall import cache

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from contextrecall.settings import Settings


def _from_index(settings: Settings, identity: str, kind: str, request: str) -> str | None:
    """The block from the project's index when it is current; None sends the hook to the
    cache and the database."""
    from contextrecall.recall import answer
    from contextrecall.recall.index import reader

    if kind == "start":  # rendered by the worker, if at the index's stamp (else lagging)
        index = reader.fresh_index(settings, identity)
        try:
            current = index is not None and index.meta("start_stamp") == str(index.stamp)
            return index.meta("start") if current else None
        except Exception:  # an index switched under us, Redis gone: the slow path answers
            return None
    from datetime import UTC, datetime

    prompt = request[: answer.MAX_QUERY_CHARS]
    now = datetime.now(UTC).replace(tzinfo=None)
    answered = reader.ranked_block(
        settings,
        identity,
        prompt,
        answer.PROMPT_BUDGET,
        answer.MAX_ITEMS,
        now,
        answer.PROMPT_HEADER,
    )
    if answered is None:
        return None
    text, chosen = answered
    return text[: answer.MAX_OUTPUT_CHARS] if answer.clears_bar(prompt, chosen) else ""


def hook_context(event: dict[str, Any], settings: Settings, deadline: float) -> str | None:
    """Claude Code's JSON for a context event, or None when there is nothing to add."""
    name = event.get("hook_event_name")
    identity = project_for_directory(event.get("cwd") or os.getcwd()).identity
    if name == "SessionStart":
        kind, request = "start", ""
    else:
        kind, request = "prompt", str(event.get("prompt") or "")
        if not request.strip():
            return None
    block = _from_index(settings, identity, kind, request)
    generation = -1
    if block is None:
        block, generation = cache.read(settings, identity, kind, request)
    if block is None:
        from contextrecall.recall import answer, service, session_start

        if kind == "start":
            block = session_start.session_start_block(settings, identity)
        else:
            block = service.prompt_block(settings, identity, request)
        block = block[: answer.MAX_OUTPUT_CHARS]
        cache.write(settings, identity, kind, request, block, generation)
    if not block:
        return None
    return json.dumps({"hookSpecificOutput": {"hookEventName": name, "additionalContext": block}})
