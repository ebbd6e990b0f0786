"""The real Claude Code CLI (the version ``package.json`` pins) with Context Recall installed
as a new user installs it, against a local stand-in for the Messages API: what the client's
own hooks, transcripts and timing make of a project, stored once and only what happened.

Each story runs the client many times on one fresh HOME, as a developer's day would: a fact,
tool-using turns (whose Stop hook Claude Code runs before it has written the turn's last
lines), `--continue`, `--resume`, a subagent, `/compact`, an MCP search of our own server,
a background command, `--fork-session`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from contextrecall.db import session_scope
from contextrecall.models import ContextSnippet, ConversationContext, DecisionLog
from contextrecall.settings import Settings
from tests.clients.claude import ClaudeUser, on_backend
from tests.support import repeated_sentences

DEPLOY = "./deploy.sh --prod --region eu-west-3"
OUR_SEARCH = "mcp__context-recall__search_memory"


REDIS_DB = 8  # this module's Redis database (MariaDB runs), flushed before and after


@pytest.fixture(params=["embedded", "mariadb"])
def user(request: pytest.FixtureRequest, tmp_path: Path):
    """A new user of both: on the embedded defaults, or with the configuration file naming
    MariaDB and Redis (for the database, the broker and the cache)."""
    claude = ClaudeUser(tmp_path)
    on_backend(claude, request, REDIS_DB)
    installed = claude.recall("install")
    assert "installed `recall hook`" in installed
    yield claude
    claude.stop()


def stored(user: ClaudeUser) -> dict[str, list[str]]:
    """Every memory the project holds, as text: snippets by category, sessions, decisions."""
    settings = Settings.from_env(user.env)
    found: dict[str, list[str]] = {}
    with session_scope(settings) as db:
        for category, content in db.execute(
            select(ContextSnippet.category, ContextSnippet.dense_content)
        ):
            found.setdefault(category, []).append(content)
        for summary, state in db.execute(
            select(ConversationContext.dense_summary, ConversationContext.current_state)
        ):
            found.setdefault("session", []).append(f"{summary}\n{state}")
        found["decision"] = list(db.scalars(select(DecisionLog.decision_text)))
    return found


def everything(memory: dict[str, list[str]]) -> str:
    return "\n".join(text for texts in memory.values() for text in texts)


def tool_results(result) -> list[dict]:
    """The tool results the model received during a run."""
    return [
        block
        for request in result.requests
        for message in request["messages"]
        if isinstance(message.get("content"), list)
        for block in message["content"]
        if block.get("type") == "tool_result"
    ]


def one_exchange_each(memory: dict[str, list[str]], markers: list[str]) -> None:
    """Each tool-using turn is one exchange memory: its request with its answer."""
    for marker in markers:
        holding = [text for text in memory.get("exchange", []) if marker in text]
        assert len(holding) == 1, (marker, holding)
        assert f"Asked: [bash: echo {marker}]" in holding[0], holding
        assert f"The output was: {marker}" in holding[0], holding


def test_a_day_with_claude_code_is_stored_once_and_only_as_it_happened(user):
    first = user.claude(f"Remember: the deploy command is {DEPLOY}")
    session = first.session_id
    markers = [f"marker-{n}" for n in range(2)]
    for marker in markers:  # tool turns, each Stop before Claude Code writes the answer
        user.claude(f"[bash: echo {marker}]", "--continue", tools=("Bash",))
    user.claude("[task: list what the repository holds]", "--resume", session, tools=("Agent",))
    user.claude("/compact", "--resume", session)
    user.claude("What did we settle on for deploys?", "--resume", session)  # after compaction
    user.settle()
    searched = user.claude("[mcp: search_memory deploy command]", tools=(OUR_SEARCH,))
    assert DEPLOY in searched.first_request_text()  # the fact reached the next session
    assert searched.text == "I looked that up."  # the stand-in had our tool's answer …
    assert DEPLOY in json.dumps(tool_results(searched))  # … which quoted the fact
    user.claude("[background: sleep 1; echo background-done]", tools=("Bash",))
    forked = user.claude(
        "Forked: try the blue-green deploy instead", "--resume", session, "--fork-session"
    )
    assert forked.session_id != session
    user.settle()

    memory = stored(user)
    text = everything(memory)
    one_exchange_each(memory, markers)
    # bookkeeping is not memory: synthetic replies, queued copies, notifications
    assert "No response requested" not in text
    assert not any("<task-notification>" in s for s in memory["session"])
    assert not any("Asked: <task-notification>" in s for s in memory.get("exchange", []))
    background = [c for c in memory["command"] if "background-done" in c]
    assert background and "completed (exit code 0)" in background[0], background
    # recall's own MCP answer is not stored again
    assert OUR_SEARCH not in text and '"query"' not in text and "found" not in memory
    assert any(memory.get("report", [])), memory.keys()  # the subagent's report, kept
    assert any("Primary Request" in s or "compacted" in s for s in memory.get("summary", []))

    block = user.recall("inject")
    assert "Last request: Forked: try the blue-green deploy instead" in block, block
    assert repeated_sentences(block) == [], block
    log = user.hook_log()
    assert "bad input" not in log and "Traceback" not in log, log


@pytest.mark.parametrize("user", ["mariadb"], indirect=True)  # SQLite: test_forget.py
def test_what_the_user_forgets_never_reaches_a_later_session(user):
    wrong = "the nightly export fails because the S3 bucket policy denies eu-central-2"
    first = user.claude(f"Remember: {wrong}")
    user.claude("Remember: the release train leaves every second Tuesday", "--continue")
    user.settle()
    assert wrong in user.claude("What's next?").first_request_text()  # it was recalled
    preview = user.recall("forget", "--search", "nightly export S3 bucket policy")
    assert "would forget" in preview and "bucket policy" in preview
    done = user.recall("forget", "--search", "nightly export S3 bucket policy", "--yes")
    assert done.strip().splitlines()[-1].startswith("forgot ")
    later = user.claude("What should I look at today?")
    assert "bucket policy" not in later.first_request_text()
    assert "release train" in later.first_request_text()  # the rest is still recalled
    # the session it came from goes on: nothing brings it back
    user.claude("Anything else about the export?", "--resume", first.session_id)
    user.settle()
    assert "bucket policy" not in everything(stored(user))
    assert "bucket policy" not in user.recall("inject")
    # forgetting the whole session: it and its later turns stay out
    user.recall("forget", "--session", first.session_id)
    user.claude("Remember: the CDN cache key includes the locale", "--resume", first.session_id)
    user.settle()
    assert "release train" not in everything(stored(user))
    assert "CDN cache key" not in everything(stored(user))
