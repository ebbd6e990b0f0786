"""The block a SessionStart hook injects: where the latest session left off, the project's
state, the latest sessions and decisions, within a token budget (rendered from the database;
the recall index keeps a copy the hook reads)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any, NamedTuple

from contextrecall.db import session_scope
from contextrecall.memory import OUTCOME_CHARS, READ_ONLY_TAG
from contextrecall.recall import answer, loading
from contextrecall.recall.loading import find_project
from contextrecall.recall.once import BULLET, Said, holds
from contextrecall.recall.ranking import Item
from contextrecall.settings import Settings
from contextrecall.terms import estimate_tokens

SESSION_START_BUDGET = 2000


def session_start_block(
    settings: Settings, identity_or_name: str, budget: int = SESSION_START_BUDGET
) -> str:
    """What a SessionStart hook injects, the most useful first and the budget used: what the
    user pinned, where the latest session left off (branch and its pull request, last request,
    test status, the last error, uncommitted work, last commits, open todos), the project's
    state, the latest sessions, key decisions, then the latest exchanges' conclusions while
    room is left."""
    return start_and_resume(settings, identity_or_name, budget)[0]


def start_and_resume(
    settings: Settings, identity_or_name: str, budget: int = SESSION_START_BUDGET
) -> tuple[str, str]:
    """The session-start block (``session_start_block``) and where the latest session left
    off as a search shows it (``resume_text``), from one database session."""
    with session_scope(settings) as db:
        project = find_project(db, identity_or_name)
        if project is None:
            return "", ""
        state = loading.project_state(db, project.id)
        left_off = _read_left_off(db, project.id, start=True)  # read once, shown both ways
        resumed, started = _sections(left_off, start=False), _sections(left_off, start=True)
        source = loading.DatabaseSource(db, project.id)
        pinned = source.pinned(PINNED)
        sessions = loading.latest_sessions(db, project.id, 5)
        decisions = source.latest(answer.DECISION, 10)
        exchanges = loading.latest_snippets(db, project.id, "exchange", 8)
        name = project.name
    resume = resume_text(resumed)
    if state is None and not sessions and not decisions and not pinned:
        return "", resume
    block = _Lines(f"# Context Recall: memory of {name}", budget)
    block.section("## Pinned", [_whole_sentences(item.render(), PINNED_CHARS) for item in pinned])
    for heading, lines in started:
        block.section(heading, lines)
    if state:
        facts = []
        if state["phase"]:
            progress = f", progress {state['progress']}%" if state["progress"] else ""
            facts.append(f"Phase: {state['phase']}{progress}")
        facts += [f"- Blocker: {entry}" for entry in state["blockers"][:8]]
        facts += [f"- Next: {entry}" for entry in state["next_actions"][:NEXT_STEPS]]
        if state["key_files"]:
            facts.append("Key files: " + ", ".join(state["key_files"][:12]))
        block.section("## Project state", facts)
    block.section(
        "## Latest sessions",
        [_session_line(item) for item in sessions],
    )
    block.section("## Key decisions", [item.render() for item in decisions])
    block.section(
        "## Latest exchanges",
        [f"- [{item.date()}] {_whole_sentences(item.text, 700)}" for item in exchanges],
    )
    return block.text(), resume


def resume_sections(db: Any, project_id: str, start: bool = False) -> list[tuple[str, list[str]]]:
    """(heading, lines) of where the latest session left off: its state, its last commands
    and its last changes; none before a session was saved. ``start`` (the session-start
    block, which has the room): also the commits its last `git log` listed, more commands
    and more of each change; a search's excerpt of these lines would show those instead of
    the branch and the other changes."""
    return _sections(_read_left_off(db, project_id, start), start)


class _LeftOff(NamedTuple):
    """What ``resume_sections`` shows, as read from the database."""

    latest: dict[str, Any]
    status: list[Item]  # its last `git status`
    listing: list[Item]  # its last `git log` (read for the session start only)
    commands: list[Item]  # the newest first
    changes: list[Item]
    pull_request: tuple[str, Any] | None


def _read_left_off(db: Any, project_id: str, start: bool) -> _LeftOff | None:
    """Where the latest session left off, read as far as ``start`` shows it (a search shows
    less); None before a coding session was saved."""
    latest = loading.latest_session(db, project_id)
    if not latest or not any(latest.get(k) for k in ("branch", "commands", "commits", "files")):
        return None  # no coding session yet: a conversation's "last week" is no project state
    return _LeftOff(
        latest,
        loading.latest_snippets(db, project_id, "command", 1, starting="$ git status"),
        loading.latest_snippets(db, project_id, "command", 1, starting="$ git log")
        if start
        else [],
        loading.latest_snippets(
            db, project_id, "command", START_COMMANDS if start else LAST_COMMANDS
        ),
        [
            *loading.latest_snippets(db, project_id, "files", LAST_EDITS),
            *loading.latest_snippets(db, project_id, "code", LAST_EDITS),
        ],
        loading.latest_pull_request(db, project_id, latest.get("branch")),
    )


def _sections(read: _LeftOff | None, start: bool) -> list[tuple[str, list[str]]]:
    """``resume_sections`` from what ``_read_left_off`` read (with ``start``, or more)."""
    if read is None:
        return []
    latest = read.latest
    listing = read.listing if start else []
    commands = read.commands[: START_COMMANDS if start else LAST_COMMANDS]
    return [
        (
            "## Where the last session left off",
            _left_off(latest, read.status, listing, read.pull_request, start),
        ),
        ("## Its last commands", _last_commands(latest, commands)),
        ("## Its last changes", _last_changes(latest, read.changes, start)),
    ]


def resume_text(sections: list[tuple[str, list[str]]], budget: int | None = None) -> str:
    """``resume_sections`` as the lines a search shows when a question asks how things stand
    (each sentence once, within ``budget`` tokens)."""
    block = _Lines("#", budget or RESUME_BUDGET)
    for heading, lines in sections:
        block.section(heading, lines)
    text = block.text().partition("\n")[2]
    # the first heading is the memory's title already: without it, its first line (which an
    # excerpt always keeps) says where the work stands
    return text.removeprefix(f"{sections[0][0]}\n") if sections else text


PINNED, PINNED_CHARS = 10, 600  # pinned memories the block shows first, and of each
SESSION_CHARS = 900  # of one session's summary in the session-start block
LAST_COMMANDS = 10  # the latest session's last commands, with their outcome, when resuming
START_COMMANDS = 20  # of them in the session-start block
COMMAND_CHARS, OUTPUT_CHARS = 100, 200  # of each of them
LOGGED_COMMITS = 3  # the newest commits its last `git log` listed, in the session start
NEXT_STEPS = 8  # its open todos, or the next steps it named
UNCOMMITTED = 8  # of the files it edited after its last commit, the last edited
LAST_EDITS, EDIT_CHARS = 3, 600  # its last changes to files, and the code they declared
START_EDIT_CHARS = 1000  # of each of them in the session-start block
RESUME_BUDGET = 1000  # tokens of all of it kept for a question asking how things stand


class _Lines:
    """A block of lines that never grows past ``budget`` tokens and says each sentence once
    (a line keeps only what is new; one with nothing new is left out); a section's heading
    goes in only with at least one of its lines."""

    def __init__(self, title: str, budget: int) -> None:
        self.lines: list[str] = []
        self.budget = budget
        self.used = 0
        self.said = Said()
        self.add(title)

    def add(self, line: str) -> bool:
        bullet = BULLET.match(line)
        novel = self.said.novel(line, keep=bullet.group(0) if bullet else "")
        if novel is None:
            return False
        cost = estimate_tokens(novel + "\n")
        if self.used + cost > self.budget:
            return False
        self.lines.append(novel)
        self.said.add(novel)
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


def _session_line(item: Item) -> str:
    """A session in the list of the latest: its date, its title unless its summary says it."""
    text = _whole_sentences(item.text, SESSION_CHARS)
    title = "" if holds(text, item.title) else f"{item.title}: "
    return f"- [{item.date()}] {title}{text}"


def _left_off(
    latest: dict[str, Any],
    status: list[Item],
    logged: list[Item],
    pull_request: tuple[str, Any] | None,
    start: bool = False,
) -> list[str]:
    """What the latest session's recorded state says about where work stands, and the pull
    request the latest sessions on its branch named last; in the session-start block
    (``start``), also the last calls its tools refused."""
    lines = []
    if latest.get("branch"):
        lines.append(f"Branch: {latest['branch']}")
    if latest.get("worktree"):
        lines.append(f"Worked last in the worktree: {latest['worktree']}")
    if pull_request:
        link, at = pull_request
        lines.append(f"Pull request: {link}" + (f" (named {at:%Y-%m-%d})" if at else ""))
    if latest.get("last_request"):
        lines.append(f"Last request: {_whole_sentences(latest['last_request'], OUTCOME_CHARS)}")
    summary = (latest.get("state") or {}).get("summary")
    if summary:
        lines.append(f"Outcome: {_whole_sentences(summary, OUTCOME_CHARS)}")
    commands = [c for c in latest.get("commands") or [] if isinstance(c, dict)]
    tests = [c for c in commands if str(c.get("outcome", "")).startswith("tests-")]
    if tests:
        last = tests[-1]
        failed = last.get("outcome") == "tests-failed"
        shown = last.get("error") if failed else last.get("tests")
        outcome = str(last.get("outcome")).replace("-", " ")
        lines.append(f"Tests: `{last.get('command')}` {outcome}" + (f": {shown}" if shown else ""))
    unresolved = [
        n
        for n, c in enumerate(commands)
        if c.get("outcome") in ("failed", "tests-failed") and c.get("resolved") is False
    ]
    later = commands[unresolved[-1] + 1 :] if unresolved else []
    if unresolved and not any(c.get("outcome") in ("ok", "tests-passed") for c in later):
        last = commands[unresolved[-1]]  # nothing worked after it: where the session left off
        lines.append(f"Last error: `{last.get('command')}`: {last.get('error') or 'failed'}")
    refused = [str(entry) for entry in latest.get("tool_errors") or []]
    if refused and start:
        lines.append("Tool errors: " + "; ".join(refused))
    if status and _in_latest(latest, status[0]):
        said = status[0].text.splitlines()
        tracking = [line.strip() for line in said if _TRACKING.match(line)]
        changed = [line.strip() for line in said if _CHANGED.match(line)]
        if tracking or changed:
            lines.append("Last git status: " + "; ".join(tracking[:1] + changed[:8]))
    commits = [str(c) for c in latest.get("commits") or []]
    uncommitted = [str(path) for path in latest.get("uncommitted") or []]
    if uncommitted:
        since = "edited after its last commit" if commits else "it made no commit"
        lines.append(f"Uncommitted ({since}): " + ", ".join(uncommitted[-UNCOMMITTED:]))
    if commits:
        lines.append("Last commits: " + "; ".join(reversed(commits[-5:])))
    if logged and _in_latest(latest, logged[0]):
        listed = [line.strip() for line in logged[0].text.splitlines()[1:] if _COMMIT.match(line)]
        if listed:
            lines.append("Last git log: " + "; ".join(listed[:LOGGED_COMMITS]))
    steps = (latest.get("state") or {}).get("next_actions") or []
    lines += [f"Next: {step}" for step in steps[:NEXT_STEPS]]
    return lines


def _in_latest(latest: dict[str, Any], item: Item) -> bool:
    """Whether ``item`` was stored for the latest session's work (within a day of its end)."""
    return bool(
        latest.get("at") and item.created_at and item.created_at >= latest["at"] - timedelta(days=1)
    )


def _last_commands(latest: dict[str, Any], commands: list[Item]) -> list[str]:
    """The latest session's last commands in the order they ran, each on one line with what it
    printed: a commit's stat, a push's pull-request link, the lint finding left to fix.
    Commands that only looked (``git diff``, ``ls``) are left out: they did nothing, and the
    last git status and log are said above."""
    recent = [
        item for item in commands if _in_latest(latest, item) and READ_ONLY_TAG not in item.tags
    ]
    lines = []
    for item in reversed(recent):
        command, _, output = item.text.partition("\n")
        said = " | ".join(line.strip() for line in output.splitlines() if line.strip())
        lines.append(
            f"- {_whole_sentences(command, COMMAND_CHARS)} "
            f"{_whole_sentences(said, OUTPUT_CHARS)}".rstrip()
        )
    return lines


def _last_changes(latest: dict[str, Any], changes: list[Item], start: bool) -> list[str]:
    """The latest session's last changes to files (what changed, the code or settings they
    declared), in the order they were made; files only read left out. Longer in the
    session-start block (``start``)."""
    limit = START_EDIT_CHARS if start else EDIT_CHARS
    recent = sorted(
        (item for item in changes if _in_latest(latest, item)),
        key=lambda item: item.created_at or latest["at"],
    )
    lines = []
    for item in recent:
        changed = [line.strip() for line in item.text.splitlines() if not _READ.match(line)]
        if any(changed):
            lines.append("- " + _whole_sentences(" | ".join(filter(None, changed)), limit))
    return lines


_READ = re.compile(r"\s*read ")
_COMMIT = re.compile(r"\s*[0-9a-f]{7,40} \S")  # a commit as `git log --oneline` lists it
_TRACKING = re.compile(r"\s*Your branch is ")
_CHANGED = re.compile(r"\s*(modified|new file|deleted|renamed|both modified):")


def _whole_sentences(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at the end of a sentence or clause (a word
    only when there is none), never in the middle of a list item, "…" marking the cut."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = max(text.rfind(mark, 0, limit) for mark in (". ", "; ", "! ", "? "))
    if cut < limit // 2:
        cut = text.rfind(" ", 0, limit)
    if cut < limit // 2:  # one long word (a path, a variable set to one): cut inside it
        cut = limit - 1
    return text[: cut + 1].rstrip() + " …"
