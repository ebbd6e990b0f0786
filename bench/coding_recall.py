"""Shared pieces of the coding-recall benchmark (bench_coding_recall.py).

The data (../shared/data/coding-recall: the questions and which transcripts belong to which
project), the raw transcript text the baselines (baseline.py) see and the storage figure
counts, the scoring rule and the text of a project's stored memory read straight from the
database. Nothing here knows about a particular question: the same code runs for all 60.

Tokens are ``ceil(characters / 4)`` throughout, as in the README of the data and in
``contextrecall.terms.estimate_tokens``.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contextrecall.ids import subagent_session

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
QUESTIONS = DATA / "coding-recall" / "questions-dev.jsonl"
PROJECTS = DATA / "coding-recall" / "projects.json"
TRANSCRIPTS = DATA / "transcripts"
# Our own projects (transcripts committed with their source and licence) and our own questions,
# also about the shared projects: the same format, with a ``split`` and a ``set``.
OWN = Path(__file__).resolve().parent / "coding-recall"
KINDS = ("command", "file", "decision", "error", "state", "fact")
SPLITS = ("dev", "held-out")  # held-out: looked at only to report, never to tune
WORDED_AWAY = "worded-away"  # the answer's words (and their synonyms) absent from the question
SESSION_START = "session-start"  # asked of the session-start block: where did we leave off?


def tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


# --- the data -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Transcript:
    path: Path
    session: str  # the session it is saved as
    format: str = "claude"  # the client that wrote it: claude or codex (`recall save --format`)


def session_of(relative: str) -> str:
    """``<session>/subagents/agent-X.jsonl`` is saved as ``<session>/agent-X``; any other
    file as its stem."""
    parts = Path(relative).parts
    if len(parts) >= 3 and parts[-2] == "subagents":
        return subagent_session(parts[-3], Path(parts[-1]).stem)
    return Path(relative).stem


def _sources() -> list[tuple[Path, Path]]:
    """(projects.json, the folder its files are relative to): the shared data's, when
    ``../shared`` is beside the clone, then ours."""
    sources = [(PROJECTS, TRANSCRIPTS)] if PROJECTS.exists() else []
    return [*sources, (OWN / "projects.json", OWN)]


def load_projects() -> dict[str, list[Transcript]]:
    """Each project's transcripts, in the order they are saved (projects.json's)."""
    loaded = {}
    for listing, folder in _sources():
        for name, project in json.loads(listing.read_text()).items():
            client = project.get("format", "claude")
            loaded[name] = [Transcript(folder / f, session_of(f), client) for f in project["files"]]
    return loaded


def load_questions() -> list[dict[str, Any]]:
    """Every question, with its ``split`` (dev unless it says), its ``sets`` (none unless it
    says) and ``core`` (true unless it says: one of a project's 60, not only of a set); those
    about a project whose transcripts are not here are left out."""
    files = [QUESTIONS] if QUESTIONS.exists() else []
    files += sorted((OWN / "questions").glob("*.jsonl"))
    projects = load_projects()
    questions = []
    for path in files:
        for line in path.read_text().splitlines():
            if line.strip():
                question = {"split": "dev", "sets": [], "core": True, **json.loads(line)}
                if question["project"] in projects:
                    questions.append(question)
    return questions


# --- the raw text the baselines see ---------------------------------------------------------


def _flatten(value: Any, key: str = "") -> list[str]:
    """A tool's input as text: one ``key: value`` line per leaf, strings verbatim (so a
    quoted word or a command reads as in the transcript, not JSON-escaped)."""
    if isinstance(value, dict):
        return [line for k, v in value.items() for line in _flatten(v, str(k))]
    if isinstance(value, list):
        return [line for v in value for line in _flatten(v, key)]
    text = value if isinstance(value, str) else json.dumps(value)
    return [f"{key}: {text}" if key else text]


def message_text(content: Any) -> str:
    """A message's text blocks and tool inputs; tool results and thinking left out."""
    if isinstance(content, str):
        return content
    parts = []
    for block in content if isinstance(content, list) else []:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            parts.append(block["text"])
        elif block.get("type") == "tool_use":
            lines = _flatten(block.get("input") or {})
            parts.append("\n".join([f"[{block.get('name', 'tool')}]", *lines]))
    return "\n".join(p for p in parts if p.strip())


@dataclass(frozen=True)
class Message:
    timestamp: str
    order: int  # where it was read, to keep ties (and untimed lines) in file order
    text: str


def codex_text(payload: dict[str, Any]) -> str:
    """A Codex rollout item's message text or tool input (``response_item`` payloads);
    tool results, reasoning and Codex's own developer instructions left out."""
    if payload.get("type") == "message":
        if payload.get("role") not in ("user", "assistant"):
            return ""
        blocks = payload.get("content") if isinstance(payload.get("content"), list) else []
        return "\n".join(
            b["text"] for b in blocks if isinstance(b, dict) and isinstance(b.get("text"), str)
        )
    if payload.get("type") in ("function_call", "custom_tool_call", "local_shell_call"):
        tool_input = payload.get("arguments") or payload.get("input") or payload.get("action")
        with contextlib.suppress(ValueError):  # a custom tool's input is plain text
            tool_input = json.loads(tool_input) if isinstance(tool_input, str) else tool_input
        lines = _flatten(tool_input) if isinstance(tool_input, dict) else [str(tool_input)]
        return "\n".join([f"[{payload.get('name', 'tool')}]", *lines])
    return ""


def raw_messages(path: Path, start: int = 0, client: str = "claude") -> list[Message]:
    """The user and assistant messages of one transcript (Claude Code 1.x or 2.x, or a Codex
    rollout), as text.

    Other lines (progress, system, summaries, file snapshots, queue operations, Codex's
    events and reasoning) are not messages and are skipped.
    """
    messages = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if client == "codex":
            payload = entry.get("payload") if isinstance(entry, dict) else None
            if entry.get("type") == "response_item" and isinstance(payload, dict):
                text = codex_text(payload)
                if text.strip():
                    messages.append(
                        Message(str(entry.get("timestamp") or ""), start + number, text)
                    )
            continue
        if not isinstance(entry, dict) or entry.get("type") not in ("user", "assistant"):
            continue
        message = entry.get("message")
        if not isinstance(message, dict):
            continue
        text = message_text(message.get("content"))
        if text.strip():
            messages.append(Message(str(entry.get("timestamp") or ""), start + number, text))
    return messages


def project_messages(transcripts: list[Transcript]) -> list[Message]:
    """All of a project's messages in time order (ties in save order, then line order)."""
    messages = []
    for index, transcript in enumerate(transcripts):
        messages += raw_messages(transcript.path, index * 10_000_000, transcript.format)
    return sorted(messages, key=lambda m: (m.timestamp, m.order))


def transcript_tokens(messages: list[Message]) -> int:
    return sum(tokens(m.text) for m in messages)


# --- scoring --------------------------------------------------------------------------------


def normalize(text: str) -> str:
    return re.sub(r"\s+", " ", text).lower()


def answered(question: dict[str, Any], context: str) -> bool:
    """The README's rule: all needles (any one when ``any``) in the context, compared
    case-insensitively with whitespace runs collapsed to one space."""
    haystack = normalize(context)
    found = [normalize(needle) in haystack for needle in question["needles"]]
    return any(found) if question["any"] else all(found)


# --- the stored memory ----------------------------------------------------------------------

# The searchable text of each table; project_states adds every text column to "all columns".
SEARCHABLE = {
    "context_snippets": ("title", "dense_content"),
    "decision_logs": ("decision_text", "rationale", "alternatives_considered"),
    "conversation_contexts": ("title", "dense_summary"),
}
ALL_COLUMNS = {
    "context_snippets": ("title", "dense_content"),
    "decision_logs": ("decision_text", "rationale", "alternatives_considered"),
    "conversation_contexts": ("title", "dense_summary", "key_decisions", "current_state"),
}


@dataclass
class StoredMemory:
    """A project's stored memory as text: each row's searchable fields, and all of them."""

    searchable: list[str]
    everything: list[str]

    @property
    def searchable_tokens(self) -> int:
        return sum(tokens(text) for text in self.searchable)

    def holds(self, question: dict[str, Any], searchable_only: bool) -> bool:
        """Are the question's needles anywhere in this memory (each within one row)?"""
        rows = self.searchable if searchable_only else self.everything
        return answered(question, "\n\x00\n".join(rows))  # no needle spans two rows


def stored_memory(engine: Any, project: str) -> StoredMemory:
    """What the database holds for ``project`` (by name), read with SQLAlchemy Core on the
    reflected tables, so the benchmark does not depend on the package's models."""
    from sqlalchemy import MetaData, String, Table, select

    meta = MetaData()
    tables = {
        name: Table(name, meta, autoload_with=engine)
        for name in ("projects", *ALL_COLUMNS, "project_states")
    }
    searchable: list[str] = []
    everything: list[str] = []

    def text_of(row: Any, columns: tuple[str, ...]) -> str:
        return "\n".join(str(row[c]) for c in columns if row[c])

    with engine.connect() as connection:
        projects = tables["projects"]
        project_id = connection.execute(
            select(projects.c.id).where(projects.c.name == project)
        ).scalar()
        if project_id is None:
            return StoredMemory([], [])
        for name, columns in ALL_COLUMNS.items():
            table = tables[name]
            query = (
                select(*(table.c[c] for c in columns))
                .where(table.c.project_id == project_id)
                .order_by(table.c.id)
            )
            for row in connection.execute(query).mappings():
                searchable.append(text_of(row, SEARCHABLE[name]))
                everything.append(text_of(row, columns))
        states = tables["project_states"]
        text_columns = tuple(
            c.name
            for c in states.columns
            if isinstance(c.type, String) and c.name != "id" and not c.name.endswith("_id")
        )
        query = select(*(states.c[c] for c in text_columns)).where(
            states.c.project_id == project_id
        )
        for row in connection.execute(query).mappings():
            everything.append(text_of(row, text_columns))
    return StoredMemory([t for t in searchable if t], [t for t in everything if t])


def storage_by_kind(engine: Any, project: str) -> dict[str, int]:
    """Where ``project``'s searchable tokens go: snippets by category, decisions, session
    summaries (the same text ``stored_memory`` counts)."""
    from sqlalchemy import MetaData, Table, select

    meta = MetaData()
    tables = {name: Table(name, meta, autoload_with=engine) for name in ("projects", *SEARCHABLE)}
    out: dict[str, int] = {}
    with engine.connect() as connection:
        projects = tables["projects"]
        project_id = connection.execute(
            select(projects.c.id).where(projects.c.name == project)
        ).scalar()
        for name, columns in SEARCHABLE.items():
            table = tables[name]
            kind = table.c.category if name == "context_snippets" else None
            query = select(*(table.c[c] for c in columns), *([kind] if kind is not None else []))
            for row in connection.execute(query.where(table.c.project_id == project_id)):
                label = row[-1] if kind is not None else name.split("_")[0]
                text = "\n".join(str(v) for v in row[: len(columns)] if v)
                out[label] = out.get(label, 0) + tokens(text)
    return out


# --- the report -----------------------------------------------------------------------------


def table(results: dict[str, dict[str, bool]], questions: list[dict[str, Any]]) -> list[str]:
    """Lines of the table: one row per system, overall then one column per kind.

    ``results`` maps a system to {question id: answered}.
    """
    by_kind = {k: [q["id"] for q in questions if q["kind"] == k] for k in KINDS}
    lines = [f"{'':<10}{'overall':>16}" + "".join(f"{k:>10}" for k in KINDS)]
    for system, answers in results.items():
        hits = sum(answers[q["id"]] for q in questions)
        overall = f"{hits / len(questions):.1%} ({hits}/{len(questions)})"
        cells = "".join(
            f"{f'{sum(answers[i] for i in ids)}/{len(ids)}':>10}" for ids in by_kind.values()
        )
        lines.append(f"{system:<10}{overall:>16}{cells}")
    return lines


def by_project(
    results: dict[str, dict[str, bool]], questions: list[dict[str, Any]], projects: list[str]
) -> str:
    parts = []
    for project in projects:
        ids = [q["id"] for q in questions if q["project"] == project]
        counts = ", ".join(
            f"{system} {sum(answers[i] for i in ids)}/{len(ids)}"
            for system, answers in results.items()
        )
        parts.append(f"{project}: {counts}")
    return "by project: " + "; ".join(parts)
