"""Plain events a transcript parses into, shared by every transcript format.

Parsers yield these in file order; compression folds them into a ``SessionMemory``. Large
texts are already capped here (see ``cap_text``), so holding events never holds a whole
tool output or a whole written file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# What a user line is, as far as "what the person typed" is concerned.
PROMPT_KINDS = (
    "typed",  # text the person typed
    "command",  # a slash command, text is "/name args"
    "meta",  # injected by the harness (isMeta, system reminders, skill bodies)
    "local-output",  # output or caveat of a local slash command
    "notification",  # background task notification
    "interrupt",  # "[Request interrupted by user]"
    "task-prompt",  # a prompt the main agent wrote for a subagent
    "compaction-request",  # the prompt asking a compaction agent to summarise
)

TEXT_CAP = 20_000
THINKING_CAP = 4_000
TOOL_RESULT_CAP = 6_000
# Of a tool's input (a command, a file written): a big edit's later functions are what later
# questions name.
TOOL_INPUT_CAP = 40_000
SUMMARY_CAP = 40_000


def cap_text(text: str, limit: int, head_share: float = 0.5) -> str:
    """``text`` cut to about ``limit`` characters, keeping its head and tail.

    Cuts fall on whitespace where possible so that no token (a secret, a path) is split and
    left half-visible to redaction.
    """
    if len(text) <= limit:
        return text
    head = int(limit * head_share)
    tail_start = len(text) - (limit - head)
    window = max(0, head - 200)
    space = max(text.rfind(" ", window, head), text.rfind("\n", window, head))
    head = space if space > 0 else head
    space = _next_space(text, tail_start, tail_start + 200)
    tail_start = space + 1 if space != -1 else tail_start
    omitted = tail_start - head
    return f"{text[:head]}\n[… {omitted} characters omitted …]\n{text[tail_start:]}"


def _next_space(text: str, start: int, end: int) -> int:
    found = [i for i in (text.find(" ", start, end), text.find("\n", start, end)) if i != -1]
    return min(found) if found else -1


# A Windows path: a drive letter (``C:\Users``, ``C:/Users``) or a share (``\\server``);
# and one written with backslashes anywhere in a text (a build error's ``C:\src\X.cs(3,5)``).
WINDOWS_ABSOLUTE = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\)")
WINDOWS_PATH_IN_TEXT = re.compile(r"\b[A-Za-z]:\\\w")
PATH_INPUTS = ("file_path", "notebook_path", "path")  # a tool's arguments naming a file


def posix_path(path: str) -> str:
    """A path with forward slashes: Claude Code, Codex and Gemini CLI on Windows write
    ``C:\\Users\\me\\app\\src\\main.cs``, and the same file is ``src/main.cs`` of the project."""
    if WINDOWS_ABSOLUTE.match(path) or ("\\" in path and "/" not in path):
        return path.replace("\\", "/")
    return path


@dataclass(slots=True)
class SessionInfo:
    """Where the session runs; emitted when any of these first appears or changes."""

    session_id: str | None = None
    cwd: str | None = None
    branch: str | None = None
    version: str | None = None
    timestamp: str | None = None

    def __post_init__(self) -> None:
        if self.cwd:
            self.cwd = posix_path(self.cwd)


@dataclass(slots=True)
class UserPrompt:
    """A user line that is not a tool result, classified by ``kind`` (see PROMPT_KINDS)."""

    text: str
    kind: str = "typed"
    timestamp: str | None = None
    sidechain: bool = False


@dataclass(slots=True)
class ToolCall:
    """One tool invocation; string values of ``input`` are capped."""

    id: str
    name: str
    input: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key in PATH_INPUTS:
            if isinstance(path := self.input.get(key), str):
                self.input[key] = posix_path(path)


@dataclass(slots=True)
class AssistantMessage:
    """The blocks of one assistant message (2.x lines sharing ``message.id`` are grouped)."""

    message_id: str | None = None
    text: str = ""
    thinking: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    timestamp: str | None = None
    sidechain: bool = False


@dataclass(slots=True)
class ToolResult:
    """The result of a tool call, paired with the call by id when the call was seen."""

    tool_use_id: str
    content: str = ""
    is_error: bool = False
    call: ToolCall | None = None
    details: dict[str, Any] = field(default_factory=dict)  # small fields of toolUseResult
    timestamp: str | None = None
    sidechain: bool = False
    original_chars: int = 0


@dataclass(slots=True)
class CompactionSummary:
    """A summary Claude Code wrote of earlier conversation."""

    text: str
    source: str = "compact"  # "compact" (isCompactSummary), "summary-line" (1.x), "agent"
    timestamp: str | None = None


@dataclass(slots=True)
class ChatTurn:
    """One turn of a chat JSONL conversation.

    ``kind`` and ``tags`` are set on a memory saved by hand (`recall mcp` save_memory): such a
    line is one memory to keep as it is, not a turn of a conversation.
    """

    content: str
    role: str | None = None
    speaker: str | None = None
    timestamp: str | None = None
    turn_id: str | None = None
    kind: str | None = None
    tags: list[str] = field(default_factory=list)


Event = SessionInfo | UserPrompt | AssistantMessage | ToolResult | CompactionSummary | ChatTurn
