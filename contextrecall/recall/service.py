"""Search results and context blocks for one project, from the cache or the database."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from contextrecall.db import session_scope
from contextrecall.recall import cache, loading
from contextrecall.recall.loading import find_project
from contextrecall.recall.ranking import fill_budget, query_terms, rank, turn_key
from contextrecall.settings import Settings
from contextrecall.terms import estimate_tokens, terms

SEARCH_BUDGET = 1000
SESSION_START_BUDGET = 2000
PROMPT_BUDGET = 1000
MAX_BUDGET = 100_000  # tokens: far above any context window worth filling
MAX_ITEMS = 500  # items in one answer
MAX_QUERY_CHARS = 10_000  # a longer prompt is ranked by its beginning


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _empty(query: str | None, project: str) -> dict[str, Any]:
    return {"query": query, "project": project, "tokens": 0, "context": "", "items": []}


def _ranked_block(
    db, project_id: str, query: str | None, budget: int, limit: int | None, header: str = ""
):
    frequencies = (
        loading.term_frequencies(db, project_id, query)
        if query and loading.uses_text_index(db)
        else None
    )
    snippets = loading.snippet_items(db, project_id, query, frequencies, budget)
    if frequencies is not None:  # candidates from the text index: their neighbours are not in
        snippets += loading.turn_neighbours(db, project_id, snippets)
    items = (
        loading.context_items(db, project_id) + loading.decision_items(db, project_id) + snippets
    )
    neighbours = {key: item for item in items if (key := turn_key(item)) is not None}
    speakers = {i.speaker for i in items if i.speaker}
    ranked = rank(query, items, _now(), speakers, frequencies)
    return fill_budget(ranked, budget, limit, neighbours, header=header, focus=query_terms(query))


def search(
    settings: Settings,
    project: str,
    query: str | None,
    budget: int = SEARCH_BUDGET,
    limit: int | None = None,
) -> dict[str, Any]:
    """Ranked recall for ``query`` in ``project``: {query, project, tokens, context, items}."""
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
    with session_scope(settings) as db:
        text, chosen = _ranked_block(db, project_id, query, budget, limit)
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
    record_usage(settings, [item.id for _, item in chosen if item.kind in {"fact", "snippet"}])
    return result


def session_start_block(
    settings: Settings, identity_or_name: str, budget: int = SESSION_START_BUDGET
) -> str:
    """What a SessionStart hook injects: project state, latest sessions, decisions, files."""
    with session_scope(settings) as db:
        project = find_project(db, identity_or_name)
        if project is None:
            return ""
        state = loading.project_state(db, project.id)
        sessions = loading.context_items(db, project.id, limit=5)
        decisions = loading.decision_items(db, project.id, limit=10)
        name = project.name
    if state is None and not sessions and not decisions:
        return ""
    lines: list[str] = [f"# Context Recall: memory of {name}"]
    used = estimate_tokens(lines[0] + "\n")
    if used > budget:
        return ""

    def add(line: str) -> bool:
        nonlocal used
        cost = estimate_tokens(line + "\n")
        if used + cost > budget:
            return False
        lines.append(line)
        used += cost
        return True

    if state:
        add("## Project state")
        phase = state["phase"] or "unknown"
        add(f"Phase: {phase}, progress {state['progress']}%")
        for label, key in (("Blocker", "blockers"), ("Next", "next_actions")):
            for entry in state[key][:8]:
                add(f"- {label}: {entry}")
        if state["key_files"]:
            add("Key files: " + ", ".join(state["key_files"][:12]))
    if sessions:
        add("## Latest sessions")
        for item in sessions:
            date = item.created_at.date().isoformat() if item.created_at else ""
            summary = item.text if len(item.text) <= 600 else item.text[:597] + "..."
            add(f"- [{date}] {item.title}: {summary}")
    if decisions:
        add("## Key decisions")
        for item in decisions:
            add(item.render())
    return "\n".join(lines) if len(lines) > 1 else ""


def prompt_block(
    settings: Settings, identity_or_name: str, prompt: str, budget: int = PROMPT_BUDGET
) -> str:
    """Context for a typed prompt, or "" when nothing in memory clears the relevance bar:
    at least one item must share two of the prompt's content words (one, for a one-word
    prompt)."""
    prompt = prompt[:MAX_QUERY_CHARS]
    query_terms = set(terms(prompt))
    if not query_terms:
        return ""
    with session_scope(settings) as db:
        project = find_project(db, identity_or_name)
        if project is None:
            return ""
        header = "# Context Recall: memory relevant to this prompt"
        text, chosen = _ranked_block(db, project.id, prompt, budget, MAX_ITEMS, header=header)
    needed = min(2, len(query_terms))
    if not any(
        len(query_terms & set(terms(item.text + " " + item.title))) >= needed for _, item in chosen
    ):
        return ""
    record_usage(settings, [item.id for _, item in chosen if item.kind in {"fact", "snippet"}])
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
