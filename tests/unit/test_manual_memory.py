"""Memories saved by hand (`recall mcp` save_memory): validation, the notebook line, and how
compression turns such lines into decisions and snippets that keep their kind and tags."""

from __future__ import annotations

import io
import json
import stat
import subprocess
import sys

import pytest

from contextrecall.client.notes import MAX_NOTE_CHARS, Notebook, make_note
from contextrecall.compression import compress
from contextrecall.compression.manual import MANUAL_IMPORTANCE, TITLE
from contextrecall.memory import MANUAL_FORMAT, MANUAL_KINDS, ParseReport
from contextrecall.settings import Settings
from contextrecall.transcript import iter_events
from tests.unit.redaction_corpus import AWS_ID, GHP


def chat_events(*lines: dict):
    text = "".join(json.dumps(line) + "\n" for line in lines).encode()
    return list(iter_events(io.BytesIO(text), "chat", 0, ParseReport()))


def test_chat_lines_carry_kind_and_normalized_tags():
    [turn, plain] = chat_events(
        {"content": "x", "kind": "Decision", "tags": ["DB", "db", 3, " ops ", ""]},
        {"content": "y"},
    )
    assert turn.kind == "decision" and turn.tags == ["db", "ops"]
    assert plain.kind is None and plain.tags == []


def test_manual_lines_become_a_decision_and_verbatim_snippets_with_their_tags():
    code = "def f():\n    return 42"
    memory = compress(
        chat_events(
            {"content": "Use MariaDB because ops runs it.", "kind": "decision", "tags": ["db"]},
            {"content": code, "kind": "snippet", "tags": ["python"], "timestamp": "2026-01-02"},
            {"content": "Remember the staging host is stg-3.", "kind": "mystery"},
        ),
        "chat",
    )
    assert memory.source_format == MANUAL_FORMAT and memory.title == TITLE
    [decision] = memory.decisions
    assert decision.text == "Use MariaDB because ops runs it." and decision.tags == ["db"]
    assert decision.impact == "high"
    snippet, note = memory.snippets
    assert (snippet.category, snippet.content, snippet.tags) == ("snippet", code, ["python"])
    assert snippet.title == "def f():" and snippet.occurred_at == "2026-01-02"
    assert snippet.importance == MANUAL_IMPORTANCE and snippet.position is None
    assert note.category == "note"  # an unknown kind is kept as a note
    assert "stg-3" not in memory.summary and "MariaDB" not in memory.summary
    assert "1 decision" in memory.summary and "1 snippet" in memory.summary
    assert memory.state.phase is None and memory.tags == ["manual"]


def test_a_plain_chat_is_still_a_conversation():
    memory = compress(chat_events({"content": "hi there", "speaker": "Ann"}), "chat")
    assert memory.source_format == "chat" and memory.snippets[0].category == "fact"
    other = compress(chat_events({"content": "hi there", "kind": "message"}), "chat")
    assert other.source_format == "chat"  # only a kind we know marks a memory saved by hand


def test_secrets_in_manual_lines_are_redacted_by_compression_too():
    memory = compress(chat_events({"content": f"key {AWS_ID}", "kind": "configuration"}), "chat")
    assert AWS_ID not in memory.snippets[0].content
    assert "[REDACTED:" in memory.snippets[0].content


def test_make_note_validates_with_messages_for_the_model():
    with pytest.raises(ValueError, match="empty"):
        make_note("   ")
    with pytest.raises(ValueError, match="at most"):
        make_note("x" * (MAX_NOTE_CHARS + 1))
    with pytest.raises(ValueError, match="kind must be one of"):
        make_note("x", "poem")
    with pytest.raises(ValueError, match="not a tag"):
        make_note("x", tags=["no!"])
    with pytest.raises(ValueError, match="at most 10 tags"):
        make_note("x", tags=[f"t{i}" for i in range(11)])
    note = make_note("  keep me  ", "fix", ["Big Data", "big data", "c++"])
    assert (note.text, note.kind, note.tags, note.redacted) == (
        "keep me",
        "fix",
        ["big-data", "c++"],
        {},
    )
    assert set(MANUAL_KINDS) >= {"note", "decision", "snippet"}


def test_make_note_redacts_before_anything_is_written():
    note = make_note(f"aws {AWS_ID} and github {GHP}")
    assert AWS_ID not in note.text and GHP not in note.text
    assert sum(note.redacted.values()) == 2


def test_notebook_appends_private_redacted_chat_lines(tmp_path):
    settings = Settings.from_env({"RECALL_HOME": str(tmp_path)})
    book = Notebook(settings, project=None)
    book._append(make_note(f"token {GHP}", "decision", ["auth"]))
    book._append(make_note("second"))
    assert book.path.parent == tmp_path / "notes" and book.session.startswith("mcp-")
    assert stat.S_IMODE(book.path.stat().st_mode) == 0o600
    first, second = (json.loads(line) for line in book.path.read_text().splitlines())
    assert GHP not in first["content"]
    assert (first["kind"], first["tags"], second["kind"]) == ("decision", ["auth"], "note")
    [decision] = compress(list(iter_events(book.path, "chat")), "chat").decisions
    assert decision.tags == ["auth"]


def test_only_recall_mcp_loads_the_mcp_sdk():
    code = (
        "import sys, contextrecall.cli, contextrecall.agent_server.tools, "
        "contextrecall.client.notes;"
        "print(sorted(m for m in sys.modules if m == 'mcp' or m.startswith('mcp.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_rendered_answers_name_ids_and_say_what_to_do_next():
    from contextrecall.agent_server.server import render_saved, render_search, render_state

    empty = {"query": "q", "project": "acme/x", "tokens": 0, "context": "", "items": []}
    assert render_search(empty) == 'No memory of acme/x matches for "q".'
    hit = {"kind": "decision", "id": "0b6f", "score": 0.9, "text": "- Decision - Use X"}
    text = render_search({**empty, "tokens": 9, "items": [hit]})
    assert "[decision 0b6f]" in text and "get_memory" in text
    assert "No project state" in render_state({"project": "acme/x", "has_state": False})
    saved = {
        "project": "acme/x",
        "kind": "note",
        "tags": [],
        "status": "spooled",
        "redacted": ["aws-access-key"],
    }
    assert "spool" in render_saved(saved) and "redacted" in render_saved(saved)
