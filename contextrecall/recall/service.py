"""Search results and context blocks for one project, from the cache or the database."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from contextrecall.db import session_scope
from contextrecall.recall import answer, cache, loading
from contextrecall.recall.answer import MAX_ITEMS, MAX_QUERY_CHARS, PROMPT_BUDGET, PROMPT_HEADER
from contextrecall.recall.index import reader
from contextrecall.recall.loading import find_project
from contextrecall.recall.ranking import Item
from contextrecall.settings import Settings
from contextrecall.terms import estimate_tokens, terms

SEARCH_BUDGET = 1000
SESSION_START_BUDGET = 2000
MAX_BUDGET = 100_000  # tokens: far above any context window worth filling


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _empty(query: str | None, project: str) -> dict[str, Any]:
    return {"query": query, "project": project, "tokens": 0, "context": "", "items": []}


def _ranked_block(
    db, project_id: str, query: str | None, budget: int, limit: int | None, header: str = ""
):
    source = loading.DatabaseSource(db, project_id)
    return answer.ranked_block(source, query, budget, limit, _now(), header=header)


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
    record_usage(settings, [item.id for _, item in chosen if item.kind in {"fact", "snippet"}])
    return result


def session_start_block(
    settings: Settings, identity_or_name: str, budget: int = SESSION_START_BUDGET
) -> str:
    """What a SessionStart hook injects, the most useful first and the budget used: where the
    latest session left off (branch, last request, test status, the last error, uncommitted
    work, last commits, open todos), the project's state, the latest sessions, key decisions,
    then the latest exchanges' conclusions while room is left."""
    with session_scope(settings) as db:
        project = find_project(db, identity_or_name)
        if project is None:
            return ""
        state = loading.project_state(db, project.id)
        latest = loading.latest_session(db, project.id)
        source = loading.DatabaseSource(db, project.id)
        sessions = source.latest(answer.SESSION, 5)
        decisions = source.latest(answer.DECISION, 10)
        status = loading.latest_snippets(db, project.id, "command", 1, starting="$ git status")
        exchanges = loading.latest_snippets(db, project.id, "exchange", 8)
        name = project.name
    if state is None and not sessions and not decisions:
        return ""
    block = _Lines(f"# Context Recall: memory of {name}", budget)
    if latest:
        block.section("## Where the last session left off", _left_off(latest, status))
    if state:
        facts = []
        if state["phase"]:
            progress = f", progress {state['progress']}%" if state["progress"] else ""
            facts.append(f"Phase: {state['phase']}{progress}")
        facts += [f"- Blocker: {entry}" for entry in state["blockers"][:8]]
        facts += [f"- Next: {entry}" for entry in state["next_actions"][:8]]
        if state["key_files"]:
            facts.append("Key files: " + ", ".join(state["key_files"][:12]))
        block.section("## Project state", facts)
    block.section(
        "## Latest sessions",
        [
            f"- [{item.date()}] {item.title}: {_whole_sentences(item.text, SESSION_CHARS)}"
            for item in sessions
        ],
    )
    block.section("## Key decisions", [item.render() for item in decisions])
    block.section(
        "## Latest exchanges",
        [f"- [{item.date()}] {_whole_sentences(item.text, 700)}" for item in exchanges],
    )
    return block.text()


SESSION_CHARS = 900  # of one session's summary in the session-start block


class _Lines:
    """A block of lines that never grows past ``budget`` tokens; a section's heading goes in
    only with at least one of its lines."""

    def __init__(self, title: str, budget: int) -> None:
        self.lines: list[str] = []
        self.budget = budget
        self.used = 0
        self.add(title)

    def add(self, line: str) -> bool:
        cost = estimate_tokens(line + "\n")
        if self.used + cost > self.budget:
            return False
        self.lines.append(line)
        self.used += cost
        return True

    def section(self, heading: str, lines: list[str]) -> None:
        lines = [line for line in lines if line]
        if not lines or not self.add(heading):
            return
        added = [self.add(line) for line in lines]  # every line is tried: a later one may fit
        if not any(added):
            self.lines.pop()
            self.used -= estimate_tokens(heading + "\n")

    def text(self) -> str:
        return "\n".join(self.lines) if len(self.lines) > 1 else ""


def _left_off(latest: dict[str, Any], status: list[Item]) -> list[str]:
    """What the latest session's recorded state says about where work stands."""
    lines = []
    if latest.get("branch"):
        lines.append(f"Branch: {latest['branch']}")
    if latest.get("last_request"):
        lines.append(f"Last request: {_whole_sentences(latest['last_request'], 300)}")
    summary = (latest.get("state") or {}).get("summary")
    if summary:
        lines.append(f"Outcome: {_whole_sentences(summary, 400)}")
    commands = [c for c in latest.get("commands") or [] if isinstance(c, dict)]
    tests = [c for c in commands if str(c.get("outcome", "")).startswith("tests-")]
    if tests:
        last = tests[-1]
        shown = last.get("error") if last.get("outcome") == "tests-failed" else None
        outcome = str(last.get("outcome")).replace("-", " ")
        lines.append(f"Tests: `{last.get('command')}` {outcome}" + (f": {shown}" if shown else ""))
    failed = [c for c in commands if c.get("outcome") in ("failed", "tests-failed")]
    unresolved = [c for c in failed if c.get("resolved") is False]
    if unresolved:
        last = unresolved[-1]
        lines.append(f"Last error: `{last.get('command')}`: {last.get('error') or 'failed'}")
    if (
        status
        and latest.get("at")
        and status[0].created_at
        and (status[0].created_at >= latest["at"] - timedelta(days=1))
    ):
        changed = [
            line.strip()
            for line in status[0].text.splitlines()
            if re.match(r"\s*(modified|new file|deleted|renamed|both modified):", line)
        ]
        if changed:
            lines.append("Uncommitted (last git status): " + "; ".join(changed[:8]))
    commits = [str(c) for c in latest.get("commits") or []]
    if commits:
        lines.append("Last commits: " + "; ".join(commits[-5:]))
    return lines


def _whole_sentences(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at the end of a sentence or clause (a word
    only when there is none), never in the middle of a list item, "…" marking the cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = max(text.rfind(mark, 0, limit) for mark in (". ", "; ", "! ", "? "))
    if cut < limit // 2:
        cut = text.rfind(" ", 0, limit)
    return text[: cut + 1].rstrip() + " …"


def prompt_block(
    settings: Settings, identity_or_name: str, prompt: str, budget: int = PROMPT_BUDGET
) -> str:
    """Context for a typed prompt, or "" when nothing in memory clears the relevance bar:
    at least one item must share two of the prompt's content words (one, for a one-word
    prompt)."""
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
