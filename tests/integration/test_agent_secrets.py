"""A Codex rollout and a Gemini CLI chat log full of secrets, saved through `recall hook` as
their agents' Stop and AfterAgent hooks send it: the memory is stored, redacted, and no secret
is in the database or anywhere under RECALL_HOME, on both backends."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from contextrecall.db import session_scope
from contextrecall.models import SavedDelta, Session
from tests.integration.test_secrets_nowhere import _database_dump, _files_under, _leaks
from tests.integration.test_write_path import make_repo, worker, write_settings  # noqa: F401
from tests.integration.workers import run_hook, wait_until
from tests.unit.redaction_corpus import SECRETS


def codex_rollout(session: str) -> list[dict]:
    lines = [
        {
            "timestamp": "2026-12-01T09:00:00Z",
            "type": "session_meta",
            "payload": {"id": session, "cwd": "/r", "cli_version": "0.171.0"},
        }
    ]
    for n, (_, text, _) in enumerate(SECRETS):
        lines.append(
            {
                "timestamp": "2026-12-01T09:00:01Z",
                "type": "response_item",
                "payload": {
                    "type": "message",
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": f"Remember this for the deploy: {text}"}
                    ],
                },
            }
        )
        lines.append(
            {
                "timestamp": "2026-12-01T09:00:02Z",
                "type": "response_item",
                "payload": {
                    "type": "function_call",
                    "name": "exec_command",
                    "call_id": f"c{n}",
                    "arguments": json.dumps({"cmd": f"echo {text}"}),
                },
            }
        )
        lines.append(
            {
                "timestamp": "2026-12-01T09:00:03Z",
                "type": "response_item",
                "payload": {
                    "type": "function_call_output",
                    "call_id": f"c{n}",
                    "output": f"Process exited with code 0\nOutput:\n{text}",
                },
            }
        )
    return lines


def gemini_log(session: str) -> list[dict]:
    lines = [{"sessionId": session, "projectHash": "ab", "startTime": "2026-12-01T09:00:00Z"}]
    for n, (_, text, _) in enumerate(SECRETS):
        lines.append(
            {
                "id": f"u{n}",
                "timestamp": "2026-12-01T09:00:01Z",
                "type": "user",
                "content": [{"text": f"Remember this for the deploy: {text}"}],
            }
        )
        call = {
            "id": f"t{n}",
            "name": "run_shell_command",
            "args": {"command": f"echo {text}"},
            "status": "success",
            "result": [
                {"functionResponse": {"id": f"t{n}", "response": {"output": f"Output: {text}"}}}
            ],
        }
        lines.append(
            {
                "id": f"g{n}",
                "timestamp": "2026-12-01T09:00:02Z",
                "type": "gemini",
                "content": "Done.",
                "toolCalls": [call],
            }
        )
    return lines


@pytest.mark.parametrize(("agent", "event"), [("codex", "Stop"), ("gemini", "AfterAgent")])
def test_an_agents_secrets_are_redacted_before_anything_is_stored(
    write_settings,  # noqa: F811
    worker,  # noqa: F811
    tmp_path,
    agent,
    event,
):
    session = str(uuid.uuid4())
    transcript = tmp_path / f"{agent}-{session}.jsonl"
    lines = codex_rollout(session) if agent == "codex" else gemini_log(session)
    transcript.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert _leaks(transcript.read_text())  # the corpus really is in it
    repo = make_repo(tmp_path / "repo")
    hook = {"session_id": session, "transcript_path": str(transcript), "cwd": str(repo),
            "hook_event_name": event}  # fmt: skip
    assert run_hook(write_settings, hook).returncode == 0

    def stored() -> bool:
        with session_scope(write_settings) as db:
            return db.scalars(select(SavedDelta.id)).first() is not None

    wait_until(stored, timeout=60, what="the delta stored")
    with session_scope(write_settings) as db:
        assert db.scalars(select(Session.source_format)).one() == agent
    dump = _database_dump(write_settings)
    assert "[REDACTED:" in dump and "Remember this for the deploy" in dump
    assert _leaks(dump) == []
    assert _leaks(_files_under(write_settings.home, write_settings)) == []
