"""Transcript parsing: real Claude Code sessions (1.x, 2.x, subagents) and hostile files."""

from __future__ import annotations

import json
import os
import shutil
from collections import Counter
from pathlib import Path

import pytest

from contextrecall.memory import ParseReport
from contextrecall.settings import Settings
from contextrecall.transcript import (
    AssistantMessage,
    ChatTurn,
    CompactionSummary,
    SessionInfo,
    ToolResult,
    TranscriptError,
    UserPrompt,
    detect_format,
    iter_events,
    parse_file,
    subagent_paths,
)
from contextrecall.transcript.events import TOOL_RESULT_CAP, cap_text
from contextrecall.transcript.reader import iter_objects

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
TRANSCRIPTS = DATA / "transcripts"
GQC = TRANSCRIPTS / "claude-code-2.1" / "258c7280-ae70-4798-800f-63464d01a85d.jsonl"
DOV = TRANSCRIPTS / "claude-code-2.1" / "4d5611e5-241a-462a-8d15-5122611a9569.jsonl"
SHORT = TRANSCRIPTS / "claude-code-2.1" / "short.jsonl"
TODO_APP = TRANSCRIPTS / "claude-code-1.0" / "fe5e1c67-53e7-4862-81ae-d0e013e3270b.jsonl"


def shared_transcripts() -> list[Path]:
    """Every shared real transcript; skip (or, on CI, fail) when the data is not there."""
    if not TRANSCRIPTS.is_dir():
        reason = f"shared transcripts not found at {TRANSCRIPTS}"
        if Settings.from_env(os.environ).ci:
            pytest.fail(reason)
        pytest.skip(reason)
    return sorted(TRANSCRIPTS.rglob("*.jsonl"))


@pytest.fixture(scope="module")
def real() -> dict[Path, object]:
    """Each shared transcript parsed once for the module."""
    return {path: parse_file(path) for path in shared_transcripts()}


def write_lines(path: Path, *objects: object, tail: bytes = b"") -> Path:
    path.write_bytes(b"".join(json.dumps(o).encode() + b"\n" for o in objects) + tail)
    return path


def user(text: object, **extra: object) -> dict[str, object]:
    return {
        "type": "user",
        "sessionId": "s1",
        "message": {"role": "user", "content": text},
        **extra,
    }


def assistant(message_id: str, *blocks: dict[str, object]) -> dict[str, object]:
    return {"type": "assistant", "message": {"id": message_id, "content": list(blocks)}}


def of(events: list[object], kind: type) -> list:
    return [e for e in events if isinstance(e, kind)]


# -- real transcripts ----------------------------------------------------------------------


def test_every_shared_transcript_parses_completely(real):
    for path, session in real.items():
        assert session.format == "claude", path
        assert session.report.end_offset == path.stat().st_size, path
        assert session.report.lines > 0, path
        assert not {"invalid-json", "not-an-object", "partial-line"} & set(session.report.skipped)
        assert of(session.events, SessionInfo), path
        assert session.report.text_chars > 0, path


def test_2x_lines_sharing_a_message_id_are_grouped_into_one_message(real):
    messages = of(real[SHORT].events, AssistantMessage)
    assert len(messages) == 1
    message = messages[0]
    assert message.message_id == "msg_01MKH1ccEGrZGNPvu8pYiiQa"
    assert (
        message.text
        == "Let me check the project structure and try running the server to see the error."
    )
    assert message.thinking.startswith("The user is having trouble starting their Phoenix server")
    assert [c.name for c in message.tool_calls] == ["Bash", "Glob"]


def test_tool_results_are_paired_with_their_call_by_id(real):
    results = of(real[SHORT].events, ToolResult)
    assert [r.call.name for r in results] == ["Bash", "Glob"]
    assert results[0].call.input["command"] == "mix phx.server 2>&1 | head -80"
    assert results[0].is_error and results[0].details.get("rejected")


def test_real_session_branch_cwd_and_typed_requests(real):
    events = real[GQC].events
    info = of(events, SessionInfo)[-1]
    assert info.branch == "spotter-gqc"
    assert info.cwd == "/home/USER/projects/spotter-worktrees/spotter-gqc"
    typed = [p.text for p in of(events, UserPrompt) if p.kind == "typed"]
    assert typed[0] == "Implement spotter-gqc"
    assert typed[-1] == "did you push?"
    assert "new beads for the epic were added. tackle them" in typed  # a queued prompt
    kinds = Counter(p.kind for p in of(events, UserPrompt))
    assert kinds["notification"] >= 2 and kinds["interrupt"] == 1


def test_known_edits_of_a_real_session_are_paired_with_successful_results(real):
    edited = Counter(
        r.call.input["file_path"].rsplit("/", 1)[-1]
        for r in of(real[DOV].events, ToolResult)
        if r.call and r.call.name in ("Edit", "Write") and not r.is_error
    )
    assert edited["session_live.ex"] == 14


def test_compaction_summaries_are_events_without_the_harness_preamble(real):
    summaries = of(real[GQC].events, CompactionSummary)
    assert len(summaries) == 1
    assert summaries[0].source == "compact"
    assert not summaries[0].text.startswith("This session is being continued")
    assert "Primary Request and Intent" in summaries[0].text


def test_1x_summary_line_and_slash_command_with_args(real):
    events = real[TODO_APP].events
    lines = [c.text for c in of(events, CompactionSummary) if c.source == "summary-line"]
    assert lines == ["Empty Repo Setup: CLAUDE.md Foundation Created"]
    first = of(events, UserPrompt)[0]
    assert (first.kind, first.text) == ("command", "/orchestrator create TODO app by Next.js")
    assert any(m.sidechain for m in of(events, AssistantMessage))  # 1.x inline Task subagents


def test_subagent_file_alone_is_a_sidechain_session(real):
    path = next(p for p in real if p.name == "agent-a881341.jsonl")
    events = real[path].events
    prompts = of(events, UserPrompt)
    assert [p.kind for p in prompts] == ["task-prompt"]
    assert prompts[0].text.startswith("What is the output contract for Claude Code hooks")
    assert all(m.sidechain for m in of(events, AssistantMessage))


def test_compaction_agent_output_is_a_summary_even_under_another_name(real, tmp_path):
    path = next(p for p in real if p.name.startswith("agent-acompact-fffbd0"))
    renamed = shutil.copy(path, tmp_path / "delta.jsonl")
    for events in (real[path].events, parse_file(renamed).events):
        summaries = of(events, CompactionSummary)
        assert [s.source for s in summaries] == ["agent"]
        assert summaries[0].text.startswith("1. Primary Request and Intent")
        assert not of(events, AssistantMessage)


def test_subagent_files_of_a_session_are_found():
    shared_transcripts()
    names = [p.name for p in subagent_paths(GQC)]
    assert names == ["agent-a881341.jsonl", "agent-acompact-fffbd0.jsonl"]


def test_format_detection(tmp_path):
    for path in shared_transcripts():
        assert detect_format(path) == "claude", path
    chat = write_lines(tmp_path / "chat.jsonl", {"role": "user", "content": "hi"})
    assert detect_format(chat) == "chat"
    assert detect_format(write_lines(tmp_path / "other.jsonl", {"x": 1})) is None
    # Claude Code 2.1.2xx may open with more bookkeeping lines than detection reads
    bookkeeping = [{"type": "mode", "mode": "normal", "sessionId": "s1"}] * 60
    opening = write_lines(tmp_path / "opening.jsonl", *bookkeeping, user("hello"))
    assert detect_format(opening) == "claude"


# -- incremental reading -------------------------------------------------------------------


def _totals(events: list[object]) -> dict[str, object]:
    return {
        "calls": sum(len(m.tool_calls) for m in of(events, AssistantMessage)),
        "results": len(of(events, ToolResult)),
        "paired": sum(1 for r in of(events, ToolResult) if r.call),
        "typed": [p.text for p in of(events, UserPrompt) if p.kind == "typed"],
        "summaries": len(of(events, CompactionSummary)),
        "text": "".join(m.text for m in of(events, AssistantMessage)).replace("\n", ""),
    }


@pytest.mark.parametrize("cut_mid_line", [False, True])
def test_incremental_parse_from_offset_equals_one_pass(tmp_path, cut_mid_line):
    shared_transcripts()
    data = GQC.read_bytes()
    cut = data.index(b"\n", len(data) // 2) + 1
    cut = cut + 40 if cut_mid_line else cut  # inside the next line: left for later
    growing = tmp_path / "session.jsonl"
    growing.write_bytes(data[:cut])
    first = ParseReport()
    head = list(iter_events(growing, "claude", 0, first))
    assert first.end_offset <= cut
    assert first.skipped.get("partial-line", 0) == (1 if cut_mid_line else 0)
    growing.write_bytes(data)
    second = ParseReport()
    tail = list(iter_events(growing, "claude", first.end_offset, second))
    whole = parse_file(GQC)
    assert second.end_offset == len(data)
    assert first.lines + second.lines == whole.report.lines
    split, once = _totals(head + tail), _totals(whole.events)
    # the pairing of calls cut from their results is the only thing an offset may lose
    assert {k: v for k, v in split.items() if k != "paired"} == {
        k: v for k, v in once.items() if k != "paired"
    }
    assert once["paired"] - split["paired"] <= 2


# -- hostile files -------------------------------------------------------------------------


def test_cut_off_last_line_is_left_for_the_next_read(tmp_path):
    complete = [user("first"), user("second")]
    path = write_lines(tmp_path / "t.jsonl", *complete, tail=b'{"type": "user", "mess')
    report = ParseReport()
    prompts = [e.text for e in iter_events(path, "claude", 0, report) if isinstance(e, UserPrompt)]
    assert prompts == ["first", "second"]
    assert report.lines == 2
    assert report.end_offset == len(path.read_bytes()) - len(b'{"type": "user", "mess')
    assert report.skipped == {"partial-line": 1}
    path.write_bytes(path.read_bytes() + b'age": {"content": "third"}}\n')
    rest = ParseReport()
    later = [e.text for e in iter_events(path, "claude", report.end_offset, rest)]
    assert later[-1] == "third" and rest.lines == 1


def test_complete_last_line_without_newline_is_consumed(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_bytes(json.dumps(user("only")).encode())
    session = parse_file(path)
    assert [p.text for p in of(session.events, UserPrompt)] == ["only"]
    assert session.report.end_offset == path.stat().st_size


def test_invalid_utf8_is_repaired_and_counted(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"type": "user", "message": {"content": "caf\xff\xfe ok"}}\n')
    session = parse_file(path, "claude")
    assert of(session.events, UserPrompt)[0].text == "caf\ufffd\ufffd ok"
    assert session.report.skipped == {"invalid-utf8": 1}


def test_a_20_mb_line_is_parsed_and_its_result_capped(tmp_path):
    big = "x" * 20_000_000
    path = write_lines(
        tmp_path / "t.jsonl",
        assistant(
            "m1", {"type": "tool_use", "id": "t1", "name": "Bash", "input": {"command": "cat"}}
        ),
        user([{"type": "tool_result", "tool_use_id": "t1", "content": big}]),
        user("after the big line"),
    )
    events = parse_file(path).events
    result = of(events, ToolResult)[0]
    assert result.original_chars == 20_000_000
    assert len(result.content) < TOOL_RESULT_CAP + 100
    assert result.call.name == "Bash"
    assert of(events, UserPrompt)[-1].text == "after the big line"


def test_lines_over_the_size_limit_are_skipped_without_stopping(tmp_path):
    path = write_lines(tmp_path / "t.jsonl", user("y" * 5000), user("small"))
    report = ParseReport()
    objects = list(iter_objects(path, report, max_line_bytes=1024))
    assert [o["message"]["content"] for o in objects] == ["small"]
    assert report.skipped == {"line-too-long": 1}
    assert report.end_offset == path.stat().st_size


def test_offset_past_the_end_of_a_truncated_file_is_reported(tmp_path):
    path = write_lines(tmp_path / "t.jsonl", user("short now"))
    report = ParseReport()
    assert list(iter_events(path, "claude", 10_000, report)) == []
    assert report.skipped == {"offset-past-end": 1}
    assert report.end_offset == 10_000


def test_empty_file_parses_to_nothing(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    session = parse_file(path)
    assert session.events == [] and session.report.lines == 0
    assert session.report.end_offset == 0


def test_binary_file_does_not_crash_the_parser(tmp_path):
    path = tmp_path / "blob.jsonl"
    path.write_bytes(bytes(range(256)) * 64 + b"\n" + os.urandom(4096) + b"\n")
    session = parse_file(path)
    assert session.events == []
    assert session.report.skipped.get("invalid-json", 0) >= 1


def test_json_that_is_not_an_object_or_too_deep_is_skipped(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_bytes(
        b"[1, 2]\n42\n" + b"[" * 100_000 + b"\n" + json.dumps(user("fine")).encode() + b"\n"
    )
    session = parse_file(path, "claude")
    assert [p.text for p in of(session.events, UserPrompt)] == ["fine"]
    assert session.report.skipped == {"not-an-object": 2, "invalid-json": 1}


def test_unknown_line_and_block_types_are_counted_as_skipped(tmp_path):
    path = write_lines(
        tmp_path / "t.jsonl",
        {"type": "hologram", "sessionId": "s1"},
        {"no": "type"},
        assistant("m1", {"type": "text", "text": "hello"}, {"type": "telepathy", "x": 1}),
        {"type": "progress", "data": {}},
    )
    session = parse_file(path, "claude")
    assert session.report.skipped == {"unknown-type": 2, "unknown-block": 1}
    assert of(session.events, AssistantMessage)[0].text == "hello"


def test_missing_path_and_directory_raise_transcript_error(tmp_path):
    with pytest.raises(TranscriptError, match="no such transcript"):
        parse_file(tmp_path / "missing.jsonl", "claude")
    with pytest.raises(TranscriptError, match="is a directory"):
        list(iter_events(tmp_path, "claude"))
    assert issubclass(TranscriptError, ValueError)


def test_session_of_only_compaction_summaries(tmp_path):
    path = write_lines(
        tmp_path / "t.jsonl",
        {"type": "summary", "summary": "Parser rewrite", "leafUuid": "x"},
        user(
            "This session is being continued from a previous conversation.\n"
            "Summary:\n1. Primary Request and Intent:\n   Rewrite the parser.",
            isCompactSummary=True,
        ),
    )
    events = parse_file(path).events
    summaries = of(events, CompactionSummary)
    assert [s.source for s in summaries] == ["summary-line", "compact"]
    assert summaries[1].text.startswith("1. Primary Request and Intent")
    assert not of(events, UserPrompt)


def test_harness_lines_are_not_typed_requests(tmp_path):
    path = write_lines(
        tmp_path / "t.jsonl",
        user("<local-command-caveat>Caveat: generated by local commands</local-command-caveat>"),
        user("<command-name>/model</command-name><command-args></command-args>"),
        user("<local-command-stdout>Set model</local-command-stdout>"),
        user("skill body", isMeta=True),
        user("<system-reminder>remember</system-reminder>"),
        user([{"type": "text", "text": "[Request interrupted by user]"}]),
        user("fix the login bug\n<system-reminder>noise</system-reminder>"),
    )
    prompts = of(parse_file(path).events, UserPrompt)
    assert [(p.kind, p.text) for p in prompts if p.kind in ("typed", "command")] == [
        ("command", "/model"),
        ("typed", "fix the login bug"),
    ]


def test_the_ide_extensions_notes_are_not_part_of_the_request(tmp_path):
    """Claude Code in VS Code (2.1.112) puts the file open in the editor, and the lines selected
    in it, before what the person typed, as text blocks of the same message."""
    opened = (
        "<ide_opened_file>The user opened the file /Users/d/orpheus/.claude/settings.json in the"
        " IDE. This may or may not be related to the current task.</ide_opened_file>"
    )
    selected = (
        "<ide_selection>The user selected the lines 65 to 65 from /Users/d/orpheus/mise.toml:\n"
        "run\n\nThis may or may not be related to the current task.</ide_selection>"
    )
    path = write_lines(
        tmp_path / "t.jsonl",
        user([{"type": "text", "text": opened}, {"type": "text", "text": "Create a worktree"}]),
        user([{"type": "text", "text": selected}, {"type": "text", "text": "why run here?"}]),
        user([{"type": "text", "text": opened}]),
    )
    prompts = of(parse_file(path).events, UserPrompt)
    assert [(p.kind, p.text) for p in prompts if p.kind == "typed"] == [
        ("typed", "Create a worktree"),
        ("typed", "why run here?"),
    ]


def test_chat_lines_need_only_content(tmp_path):
    path = write_lines(
        tmp_path / "chat.jsonl",
        {"content": "just text"},
        {
            "role": "User",
            "speaker": "Ana",
            "content": "Hi!",
            "timestamp": "2023-05-08T13:56:00Z",
            "id": 7,
        },
        {"role": "assistant", "speaker": "Bot"},
    )
    session = parse_file(path, "chat")
    turns = of(session.events, ChatTurn)
    assert [t.content for t in turns] == ["just text", "Hi!"]
    assert (turns[1].role, turns[1].speaker, turns[1].turn_id) == ("user", "Ana", "7")
    assert session.report.skipped == {"no-content": 1}


def test_cap_text_keeps_head_and_tail_and_cuts_between_words():
    text = " ".join(f"w{i}" for i in range(10_000))
    capped = cap_text(text, 1000)
    assert capped.startswith("w0 w1") and capped.endswith("w9999")
    assert len(capped) < 1100 and "characters omitted" in capped
    head = capped.split("\n")[0]
    assert head.split()[-1] in text.split()  # no token cut in half


# Found by the fuzz suite (tests/fuzz/test_fuzz_transcripts.py).
def test_malformed_types_and_fields_are_skipped_not_raised(tmp_path):
    path = write_lines(
        tmp_path / "odd.jsonl",
        {"type": [], "message": {"content": "x"}},
        assistant("m1", {"type": []}, {"type": {"a": 1}, "text": "x"}),
        user([{"type": ["tool_result"]}], sessionId={"id": 1}, timestamp=[2026]),
        user("hello", sessionId=7, cwd=[], gitBranch={}, timestamp=1.5),
    )
    parsed = parse_file(path)
    assert parsed.format == "claude"
    prompt = of(parsed.events, UserPrompt)[-1]
    assert prompt.text == "hello" and prompt.timestamp is None
    for info in of(parsed.events, SessionInfo):
        assert all(v is None for v in (info.session_id, info.cwd, info.branch, info.timestamp))
    assert parsed.report.skipped["unknown-block"] == 3
    assert detect_format(write_lines(tmp_path / "type.jsonl", {"type": []})) is None


def test_1x_summary_line_is_capped(tmp_path):
    from contextrecall.transcript.events import SUMMARY_CAP

    path = write_lines(tmp_path / "s.jsonl", {"type": "summary", "summary": "word " * 20_000})
    (summary,) = of(parse_file(path).events, CompactionSummary)
    assert len(summary.text) < SUMMARY_CAP + 100
