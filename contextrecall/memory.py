"""Plain data for what one session yields: the contract between extraction and storage.

Compression produces a ``SessionMemory``; the save task maps it onto rows. Pure data,
no I/O, JSON round-trippable through ``to_dict`` / ``from_dict``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SNIPPET_CATEGORIES = (
    "command",  # a command that worked
    "fix",  # an error and what resolved it
    "configuration",  # a configuration value
    "gotcha",  # a pitfall worth remembering
    "fact",  # a fact stated in a conversation (chat sessions)
    "note",  # something saved by hand
    "snippet",  # a piece of code or text saved by hand, kept verbatim
)
# The tag of a command that only looked (``git diff``, ``ls``, ``kubectl get``): what it
# printed is searchable, but it is no work the session did.
READ_ONLY_TAG = "read-only"
# What a memory saved by hand (`recall mcp` save_memory) may be: a decision, or a snippet of
# one of these categories.
MANUAL_KINDS = ("note", "decision", "snippet", "command", "fix", "configuration", "gotcha")
MANUAL_FORMAT = "manual"  # SessionMemory.source_format of a session of memories saved by hand
# Of the agent's last report a session's state keeps (its outcome: where the session stands),
# and of the last request: what the session start shows of each.
OUTCOME_CHARS = 800


@dataclass
class Decision:
    """A choice the session made, with why and what else was considered."""

    text: str
    rationale: str | None = None
    alternatives: list[str] = field(default_factory=list)
    impact: str = "medium"
    decision_type: str = "technical"
    tags: list[str] = field(default_factory=list)


@dataclass
class Snippet:
    """A reusable fact: a working command, a fix, a configuration value, a gotcha."""

    category: str
    title: str
    content: str
    tags: list[str] = field(default_factory=list)
    speaker: str | None = None
    occurred_at: str | None = None  # ISO-8601
    importance: float = 1.0
    ref: str | None = None  # the source turn's id, for chat facts
    position: int | None = None  # the turn's place in its session, for chat facts
    identity: str | None = None  # what makes two copies the same memory; default: content


@dataclass
class FileActivity:
    """A file the session touched, with how often it was edited, created or read."""

    path: str
    edits: int = 0
    created: bool = False
    reads: int = 0


@dataclass
class CommandRun:
    """A shell command and what came of it."""

    command: str
    outcome: str  # "ok", "failed", "tests-passed", "tests-failed", "unknown"
    error: str | None = None
    resolved: bool | None = None
    tests: str | None = None  # what the test runner said last ("51 passed in 0.58s")


@dataclass
class ProjectStateUpdate:
    """Where the project stands after the session."""

    phase: str | None = None
    progress_percentage: int | None = None
    blockers: list[str] = field(default_factory=list)
    next_actions: list[str] = field(default_factory=list)
    key_files: list[str] = field(default_factory=list)
    important_decisions: list[str] = field(default_factory=list)
    summary: str | None = None


@dataclass
class ParseReport:
    """What the parser saw and what it had to skip."""

    lines: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    bytes_read: int = 0
    end_offset: int = 0
    text_chars: int = 0  # characters of conversational text seen (for token estimates)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


@dataclass
class SessionMemory:
    """Everything one session (or one delta of it) yields."""

    title: str
    summary: str
    session_id: str | None = None
    source_format: str = "claude"
    decisions: list[Decision] = field(default_factory=list)
    snippets: list[Snippet] = field(default_factory=list)
    state: ProjectStateUpdate = field(default_factory=ProjectStateUpdate)
    files: list[FileActivity] = field(default_factory=list)
    commands: list[CommandRun] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)
    pull_requests: list[str] = field(default_factory=list)  # links, the last named last
    # files it edited after its last commit (all it edited when it made none), the last last
    uncommitted: list[str] = field(default_factory=list)
    tool_errors: list[str] = field(default_factory=list)  # the last calls a tool refused
    branch: str | None = None
    # the git worktree it added and last worked in, as "path (branch)": Claude Code's branch
    # is the checkout's
    worktree: str | None = None
    cwd: str | None = None
    first_request: str | None = None
    last_request: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    tags: list[str] = field(default_factory=list)
    report: ParseReport = field(default_factory=ParseReport)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SessionMemory:
        data = dict(data)
        data["decisions"] = [Decision(**d) for d in data.get("decisions", [])]
        data["snippets"] = [Snippet(**s) for s in data.get("snippets", [])]
        data["state"] = ProjectStateUpdate(**data.get("state", {}))
        data["files"] = [FileActivity(**f) for f in data.get("files", [])]
        data["commands"] = [CommandRun(**c) for c in data.get("commands", [])]
        data["report"] = ParseReport(**data.get("report", {}))
        return cls(**data)
