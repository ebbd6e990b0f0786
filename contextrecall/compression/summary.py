"""Turn a coding session's digest into a ``SessionMemory``, and render its summary block."""

from __future__ import annotations

import math
import re
from pathlib import PurePosixPath

from contextrecall.compression import commands as cmd
from contextrecall.compression import compaction
from contextrecall.compression import decisions as dec
from contextrecall.compression import snippets as snip
from contextrecall.compression.digest import CommandRecord, FileRecord, SessionDigest, Todo
from contextrecall.compression.excerpts import REQUEST_CHARS, SETTINGS_LINES, told
from contextrecall.compression.text import (
    clean,
    first_and_last_sentences,
    first_sentences,
    shorten,
    squash,
)
from contextrecall.memory import (
    OUTCOME_CHARS,
    CommandRun,
    FileActivity,
    ParseReport,
    ProjectStateUpdate,
    SessionMemory,
    Snippet,
)
from contextrecall.tagging import tags_for

DECISION_LIMIT = 10
CLOSED = frozenset({"completed", "done", "resolved", "deleted", "cancelled"})  # a todo's ends
COMMAND_RUN_LIMIT = 40
LATEST_RUNS = 10  # of them, the commands run last, whatever their outcome
READ_ONLY_FILE_LIMIT = 10
EDITED_FILE_LIMIT = 50
KEY_FILES = 8  # of the project's, in the state


def relative(path: str, root: str | None) -> str:
    """``path`` relative to the session's project root when it lies inside it."""
    if root and path.startswith(root.rstrip("/") + "/"):
        return path[len(root.rstrip("/")) + 1 :]
    return path


def ranked_files(digest: SessionDigest) -> list[FileRecord]:
    """Edited files by edit count (then first touched), then files only read, by reads."""
    edited = [f for f in digest.files.values() if f.edits]
    edited.sort(key=lambda f: (-f.edits, -f.created, f.order))
    read_only = [f for f in digest.files.values() if not f.edits and f.reads]
    read_only.sort(key=lambda f: (-f.reads, f.order))
    return edited[:EDITED_FILE_LIMIT] + read_only[:READ_ONLY_FILE_LIMIT]


def open_todos(digest: SessionDigest) -> list[Todo]:
    """Todo items not done yet (in progress first), from TodoWrite or the 2.x task tools."""
    todos = digest.todos + list(digest.tasks.values())
    pending = [t for t in todos if t.status not in CLOSED]
    pending.sort(key=lambda t: t.status != "in_progress")
    return pending


def _last_request(digest: SessionDigest) -> str:
    """The session's last request; a long one the person typed (a pasted log) by its telling
    lines, joined by " | " as the state keeps one line."""
    text = digest.last_request if digest.requests else _requests(digest)[-1]
    if len(text) <= REQUEST_CHARS:
        return text
    # as long as the outcome beside it, with room for the " | " between its lines
    return " | ".join(told(text, OUTCOME_CHARS - 2 * SETTINGS_LINES).splitlines())


def _requests(digest: SessionDigest) -> list[str]:
    return digest.requests or digest.weak_requests or digest.task_prompts


def build_title(digest: SessionDigest) -> str:
    requests = _requests(digest)
    if requests:
        title = first_sentences(requests[0], 90)
        if len(title) < 30 and digest.commits:
            title = f"{title.rstrip('.!?')}: {digest.commits[0].split(' ', 1)[-1]}"
        return shorten(title, 110)
    summary_lines = [c.text for c in digest.compactions if c.source == "summary-line"]
    if summary_lines:
        return shorten(summary_lines[-1], 110)
    for item in digest.compactions:
        intent = compaction.section(item.text, "primary request", "request")
        if intent:
            return first_sentences(intent, 100)
    edited = [f for f in ranked_files(digest) if f.edits]
    if edited:
        return "Edited " + ", ".join(PurePosixPath(f.path).name for f in edited[:3])
    return f"Session {(digest.session_id or 'unknown')[:8]}"


def _work_line(digest: SessionDigest, files: list[FileRecord], root: str | None) -> str:
    parts = []
    edited = [f for f in files if f.edits]
    created = [f for f in edited if f.created]
    if edited:
        top = ", ".join(f"{relative(f.path, root)} x{f.edits}" for f in edited[:4])
        parts.append(f"edited {len(edited)} files ({top})")
    if created:
        parts.append(f"created {len(created)}")
    runs = [c for c in digest.commands.values()]
    if runs:
        failed = [c for c in runs if c.failed]
        resolved = [c for c in failed if c.resolved]
        text = f"ran {sum(c.runs for c in runs)} commands"
        if failed:
            text += f", {len(failed)} failed ({len(resolved)} resolved)"
        parts.append(text)
    tests = [c for c in runs if c.tests]
    if tests:
        last = max(tests, key=lambda c: c.last)
        parts.append(f"tests: {last.tests} ({shorten(last.key, 60)})")
    if digest.commits:
        parts.append(f"{len(digest.commits)} commit{'s' if len(digest.commits) > 1 else ''}")
    return "; ".join(parts)


def build_summary(digest: SessionDigest, files: list[FileRecord], root: str | None) -> str:
    requests = _requests(digest)
    parts: list[str] = []
    if requests:
        parts.append(f'Asked: "{shorten(requests[0], 220)}".')
        middle = requests[1:-1][:4]
        if middle:
            parts.append("Then: " + "; ".join(f'"{shorten(r, 90)}"' for r in middle) + ".")
        if len(requests) > 1:
            parts.append(f'Last: "{shorten(requests[-1], 160)}".')
    for item in digest.compactions:
        if item.source == "summary-line":
            parts.append(f"Previously: {shorten(item.text, 160)}.")
    compacted = [c for c in digest.compactions if c.source != "summary-line"]
    if compacted:
        latest = compacted[-1].text
        intent = compaction.section(latest, "primary request", "request and intent")
        earlier = intent or latest
        parts.append(f"Earlier (compacted): {first_sentences(earlier, 320)}")
        current = compaction.section(latest, "current work")
        if current and not digest.last_texts:
            parts.append(f"Was working on: {first_sentences(current, 240)}")
    work = _work_line(digest, files, root)
    if work:
        parts.append(f"Work: {work}.")
    if digest.commits:
        parts.append("Commits: " + "; ".join(shorten(c, 90) for c in digest.commits[-3:]) + ".")
    if digest.last_texts:
        parts.append(f"Outcome: {first_sentences(digest.last_texts[-1], 320)}")
    return clean(" ".join(parts), 1600)


def build_state(
    digest: SessionDigest, files: list[FileRecord], root: str | None, decisions: list[str]
) -> ProjectStateUpdate:
    todos = digest.todos + list(digest.tasks.values())
    pending = open_todos(digest)
    next_actions = [t.content for t in pending]
    if not next_actions:
        next_actions = [*digest.reported_next, *filter(None, [digest.offered])]
    for path, planned in reversed(digest.planned.items()):
        next_actions += [f"{step} ({relative(path, root)})" for step in planned]
    blockers = [
        f"`{f.display}` fails: {f.error}"
        for f in digest.open_failures.values()
        if _is_blocking(digest, f.key)
    ][-5:]
    blockers += [t.content for t in pending if "block" in t.content.lower()]
    progress = None
    if todos:
        done = sum(1 for t in todos if t.status in CLOSED)
        progress = round(100 * done / len(todos))
    edited = any(f.edits for f in files)
    if digest.open_failures and _last_command_failed(digest):
        phase = "debugging"
    elif todos and not pending:
        phase = "complete"
    elif edited and digest.commits and not pending:
        phase = "committed"
    elif edited:
        phase = "implementation"
    elif digest.plans:
        phase = "planning"
    else:
        phase = "exploration"
    current = (
        first_and_last_sentences(digest.last_texts[-1], OUTCOME_CHARS)
        if digest.last_texts
        else None
    )
    return ProjectStateUpdate(
        phase=phase,
        progress_percentage=progress,
        blockers=[clean(b, 200) for b in blockers],
        next_actions=[clean(a, 200) for a in next_actions[:12]],
        key_files=_key_files(files, root),
        important_decisions=decisions[:5],
        summary=clean(current, OUTCOME_CHARS) if current else None,
    )


def _key_files(files: list[FileRecord], root: str | None) -> list[str]:
    """The project's files among ``files`` (ranked), relative to its root: a skill's prompt
    or a note under the home folder is no key file of the project (all of them when none
    lies inside it)."""
    paths = [relative(f.path, root) for f in files]
    return ([path for path in paths if not _OUTSIDE.match(path)] or paths)[:KEY_FILES]


def _is_blocking(digest: SessionDigest, key: str) -> bool:
    """An unresolved failure blocks when it is a test/build/run step or was retried."""
    record = digest.commands.get(key)
    return record is not None and (record.runs > 1 or cmd.purpose(key) != "other")


def _last_command_failed(digest: SessionDigest) -> bool:
    if not digest.commands:
        return False
    last = max(digest.commands.values(), key=lambda c: c.order)
    return last.outcome in ("failed", "tests-failed")


def _command_runs(digest: SessionDigest) -> list[CommandRun]:
    records = list(digest.commands.values())

    def priority(record: CommandRecord) -> tuple[int, int]:
        rank = 0 if record.failed else 1 if record.tests else 2 if record.runs > 1 else 3
        return rank, record.order

    # the latest runs always, so a failure later runs got past is not read as where the
    # session left off; then failures, test runs and repeated runs first
    latest = sorted(records, key=lambda r: r.last)[-LATEST_RUNS:]
    kept = {id(r) for r in latest}
    others = sorted((r for r in records if id(r) not in kept), key=priority)
    chosen = latest + others[: COMMAND_RUN_LIMIT - len(latest)]
    chosen.sort(key=lambda r: r.last)  # the one run last, last: where things stand
    return [
        CommandRun(
            command=clean(r.display, 200),
            outcome=r.outcome,
            error=clean(r.error, 200) if r.error and r.failed else None,
            resolved=r.resolved if r.failed else None,
            tests=clean(r.tests, 200) if r.tests else None,
        )
        for r in chosen
    ]


def build_snippets(digest: SessionDigest, root: str | None) -> list[Snippet]:
    """Configuration values and gotchas; commands, fixes and compaction summaries come with
    each exchange (``compression.exchanges``)."""
    snippets: list[Snippet] = []
    configs = list(digest.config.items())[-snip.CONFIG_LIMIT :]
    snippets += [snip.config_snippet(relative(path, root), lines) for path, lines in configs]
    seen: set[str] = set()
    gotchas = []
    for sentence in digest.gotchas:
        key = re.sub(r"[^a-z0-9]+", " ", sentence.lower())[:60]
        if key not in seen:
            seen.add(key)
            gotchas.append(snip.gotcha_snippet(sentence))
    snippets += gotchas[: snip.GOTCHA_LIMIT]
    return snippets


def uncommitted(digest: SessionDigest, root: str | None) -> list[str]:
    """The project's files the session edited after its last commit (every one it edited
    when it made none), in the order they were last edited. A file outside the project (a
    plan in ``~/.claude/plans``) is in no commit of it."""
    edited = sorted(
        (f for f in digest.files.values() if f.edited > digest.committed), key=lambda f: f.edited
    )
    shown = [relative(f.path, root) for f in edited]
    return [path for path in shown if not _OUTSIDE.match(path)]


_OUTSIDE = re.compile(r"[/~\\]|[A-Za-z]:[\\/]")  # a path still absolute: not the project's


def build_memory(digest: SessionDigest, report: ParseReport) -> SessionMemory:
    """The memory of a coding session (Claude Code transcript)."""
    root = digest.root or digest.cwd
    files = ranked_files(digest)
    decisions = dec.select(digest.candidates, DECISION_LIMIT)
    ranked_texts = [d.text for d in sorted(decisions, key=lambda d: _IMPACT_RANK[d.impact])]
    requests = _requests(digest)
    return SessionMemory(
        title=clean(build_title(digest), 120),
        summary=build_summary(digest, files, root),
        session_id=digest.session_id,
        source_format="claude",
        decisions=decisions,
        snippets=build_snippets(digest, root),
        state=build_state(digest, files, root, ranked_texts),
        files=[FileActivity(relative(f.path, root), f.edits, f.created, f.reads) for f in files],
        commands=_command_runs(digest),
        commits=list(digest.commits),
        pull_requests=list(digest.pull_requests),
        uncommitted=uncommitted(digest, root),
        tool_errors=[
            f"{tool} {relative(path, root)}: {said}" if path else f"{tool}: {said}"
            for tool, path, said in digest.tool_errors
        ],
        branch=digest.branch,
        worktree=(
            f"{relative(digest.worktree, root)} ({digest.worktrees[digest.worktree]})"
            if digest.worktree
            else None
        ),
        cwd=root,
        first_request=clean(requests[0], 2000) if requests else None,
        last_request=clean(_last_request(digest), 2000) if requests else None,
        started_at=digest.started_at,
        ended_at=digest.ended_at,
        tags=tags_for(digest.signals),
        report=report,
    )


_IMPACT_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3}

# -- the summary block ---------------------------------------------------------------------

_LEVELS = (
    {
        "req": 300,
        "summary": 1600,
        "decisions": 8,
        "dec": 240,
        "files": 12,
        "commits": 6,
        "state": 400,
    },
    {
        "req": 200,
        "summary": 900,
        "decisions": 5,
        "dec": 180,
        "files": 8,
        "commits": 4,
        "state": 250,
    },
    {
        "req": 150,
        "summary": 500,
        "decisions": 3,
        "dec": 140,
        "files": 6,
        "commits": 3,
        "state": 150,
    },
    {"req": 120, "summary": 260, "decisions": 2, "dec": 120, "files": 5, "commits": 2, "state": 0},
    {"req": 90, "summary": 0, "decisions": 0, "dec": 0, "files": 5, "commits": 1, "state": 0},
)


def block_budget(memory: SessionMemory) -> int:
    """Default token budget of a summary block: 3.5% of the session's text, within bounds."""
    tokens = math.ceil(memory.report.text_chars / 4)
    return max(250, min(1800, int(tokens * 0.035)))


def _render(memory: SessionMemory, level: dict[str, int]) -> str:
    lines = [f"# {memory.title}"]
    where = [f"branch {memory.branch}" if memory.branch else None, memory.cwd]
    when = memory.started_at[:10] if memory.started_at else None
    if when and memory.ended_at and memory.ended_at[:10] != when:
        when = f"{when}…{memory.ended_at[:10]}"
    header = " · ".join(p for p in [*where, when] if p)
    if header:
        lines.append(header)
    if memory.first_request:
        lines.append(f'First request: "{shorten(memory.first_request, level["req"])}"')
    if memory.last_request and memory.last_request != memory.first_request:
        lines.append(f'Last request: "{shorten(memory.last_request, level["req"])}"')
    if memory.summary and level["summary"]:
        lines.append(f"Summary: {shorten(memory.summary, level['summary'])}")
    decisions = memory.decisions[: level["decisions"]]
    if decisions:
        lines.append("Decisions:")
        for d in decisions:
            text = shorten(d.text, level["dec"])
            if d.rationale:
                text += f" — why: {shorten(d.rationale, level['dec'] // 2)}"
            if d.alternatives:
                text += f" (over {', '.join(shorten(a, 40) for a in d.alternatives[:2])})"
            lines.append(f"- [{d.impact}] {text}")
    state = memory.state
    status = ", ".join(
        p
        for p in [
            state.phase,
            f"{state.progress_percentage}% done" if state.progress_percentage is not None else None,
        ]
        if p
    )
    repeated = bool(state.summary) and squash(state.summary)[:60] in squash(memory.summary)
    if status or (state.summary and level["state"] and not repeated):
        current = ""
        if state.summary and level["state"] and not repeated:
            current = shorten(state.summary, level["state"])
        lines.append(f"State: {status}{' — ' if status and current else ''}{current}")
    if state.next_actions:
        lines.append("Next: " + "; ".join(shorten(a, 120) for a in state.next_actions))
    if state.blockers:
        lines.append("Blockers: " + "; ".join(shorten(b, 140) for b in state.blockers[:3]))
    files = [f for f in memory.files if f.edits or f.created][: level["files"]]
    if files:
        shown = []
        for f in files:
            notes = [f"x{f.edits}" if f.edits else None, "new" if f.created else None]
            shown.append(f"{f.path} ({', '.join(n for n in notes if n)})")
        lines.append("Files: " + ", ".join(shown))
    if memory.commits and level["commits"]:
        lines.append(
            "Commits: " + "; ".join(shorten(c, 80) for c in memory.commits[-level["commits"] :])
        )
    return "\n".join(lines)


def render_summary_block(memory: SessionMemory, max_tokens: int | None = None) -> str:
    """The session's summary, decisions, state and files as one compact text block.

    The block fits ``max_tokens`` (default: ``block_budget``); detail is dropped level by
    level, and the requests, open todos, branch and top files are kept longest.
    """
    budget = max_tokens if max_tokens is not None else block_budget(memory)
    limit = budget * 4
    text = ""
    for level in _LEVELS:
        text = _render(memory, level)
        if len(text) <= limit:
            return text
    return text[:limit]
