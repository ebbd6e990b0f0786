"""Gemini CLI chat logs parse into the same events as Claude Code transcripts: the last copy
of a message counts, a rewind drops what followed, tools read as Claude Code's, and neither
Gemini's session context nor what our hooks gave it is taken for what the person typed."""

from __future__ import annotations

import json
from pathlib import Path

from contextrecall.agents import transcript_format, without_hook_context
from contextrecall.compression import compress
from contextrecall.memory import ParseReport
from contextrecall.transcript import (
    AssistantMessage,
    SessionInfo,
    ToolResult,
    UserPrompt,
    detect_format,
    iter_events,
)
from contextrecall.transcript.gemini import tool_call, tool_output

REAL = Path(__file__).resolve().parents[1] / "clients" / "transcripts" / "gemini-tool-turn.jsonl"
META = {"sessionId": "s-1", "projectHash": "ab12", "startTime": "2026-12-01T09:00:00.000Z"}


def record(id: str, kind: str, content, **extra) -> dict:
    return {
        "id": id,
        "timestamp": "2026-12-01T09:00:01.000Z",
        "type": kind,
        "content": content,
        **extra,
    }


def shell(id: str, command: str, output: str, status: str = "success") -> dict:
    response = {
        "functionResponse": {"id": id, "name": "run_shell_command", "response": {"output": output}}
    }
    return {
        "id": id,
        "name": "run_shell_command",
        "args": {"command": command},
        "result": [response],
        "status": status,
    }


def test_the_log_the_real_gemini_cli_wrote_parses_to_its_turn():
    assert detect_format(REAL) == "gemini" and transcript_format(str(REAL)) == "gemini"
    events = list(iter_events(REAL))
    typed = [e.text for e in events if isinstance(e, UserPrompt) and e.kind == "typed"]
    assert typed == ["[bash: echo hello-gemini]"]  # without the hook's block
    result = next(e for e in events if isinstance(e, ToolResult))
    assert result.call.name == "Bash" and result.call.input["command"] == "echo hello-gemini"
    assert result.content == "hello-gemini" and not result.is_error
    assert len([e for e in events if isinstance(e, ToolResult)]) == 1  # written twice, once here
    assert "MEMORY-BLOCK-42" not in json.dumps([str(e) for e in events])


def test_last_copies_rewinds_tools_and_failures(tmp_path):
    lines = [
        META,
        {"$set": {"messages": [record("c", "user", [{"text": "<session_context>..."}])]}},
        record("u1", "user", [{"text": "Why does the nightly close run twice?"}]),
        record("g1", "gemini", ""),
        record(
            "g1",
            "gemini",
            "",
            toolCalls=[
                shell("t1", "pytest -q", "Output: 1 failed\nExit Code: 1\nProcess Group PGID: 7")
            ],
        ),
        record("u2", "user", [{"text": "try something else"}]),
        {"$rewindTo": "g1"},
        record("g2", "gemini", "I decided to take an advisory lock because two schedulers run it."),
    ]
    path = tmp_path / "session-2026-12-01T09-00-s1.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    events = list(iter_events(path))
    assert isinstance(events[0], SessionInfo) and events[0].session_id == "s-1"
    prompts = [(e.kind, e.text) for e in events if isinstance(e, UserPrompt)]
    assert prompts == [("typed", "Why does the nightly close run twice?")]  # u2 rewound
    results = [e for e in events if isinstance(e, ToolResult)]
    assert [(r.content, r.is_error) for r in results] == [("1 failed", True)]
    report = ParseReport()
    memory = compress(iter_events(path, "gemini", 0, report), "gemini", report)
    assert any("advisory lock" in d.text for d in memory.decisions)
    assert memory.commands and memory.commands[0].command == "pytest -q"
    assert any(isinstance(e, AssistantMessage) and e.tool_calls for e in events)


def test_tools_read_as_claude_codes():
    edit = tool_call(
        {
            "id": "1",
            "name": "replace",
            "args": {"file_path": "a.py", "old_string": "x", "new_string": "y"},
        }
    )
    assert (edit.name, edit.input) == (
        "Edit",
        {"file_path": "a.py", "old_string": "x", "new_string": "y"},
    )
    read = tool_call({"id": "2", "name": "read_file", "args": {"absolute_path": "/r/b.py"}})
    assert (read.name, read.input) == ("Read", {"file_path": "/r/b.py"})
    other = tool_call({"id": "3", "name": "google_web_search", "args": {"query": "q"}})
    assert (other.name, other.input) == ("google_web_search", {"query": "q"})
    assert tool_output({"status": "error", "result": []}) == ("", True)
    assert without_hook_context("<hook_context>old\nblock</hook_context>\n\nnew") == "new"


def test_gemini_clis_todos_give_the_next_steps(tmp_path):
    todos = [
        {"description": "Reproduce the double close", "status": "completed"},
        {"description": "Try a cron lock", "status": "cancelled"},
        {"description": "Take an advisory lock", "status": "pending"},
    ]
    call = {"id": "t1", "name": "write_todos", "args": {"todos": todos}, "status": "success"}
    lines = [
        META,
        record("u1", "user", [{"text": "Why does the nightly close run twice?"}]),
        record("g1", "gemini", "Planning.", toolCalls=[call]),
    ]
    path = tmp_path / "session-2026-12-01T09-00-s1.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    report = ParseReport()
    memory = compress(iter_events(path, "gemini", 0, report), "gemini", report)
    assert memory.state.next_actions == ["Take an advisory lock"]  # not the cancelled one
    assert memory.state.progress_percentage == 67
