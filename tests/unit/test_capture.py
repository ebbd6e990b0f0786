"""Only what the person and the agent did becomes memory: real Claude Code 2.1.197
transcripts (``tests/clients/transcripts``, written by the pinned CLI against the stand-in
model) with their bookkeeping (the prompt queue, synthetic replies, hook attachments,
background notifications) and recall's own MCP answers, which are not stored again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from contextrecall.compression import compress, compress_file
from contextrecall.memory import ParseReport
from contextrecall.transcript import parse_file
from contextrecall.transcript.claude import classify_prompt, parse_claude, recall_tool
from contextrecall.transcript.events import UserPrompt

TRANSCRIPTS = Path(__file__).resolve().parents[1] / "clients" / "transcripts"


def memory_text(memory) -> str:
    parts = [memory.summary, memory.title, memory.first_request, memory.last_request]
    parts += [f"{s.title}\n{s.content}" for s in memory.snippets]
    parts += [d.text for d in memory.decisions]
    return "\n".join(p or "" for p in parts)


def requests(path: Path) -> list[str]:
    return [
        e.text
        for e in parse_file(path).events
        if isinstance(e, UserPrompt) and e.kind in ("typed", "command")
    ]


def test_a_forked_session_asks_what_its_own_prompt_asked():
    # The fork's transcript begins with the queue line of its new prompt, then a copy of the
    # earlier session; the prompt itself comes last, as a user line.
    memory = compress_file(TRANSCRIPTS / "forked.jsonl")
    assert memory.last_request == "Forked: keep them in SQLite instead"
    assert requests(TRANSCRIPTS / "forked.jsonl")[-1] == "Forked: keep them in SQLite instead"


def test_each_queued_prompt_is_one_request():
    asked = requests(TRANSCRIPTS / "compacted.jsonl")
    assert asked.count("What did we pick for the sessions?") == 1
    assert asked.count("We decided to keep the sessions in PostgreSQL 16") == 1


def test_a_prompt_given_to_the_model_inside_a_turn_is_still_a_request():
    # Claude Code 2.1 (earlier builds): typed while the agent worked, enqueued, then removed
    # from the queue as the model was given it, with no user line of its own.
    lines = [
        {"type": "user", "message": {"role": "user", "content": "run the tests"}},
        {"type": "queue-operation", "operation": "enqueue", "content": "check again"},
        {"type": "queue-operation", "operation": "remove"},
        {"type": "assistant", "message": {"id": "m1", "content": "Checking again."}},
    ]
    prompts = [e for e in parse_claude(lines, ParseReport()) if isinstance(e, UserPrompt)]
    assert [p.text for p in prompts] == ["run the tests", "check again"]


def test_a_prompt_queued_as_an_attachment_is_a_request_once():
    """Claude Code 2.1.112 writes a prompt typed while the agent worked as a ``queued_command``
    attachment, its queue entry holding no text; an earlier build's entry with the text must
    not make it two requests. Other attachments (hook output) are no requests."""

    def queued(text: str, mode: str = "prompt") -> dict:
        prompt = [{"type": "text", "text": text}]
        attachment = {"type": "queued_command", "prompt": prompt, "commandMode": mode}
        return {"type": "attachment", "attachment": attachment}

    hook = {"type": "attachment", "attachment": {"type": "hook_success", "content": "ok"}}
    lines = [
        {"type": "user", "message": {"role": "user", "content": "run the tests"}},
        {"type": "queue-operation", "operation": "enqueue"},
        hook,
        queued("push a draft PR of this work so far"),
        {"type": "queue-operation", "operation": "remove"},
        {"type": "assistant", "message": {"id": "m1", "content": "Pausing to push."}},
        {"type": "queue-operation", "operation": "enqueue", "content": "and tag it"},
        queued("and tag it"),
        {"type": "queue-operation", "operation": "remove"},
        queued("git status", mode="bash"),
    ]
    prompts = [e for e in parse_claude(lines, ParseReport()) if isinstance(e, UserPrompt)]
    assert [(p.kind, p.text) for p in prompts] == [
        ("typed", "run the tests"),
        ("typed", "push a draft PR of this work so far"),
        ("typed", "and tag it"),
        ("command", "!git status"),
    ]


def test_a_synthetic_reply_is_no_answer():
    memory = compress_file(TRANSCRIPTS / "compacted.jsonl")
    assert "No response requested" not in memory_text(memory)
    assert any(s.category == "summary" for s in memory.snippets)  # the compaction is kept


def test_the_blocks_our_hooks_injected_are_not_memory():
    injected = [p for p in TRANSCRIPTS.glob("*.jsonl") if "# Context Recall" in p.read_text()]
    assert len(injected) >= 3  # sessions after the first: the blocks are in their transcripts
    for path in injected:
        assert "Context Recall" not in memory_text(compress_file(path)), path.name


def test_a_background_commands_notice_is_no_request_and_goes_with_its_command():
    path = TRANSCRIPTS / "background.jsonl"
    assert not any("notification" in r for r in requests(path))
    memory = compress_file(path)
    assert "<task-notification>" not in memory.summary
    (run,) = [s for s in memory.snippets if s.category == "command"]
    assert "sleep 1; echo background-done" in run.content
    assert 'Background command "Run it" completed (exit code 0)' in run.content


# Claude Code 2.0 announced a finished background agent with <agent-notification>
@pytest.mark.parametrize(
    "notice", ["<bash-notification>", "<task-notification>", "<agent-notification>"]
)
def test_notifications_are_not_typed(notice):
    assert classify_prompt(f"{notice}\n<status>completed</status>")[0] == "notification"


def test_a_notice_claude_code_marks_as_its_own_is_no_request():
    line = {
        "type": "user",
        "origin": {"kind": "task-notification"},
        "message": {"role": "user", "content": "Background task finished"},
    }
    (prompt,) = parse_claude([line], ParseReport())
    assert prompt.kind == "notification"


@pytest.mark.parametrize(
    "server",
    ["mcp__context-recall__", "mcp__memory__", "mcp__plugin_context-recall_context-recall__"],
)
def test_what_our_own_mcp_server_answered_is_not_stored_again(server):
    text = (TRANSCRIPTS / "own-search.jsonl").read_text()
    assert '"name":"mcp__context-recall__search_memory"' in text
    lines = [
        json.loads(line) for line in text.replace("mcp__context-recall__", server).splitlines()
    ]
    memory = compress(list(parse_claude(lines, ParseReport())), "claude")
    shown = memory_text(memory)
    assert not [s for s in memory.snippets if s.category == "found"]
    assert "search_memory" not in shown.replace("[mcp: search_memory", "")
    assert '"query"' not in shown


def test_recall_tools_are_known_by_their_name_under_any_server():
    assert recall_tool("mcp__team-memory__get_memory")
    assert recall_tool("mcp__plugin_x_y__project_state")
    assert not recall_tool("search_memory")  # not an MCP tool
    assert not recall_tool("mcp__github__search_code")
