"""Fuzz the transcript readers: random bytes and random JSONL never raise, and the counts add up.

The only error a parser may raise is ``TranscriptError`` (a path that is no transcript); for
any content at all it returns events and a ``ParseReport`` whose line counts, offsets and
skips agree with each other and with the input.
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from contextrecall.memory import ParseReport
from contextrecall.transcript import TranscriptError, iter_events, parse_file
from contextrecall.transcript.chat import parse_chat
from contextrecall.transcript.claude import CLAUDE_LINE_TYPES, parse_claude
from contextrecall.transcript.events import (
    SUMMARY_CAP,
    TEXT_CAP,
    THINKING_CAP,
    TOOL_RESULT_CAP,
    AssistantMessage,
    ChatTurn,
    CompactionSummary,
    SessionInfo,
    ToolResult,
    UserPrompt,
)
from contextrecall.transcript.reader import iter_objects
from tests.fuzz.profile import CASES, FUZZ, assert_enough_cases

EVENT_TYPES = (SessionInfo, UserPrompt, AssistantMessage, ToolResult, CompactionSummary, ChatTurn)
CAP_SLACK = 100  # the "[… N characters omitted …]" marker cap_text inserts
LINE_OUTCOMES = ("invalid-json", "not-an-object", "line-too-long")

# Byte fragments that make random input look like JSONL often enough to reach the parsers.
BYTE_FRAGMENTS = [
    b"\n",
    b"\r\n",
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b'"',
    b"\\",
    b" ",
    b"\x00",
    b"\xff\xfe",
    b"\xc3",
    b"null",
    b"1e999",
    b"NaN",
    b'"content"',
    b'"type"',
    b'"user"',
    b'"assistant"',
    b'"message"',
    b'{"content": "hi"}',
    b'{"type": "user", "message": {"content": "x"}}',
    b'{"type": "assistant", "message": {"id": "m", "content": [{"type": "text", "text": "a"}]}}',
    b"[" * 50,
]
random_bytes = st.one_of(
    st.binary(max_size=400),
    st.lists(st.one_of(st.binary(max_size=12), st.sampled_from(BYTE_FRAGMENTS)), max_size=40).map(
        b"".join
    ),
)

# Text that reaches the prompt classifier and the compaction cleaner.
TEXT_FRAGMENTS = [
    "<command-name>/init</command-name><command-args>x</command-args>",
    "<bash-input>ls</bash-input>",
    "<local-command-stdout>ok</local-command-stdout>",
    "<task-notification>done</task-notification>",
    "[Request interrupted by user]",
    "<system-reminder>remember</system-reminder>",
    "Your task is to create a detailed summary of the conversation so far",
    "This session is being continued from a previous conversation\n<summary>S</summary>",
    "Summary:\nall done",
    "The user doesn't want to proceed with this tool use",
]


def _long_text(words: int) -> str:
    return "word " * words


texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(TEXT_FRAGMENTS),
    st.builds(_long_text, st.integers(min_value=4000, max_value=9000)),  # past every cap
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20))
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=6,
)
# Values of the wrong type, drawn cheaply (unhashable ones included); most keys use these.
odd = st.sampled_from([None, True, False, 0, -1, 2.5, "", [], {}, [1, "a"], {"a": [None]}])
small_ids = st.sampled_from(["m1", "m2", "t1", "t2", ""]) | odd

blocks = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            [
                "text",
                "thinking",
                "tool_use",
                "server_tool_use",
                "tool_result",
                "image",
                "redacted_thinking",
                "other",
            ]
        )
        | odd
    },
    optional={
        "text": texts | odd,
        "thinking": texts | odd,
        "name": st.sampled_from(["Bash", "Edit", "Write", "Read", "Task"]) | odd,
        "id": small_ids,
        "tool_use_id": small_ids,
        "input": st.dictionaries(st.sampled_from(["command", "file_path", "content"]), texts) | odd,
        "content": texts
        | st.lists(st.fixed_dictionaries({"type": st.just("text"), "text": texts}), max_size=3)
        | odd,
        "is_error": odd,
    },
)
messages = st.fixed_dictionaries(
    {},
    optional={
        "id": small_ids,
        "role": st.sampled_from(["user", "assistant"]) | odd,
        "content": texts | st.lists(blocks, max_size=3) | json_values,
    },
)
generated_claude_lines = st.fixed_dictionaries(
    {"type": st.sampled_from([*sorted(CLAUDE_LINE_TYPES), "custom-title", "x"]) | odd},
    optional={
        "message": messages | odd,
        "sessionId": small_ids,
        "cwd": texts | odd,
        "gitBranch": texts | odd,
        "version": st.sampled_from(["1.0.0", "2.1.0"]) | odd,
        "timestamp": st.sampled_from(["2026-11-20T10:00:00Z"]) | odd,
        "isSidechain": odd,
        "isMeta": odd,
        "isCompactSummary": odd,
        "isApiErrorMessage": odd,
        "summary": texts | odd,
        "operation": st.sampled_from(["enqueue", "dequeue"]) | odd,
        "content": texts | odd,
        "toolUseResult": json_values
        | st.fixed_dictionaries(
            {},
            optional={
                "type": odd,
                "plan": texts | odd,
                "answers": json_values,
                "task": odd
                | st.dictionaries(st.sampled_from(["id", "subject", "status"]), scalars),
                "exitCode": odd,
            },
        ),
    },
)
# Realistic lines of every kind (1.x and 2.x), mutated at a few places: cheap to draw, and
# deep enough to reach the grouping, pairing and compaction logic.
_TOOL_USE = {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "ls"}}
_RESULT = {"type": "tool_result", "tool_use_id": "t1", "content": "ok", "is_error": False}
CLAUDE_TEMPLATES: list[dict[str, Any]] = [
    {"type": "summary", "summary": "Earlier work", "leafUuid": "u0"},
    {
        "type": "user",
        "sessionId": "s1",
        "cwd": "/repo",
        "gitBranch": "main",
        "version": "2.1.0",
        "timestamp": "2026-11-20T10:00:00Z",
        "message": {"role": "user", "content": "Please add a feature"},
    },
    {"type": "user", "isMeta": True, "message": {"role": "user", "content": "<meta>"}},
    {
        "type": "user",
        "isCompactSummary": True,
        "message": {"role": "user", "content": TEXT_FRAGMENTS[7]},
    },
    {
        "type": "user",
        "isSidechain": True,
        "message": {"role": "user", "content": [{"type": "text", "text": TEXT_FRAGMENTS[6]}]},
    },
    {
        "type": "user",
        "message": {"role": "user", "content": [_RESULT]},
        "toolUseResult": {"type": "text", "exitCode": 0, "plan": "p", "answers": {"q": "a"}},
    },
    {
        "type": "assistant",
        "message": {"id": "m1", "role": "assistant", "content": [{"type": "text", "text": "Hi"}]},
    },
    {
        "type": "assistant",
        "message": {"id": "m1", "content": [{"type": "thinking", "thinking": "hmm"}]},
    },
    {"type": "assistant", "message": {"id": "m1", "content": [_TOOL_USE]}},
    {"type": "assistant", "message": {"id": "m2", "content": "plain text answer"}},
    {"type": "assistant", "isApiErrorMessage": True, "message": {"content": "error"}},
    {"type": "queue-operation", "operation": "enqueue", "content": "typed while busy"},
    {"type": "system", "content": "compacted"},
    {"type": "progress", "data": {}},
    {"type": "file-history-snapshot", "snapshot": {}},
]
MUTATION_PATHS: list[tuple[Any, ...]] = [
    ("type",),
    ("message",),
    ("message", "id"),
    ("message", "content"),
    ("message", "content", 0),
    ("message", "content", 0, "type"),
    ("message", "content", 0, "text"),
    ("message", "content", 0, "input"),
    ("message", "content", 0, "content"),
    ("message", "content", 0, "tool_use_id"),
    ("timestamp",),
    ("sessionId",),
    ("isCompactSummary",),
    ("isSidechain",),
    ("toolUseResult",),
    ("summary",),
    ("content",),
    ("operation",),
]


def _mutated(template: dict[str, Any], edits: list[tuple[tuple[Any, ...], Any]]) -> dict:
    """A deep copy of ``template`` with each edit's path set to its value, where it fits."""
    line = json.loads(json.dumps(template))
    for path, value in edits:
        node: Any = line
        for step in path[:-1]:
            node = node[step] if _settable(node, step) and step in _keys(node) else None
        if _settable(node, path[-1]):
            node[path[-1]] = copy.deepcopy(value)  # a later edit must not change the shared one
    return line


def _settable(node: Any, step: str | int) -> bool:
    if isinstance(node, dict):
        return isinstance(step, str)
    return isinstance(node, list) and isinstance(step, int) and step < len(node)


def _keys(node: dict | list) -> Any:
    return node if isinstance(node, dict) else range(len(node))


template_claude_lines = st.builds(
    _mutated,
    st.sampled_from(CLAUDE_TEMPLATES),
    st.lists(st.tuples(st.sampled_from(MUTATION_PATHS), texts | odd | json_values), max_size=2),
)
claude_lines = template_claude_lines | generated_claude_lines

chat_lines = st.fixed_dictionaries(
    {},
    optional={
        "content": texts | odd,
        "role": st.sampled_from(["user", "assistant", "system", "USER"]) | odd,
        "speaker": texts | odd,
        "timestamp": texts | odd,
        "id": small_ids,
        "kind": st.sampled_from(["fact", "Decision", "note"]) | odd,  # a memory saved by hand
        "tags": st.lists(texts | odd, max_size=3) | odd,
    },
)


def _jsonl(lines: list[Any], garbage: list[bytes], cut: int | None) -> bytes:
    """Lines as JSONL with garbage lines mixed in, optionally cut off mid-write at ``cut``."""
    rows = [json.dumps(line).encode() for line in lines]
    for i, junk in enumerate(garbage):
        rows.insert(i * 3 % (len(rows) + 1), junk.replace(b"\n", b" "))
    data = b"".join(row + b"\n" for row in rows)
    return data[: cut % (len(data) + 1)] if cut is not None else data


def jsonl(line_strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[bytes]:
    return st.builds(
        _jsonl,
        st.lists(line_strategy, max_size=4),
        st.lists(st.sampled_from(BYTE_FRAGMENTS) | st.binary(max_size=10), max_size=2),
        st.none() | st.integers(min_value=0),
    )


class CountingObjects:
    """Wraps ``iter_objects`` to count the decoded objects handed to a parser."""

    def __init__(self, data: bytes, report: ParseReport, offset: int) -> None:
        self.count = 0
        self._objects = iter_objects(io.BytesIO(data), report, offset)

    def __iter__(self):
        for obj in self._objects:
            self.count += 1
            yield obj


def check_report(data: bytes, offset: int, report: ParseReport, objects: int) -> None:
    """The reader's accounting: every consumed line is an object or a counted skip."""
    assert all(isinstance(n, int) and n > 0 for n in report.skipped.values())
    assert report.lines == objects + sum(report.skipped.get(k, 0) for k in LINE_OUTCOMES)
    assert report.text_chars >= 0
    if offset > len(data):
        assert report.skipped == {"offset-past-end": 1} and report.lines == 0
        return
    assert offset <= report.end_offset <= len(data)
    assert report.bytes_read == report.end_offset - offset
    if "partial-line" in report.skipped:
        assert report.skipped["partial-line"] == 1
        rest = data[report.end_offset :]
        assert rest and b"\n" not in rest  # only an unfinished last line is left
    else:
        assert report.end_offset == len(data)


def check_events(events: list[Any]) -> None:
    for event in events:
        assert isinstance(event, EVENT_TYPES)
        for name in ("timestamp", "session_id", "cwd", "branch", "version", "speaker", "role"):
            value = getattr(event, name, None)
            assert value is None or isinstance(value, str), (name, value)
        if isinstance(event, UserPrompt):
            assert isinstance(event.text, str) and len(event.text) <= TEXT_CAP + CAP_SLACK
        elif isinstance(event, AssistantMessage):
            assert len(event.text) <= TEXT_CAP + CAP_SLACK
            assert len(event.thinking) <= THINKING_CAP + CAP_SLACK
            assert event.text or event.thinking or event.tool_calls
        elif isinstance(event, ToolResult):
            assert isinstance(event.content, str)
            assert len(event.content) <= TOOL_RESULT_CAP + CAP_SLACK
            assert event.original_chars >= len(event.content) - CAP_SLACK
        elif isinstance(event, CompactionSummary):
            assert event.text and len(event.text) <= SUMMARY_CAP + CAP_SLACK
        elif isinstance(event, ChatTurn):
            assert event.content.strip() and len(event.content) <= TEXT_CAP + CAP_SLACK
            assert event.role is None or event.role == event.role.lower()
            assert event.kind is None or event.kind == event.kind.lower()
            assert all(isinstance(tag, str) and tag for tag in event.tags)


def parse_claude_bytes(data: bytes, offset: int) -> tuple[list[Any], ParseReport]:
    """Parse through the public entry, then check its report against a counted re-run."""
    report = ParseReport()
    events = list(iter_events(io.BytesIO(data), "claude", offset, report))
    counted_report = ParseReport()
    objects = CountingObjects(data, counted_report, offset)
    again = list(parse_claude(objects, counted_report))
    assert again == events and counted_report == report  # deterministic
    check_report(data, offset, report, objects.count)
    check_events(events)
    return events, report


def parse_chat_bytes(data: bytes, offset: int) -> tuple[list[Any], ParseReport]:
    report = ParseReport()
    events = list(iter_events(io.BytesIO(data), "chat", offset, report))
    counted_report = ParseReport()
    objects = CountingObjects(data, counted_report, offset)
    again = list(parse_chat(objects, counted_report))
    assert again == events and counted_report == report
    check_report(data, offset, report, objects.count)
    check_events(events)
    # One turn per object with text content; every other object is counted as skipped.
    assert len(events) + report.skipped.get("no-content", 0) == objects.count
    return events, report


def parse_auto(path: Path, data: bytes) -> None:
    """``parse_file`` with format detection: events, or TranscriptError and nothing else."""
    path.write_bytes(data)
    try:
        parsed = parse_file(path)
    except TranscriptError:
        return
    assert parsed.format in ("claude", "codex", "gemini", "chat")
    check_events(parsed.events)
    assert parsed.report.end_offset <= len(data)


offsets = st.just(0) | st.integers(min_value=0, max_value=8) | st.integers(0, 500)


def test_claude_parser_survives_random_input_with_consistent_counts(tmp_path: Path) -> None:
    """Random bytes and random Claude Code JSONL: no exception, counts and offsets agree."""

    @FUZZ
    @given(data=random_bytes | jsonl(claude_lines), offset=offsets)
    def claude_parser(data: bytes, offset: int) -> None:
        CASES["claude parser"] += 1
        parse_claude_bytes(data, offset)
        parse_auto(tmp_path / "session.jsonl", data)

    claude_parser()
    assert_enough_cases("claude parser")


def test_chat_parser_survives_random_input_and_resumes_at_line_boundaries(
    tmp_path: Path,
) -> None:
    """Random bytes and random chat JSONL: no exception, one turn or one skip per object, and
    reading in two parts split at a line boundary yields the turns of one read."""

    @FUZZ
    @given(data=random_bytes | jsonl(chat_lines), offset=offsets, split=st.integers(0))
    def chat_parser(data: bytes, offset: int, split: int) -> None:
        CASES["chat parser"] += 1
        parse_chat_bytes(data, offset)
        whole, _ = parse_chat_bytes(data, 0)
        boundaries = [0] + [i + 1 for i, byte in enumerate(data) if byte == ord("\n")]
        cut = boundaries[split % len(boundaries)]
        head, head_report = parse_chat_bytes(data[:cut], 0)
        assert head_report.end_offset == cut
        tail, _ = parse_chat_bytes(data, cut)
        assert head + tail == whole
        parse_auto(tmp_path / "chat.jsonl", data)

    chat_parser()
    assert_enough_cases("chat parser")


# Codex rollouts and Gemini CLI chat logs: the lines the real clients wrote (tests/clients/
# transcripts), mutated where their parsers look.
AGENT_LOGS = Path(__file__).resolve().parents[1] / "clients" / "transcripts"
AGENT_TEMPLATES = {
    fmt: [json.loads(line) for line in (AGENT_LOGS / name).read_text().splitlines()]
    for fmt, name in (("codex", "codex-tool-turn.jsonl"), ("gemini", "gemini-tool-turn.jsonl"))
}
AGENT_PATHS: list[tuple[Any, ...]] = [
    ("type",),
    ("payload",),
    ("payload", "type"),
    ("payload", "role"),
    ("payload", "content"),
    ("payload", "content", 0, "text"),
    ("payload", "arguments"),
    ("payload", "output"),
    ("payload", "call_id"),
    ("payload", "git"),
    ("id",),
    ("content",),
    ("content", 0),
    ("toolCalls",),
    ("toolCalls", 0, "args"),
    ("toolCalls", 0, "result"),
    ("toolCalls", 0, "result", 0, "functionResponse"),
    ("thoughts",),
    ("$rewindTo",),
    ("$set",),
    ("sessionId",),
]


def agent_lines(fmt: str) -> st.SearchStrategy[Any]:
    return st.builds(
        _mutated,
        st.sampled_from(AGENT_TEMPLATES[fmt]),
        st.lists(st.tuples(st.sampled_from(AGENT_PATHS), texts | odd | json_values), max_size=2),
    )


def test_codex_and_gemini_parsers_survive_random_input(tmp_path: Path) -> None:
    """Random bytes and mutated lines of the real clients' logs, read as Codex's and as
    Gemini CLI's: no exception, well-formed events, offsets within the data."""

    @FUZZ
    @given(
        fmt=st.sampled_from(["codex", "gemini"]),
        data=random_bytes | jsonl(agent_lines("codex")) | jsonl(agent_lines("gemini")),
        offset=offsets,
    )
    def agent_parsers(fmt: str, data: bytes, offset: int) -> None:
        CASES["agent parsers"] += 1
        report = ParseReport()
        events = list(iter_events(io.BytesIO(data), fmt, offset, report))
        check_events(events)
        assert report.end_offset <= max(len(data), offset)
        parse_auto(tmp_path / "agent.jsonl", data)

    agent_parsers()
    assert_enough_cases("agent parsers")
