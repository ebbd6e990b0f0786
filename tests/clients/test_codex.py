"""The real Codex CLI (the version ``package.json`` pins) with Context Recall installed by
`recall install --agent codex`, against a local stand-in for the Responses API: its hooks'
payloads and its rollouts become memory, which comes back at its next session start; and one
project's memory is shared with Claude Code, both ways, on SQLite and MariaDB."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from contextrecall.db import session_scope
from contextrecall.models import Session
from contextrecall.settings import Settings
from tests.clients.claude import on_backend
from tests.clients.codex import CodexUser
from tests.clients.test_claude_code import everything, stored

REDIS_DB = 9  # this module's Redis database (MariaDB runs), flushed before and after


@pytest.fixture(params=["embedded", "mariadb"])
def user(request: pytest.FixtureRequest, tmp_path):
    codex = CodexUser(tmp_path)
    on_backend(codex, request, REDIS_DB)
    installed = codex.recall("install", "--agent", "codex")
    assert "installed `recall hook` for SessionStart, UserPromptSubmit, Stop, PreCompact" in (
        installed
    ), installed
    assert "registered the `recall mcp` server as context-recall" in installed
    assert "nothing changed" in codex.recall("install", "--agent", "codex")  # idempotent
    assert "installed `recall hook`" in codex.recall("install")  # and Claude Code's, beside
    yield codex
    codex.stop()


def agents(user: CodexUser) -> dict[str, str]:
    """Each stored session's agent, by the agent's session id."""
    with session_scope(Settings.from_env(user.env)) as db:
        return {s.external_id: s.source_format for s in db.scalars(select(Session))}


def test_a_codex_session_is_remembered_and_shared_with_claude_code(user):
    deploy = "./deploy.sh --prod --region eu-west-3"
    first = user.codex(f"Remember: the deploy command is {deploy}")
    user.codex("[bash: echo codex-marker]", "resume", first.session_id)
    plan = "[plan: Reproduce the double close=completed; Take an advisory lock=in_progress]"
    user.codex(plan, "resume", first.session_id)
    user.settle()
    memory = everything(stored(user))
    assert deploy in memory and "codex-marker" in memory
    assert agents(user)[first.session_id] == "codex"
    # Codex's next session starts with it and with its plan's open step, and so does Claude's
    started = user.codex("What's next?").first_request_text()
    assert deploy in started and "Next: Take an advisory lock" in started, started
    claude = user.claude("What should I work on?")
    assert deploy in claude.first_request_text()
    # and the other way: what Claude Code was told reaches Codex
    user.claude("Remember: staging resets every Monday at 06:00 UTC")
    user.settle()
    assert (
        "staging resets every Monday" in user.codex("Anything I should know?").first_request_text()
    )
    assert set(agents(user).values()) == {"codex", "claude"}
    assert "hooks     codex: recall hook in" in user.recall("status")
    log = user.hook_log()
    assert "bad input" not in log and "Traceback" not in log, log
    removed = user.recall("uninstall", "--agent", "codex")
    assert (
        "removed Context Recall hooks" in removed and "removed the `recall mcp` server" in removed
    )
    config = (user.home / ".codex" / "config.toml").read_text()
    assert "context-recall" not in config and "stand-in" in config  # the rest is kept
