"""The real Gemini CLI (the version ``package.json`` pins) with Context Recall installed by
`recall install --agent gemini`, against a local stand-in for the Gemini API: its hooks'
payloads and its chat logs become memory, which comes back at its next session start; and
one project's memory is shared with Claude Code, both ways, on SQLite and MariaDB."""

from __future__ import annotations

import json

import pytest

from tests.clients.claude import on_backend
from tests.clients.gemini import GeminiUser
from tests.clients.test_claude_code import everything, stored
from tests.clients.test_codex import agents

REDIS_DB = 10  # this module's Redis database (MariaDB runs), flushed before and after


@pytest.fixture(params=["embedded", "mariadb"])
def user(request: pytest.FixtureRequest, tmp_path):
    gemini = GeminiUser(tmp_path)
    on_backend(gemini, request, REDIS_DB)
    installed = gemini.recall("install", "--agent", "gemini")
    assert (
        "installed `recall hook` for SessionStart, BeforeAgent, AfterAgent, PreCompress, "
        "SessionEnd" in installed
    ), installed
    assert "nothing changed" in gemini.recall("install", "--agent", "gemini")  # idempotent
    assert "installed `recall hook`" in gemini.recall("install")  # and Claude Code's, beside
    yield gemini
    gemini.stop()


def test_a_gemini_session_is_remembered_and_shared_with_claude_code(user):
    deploy = "./deploy.sh --prod --region eu-west-3"
    first = user.gemini(f"Remember: the deploy command is {deploy}")
    user.gemini("[bash: echo gemini-marker]", "--resume", first.session_id)
    todos = "[todos: Reproduce the double close=completed; Take an advisory lock=pending]"
    user.gemini(todos, "--resume", first.session_id)
    user.settle()
    memory = everything(stored(user))
    assert deploy in memory and "gemini-marker" in memory
    assert "<hook_context>" not in memory  # what our hooks gave it is not stored as said
    assert agents(user)[first.session_id] == "gemini"
    started = user.gemini("What's next?").first_request_text()  # with its open todo
    assert deploy in started and "Next: Take an advisory lock" in started, started
    assert deploy in user.claude("What should I work on?").first_request_text()
    user.claude("Remember: staging resets every Monday at 06:00 UTC")
    user.settle()
    later = user.gemini("Anything I should know?").first_request_text()
    assert "staging resets every Monday" in later
    assert "hooks     gemini: recall hook in" in user.recall("status")
    log = user.hook_log()
    assert "bad input" not in log and "Traceback" not in log, log
    removed = user.recall("uninstall", "--agent", "gemini")
    assert "removed Context Recall hooks" in removed
    settings = json.loads((user.home / ".gemini" / "settings.json").read_text())
    assert "hooks" not in settings and "context-recall" not in json.dumps(settings)
    assert settings["security"]["auth"]["selectedType"] == "gemini-api-key"  # the rest kept
