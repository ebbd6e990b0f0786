"""Search results and context blocks for one project, from the cache or the database."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from contextrecall.db import session_scope
from contextrecall.recall import answer, cache, loading, session_start
from contextrecall.recall.answer import MAX_ITEMS, MAX_QUERY_CHARS, PROMPT_BUDGET, PROMPT_HEADER
from contextrecall.recall.index import reader
from contextrecall.recall.loading import find_project
from contextrecall.recall.ranking import Item
from contextrecall.settings import Settings
from contextrecall.terms import estimate_tokens, terms

SEARCH_BUDGET = 1000
MAX_BUDGET = 100_000  # tokens: far above any context window worth filling


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _empty(query: str | None, project: str) -> dict[str, Any]:
    return {"query": query, "project": project, "tokens": 0, "context": "", "items": []}


def _database(db, project_id: str) -> tuple[loading.DatabaseSource, Callable[[], str]]:
    """The project's memory in the database as an ``answer.Source``, and where its latest
    session left off, as a search shows it."""
    source = loading.DatabaseSource(db, project_id)
    return source, lambda: session_start.resume_text(session_start.resume_sections(db, project_id))


def _ranked_block(
    db, project_id: str, query: str | None, budget: int, limit: int | None, header: str = ""
):
    source, resumed = _database(db, project_id)
    return answer.ranked_block(source, query, budget, limit, _now(), header=header, resumed=resumed)


def ranked_items(
    settings: Settings, project: str, query: str, budget: int = SEARCH_BUDGET
) -> tuple[list[tuple[float, Item]], dict[tuple[str | None, int | None, int], Item]] | None:
    """Every candidate a search of the database weighs for ``query``, ranked as it ranks
    them (``answer.ranked_items``), and the chat turns among them by their place; None for
    an unknown project. What a search leaves out, and why, is read off it."""
    with session_scope(settings) as db:
        row = find_project(db, project)
        if row is None:
            return None
        source, resumed = _database(db, row.id)
        return answer.ranked_items(source, query, budget, _now(), resumed)


def search(
    settings: Settings,
    project: str,
    query: str | None,
    budget: int = SEARCH_BUDGET,
    limit: int | None = None,
    used: bool = True,
) -> dict[str, Any]:
    """Ranked recall for ``query`` in ``project``: {query, project, tokens, context, items}.
    ``used``: the snippets found count as used (not when a person only looks)."""
    if not 1 <= budget <= MAX_BUDGET:
        raise ValueError(f"--budget must be between 1 and {MAX_BUDGET} tokens")
    if limit is not None and not 1 <= limit <= MAX_ITEMS:
        raise ValueError(f"--limit must be between 1 and {MAX_ITEMS} items")
    if query and len(query) > MAX_QUERY_CHARS:
        raise ValueError(f"query longer than {MAX_QUERY_CHARS} characters")
    limit = limit or MAX_ITEMS
    if query:
        from contextrecall.redaction import redact

        query = redact(query)  # the query is echoed and cached: a pasted secret stays out
    with session_scope(settings) as db:
        row = find_project(db, project)
        if row is None:
            return _empty(query, project)
        identity, project_id = row.identity, row.id
    request = json.dumps([query, budget, limit])
    cached, generation = cache.read(settings, identity, "search", request)
    if cached is not None:
        return json.loads(cached)
    answered = (
        reader.ranked_block(settings, identity, query, budget, limit, _now()) if query else None
    )
    if answered is None:
        with session_scope(settings) as db:
            answered = _ranked_block(db, project_id, query, budget, limit)
    text, chosen = answered
    result = {
        "query": query,
        "project": project,
        "tokens": estimate_tokens(text),
        "context": text,
        "items": [
            {"kind": item.kind, "id": item.id, "score": round(score, 4), "text": item.render()}
            for score, item in chosen
        ],
    }
    cache.write(settings, identity, "search", request, json.dumps(result), generation)
    if used:
        record_usage(settings, [i.id for _, i in chosen if i.kind in {"fact", "snippet"}])
    return result


def prompt_block(
    settings: Settings,
    identity_or_name: str,
    prompt: str,
    budget: int = PROMPT_BUDGET,
    used: bool = True,
) -> str:
    """Context for a typed prompt, or "" when nothing in memory clears the relevance bar:
    at least one item must share two of the prompt's content words (one, for a one-word
    prompt). ``used`` as for ``search``."""
    prompt = prompt[:MAX_QUERY_CHARS]
    if not terms(prompt):
        return ""
    with session_scope(settings) as db:
        project = find_project(db, identity_or_name)
        if project is None:
            return ""
        text, chosen = _ranked_block(
            db, project.id, prompt, budget, MAX_ITEMS, header=PROMPT_HEADER
        )
    if not answer.clears_bar(prompt, chosen):
        return ""
    if used:
        record_usage(settings, [i.id for _, i in chosen if i.kind in {"fact", "snippet"}])
    return text


def record_usage(settings: Settings, snippet_ids: list[str]) -> None:
    """Count the use of recalled snippets, off the hot path: a task does the UPDATE later."""
    if not snippet_ids:
        return
    try:
        from contextrecall.broker.publish import publish_task
        from contextrecall.jobs import USAGE_TASK

        publish_task(
            settings.broker_url,
            USAGE_TASK,
            [snippet_ids[:200]],
            {},
            timeout=0.2,
            argsrepr=f"({len(snippet_ids)} snippet ids)",
            settings=settings,
        )
    except Exception:  # usage counts are a ranking hint; losing one is fine
        pass
