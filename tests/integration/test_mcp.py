"""`recall mcp` as a subprocess, driven by the MCP SDK's own stdio client, with a real worker.

SQLite runs on the embedded defaults (the serverless broker under RECALL_HOME); MariaDB with a
Redis broker and cache on database 7.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from sqlalchemy import select

from contextrecall.db import session_scope
from contextrecall.models import (
    ContextSnippet,
    ContextTag,
    ConversationContext,
    DecisionLog,
    Project,
)
from contextrecall.settings import Settings
from tests.integration.workers import WorkerProcess, settings_env
from tests.unit.redaction_corpus import AWS_ID, GHP

REDIS_DB = 7
TOOLS = {"search_memory", "get_memory", "save_memory", "project_state", "forget_memory"}
pytestmark = pytest.mark.timeout(300)


def make_repo(root: Path, remote: str) -> Path:
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "config").write_text(f'[remote "origin"]\n\turl = {remote}\n')
    return root


@pytest.fixture
def mcp_settings(backend: Settings, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """SQLite with the serverless broker (the embedded defaults); MariaDB with Redis db 7."""
    home = tmp_path / "home"
    if backend.is_embedded_database:
        return backend.with_overrides(home=home, broker_url="filesystem://")
    import redis

    url = f"{request.getfixturevalue('redis_url').rsplit('/', 1)[0]}/{REDIS_DB}"
    redis.Redis.from_url(url).flushdb()
    return backend.with_overrides(home=home, broker_url=url, cache_url=url)


@pytest.fixture
def worker(mcp_settings: Settings, tmp_path: Path):
    process = WorkerProcess(mcp_settings, tmp_path / "worker.log").start()
    yield process
    process.stop()


@asynccontextmanager
async def mcp_server(settings: Settings, cwd: Path, *args: str) -> AsyncIterator[ClientSession]:
    """A `recall mcp` subprocess in ``cwd`` and an initialized client session to it."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "contextrecall.cli", "mcp", *args],
        env=settings_env(settings),
        cwd=str(cwd),
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        yield session


def run(scenario: Callable[[], Awaitable[Any]]) -> Any:
    return anyio.run(scenario)


async def call(session: ClientSession, tool: str, **arguments: Any) -> dict[str, Any]:
    """A successful tool call's structured content (fails the test on a tool error)."""
    result = await session.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.content and result.content[0].text
    return result.structured_content


async def found(session: ClientSession, query: str, needle: str, timeout: float = 90) -> dict:
    """Search until an item holding ``needle`` comes back (the worker stores asynchronously)."""
    with anyio.fail_after(timeout):
        while True:
            result = await call(session, "search_memory", query=query)
            for item in result["items"]:
                if needle in item["text"]:
                    return item
            await anyio.sleep(0.2)


def project_rows(settings: Settings, name: str) -> dict[str, list]:
    with session_scope(settings) as db:
        project = db.scalars(select(Project).where(Project.name == name)).one()
        return {
            "project": project,
            "decisions": list(
                db.scalars(select(DecisionLog).where(DecisionLog.project_id == project.id))
            ),
            "snippets": list(
                db.scalars(select(ContextSnippet).where(ContextSnippet.project_id == project.id))
            ),
            "contexts": list(
                db.scalars(
                    select(ConversationContext).where(ConversationContext.project_id == project.id)
                )
            ),
            "tags": list(
                db.execute(
                    select(ContextTag.tag, ContextTag.decision_id, ContextTag.snippet_id).where(
                        ContextTag.project_id == project.id
                    )
                )
            ),
        }


def test_lists_the_five_tools_with_described_arguments(mcp_settings, tmp_path):
    repo = make_repo(tmp_path / "widget", "git@github.com:Acme/Widget.git")

    async def scenario() -> None:
        async with mcp_server(mcp_settings, repo) as session:
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            assert set(tools) == TOOLS
            for tool in tools.values():
                assert len(tool.description or "") > 80
                for spec in tool.input_schema.get("properties", {}).values():
                    assert spec.get("description"), (tool.name, spec)
            assert tools["search_memory"].input_schema["required"] == ["query"]
            assert tools["get_memory"].input_schema["required"] == ["ids"]
            save = tools["save_memory"].input_schema
            assert save["required"] == ["text"]
            assert "decision" in save["properties"]["kind"]["enum"]
            assert tools["search_memory"].annotations.read_only_hint is True
            assert tools["save_memory"].annotations.read_only_hint is False
            assert tools["forget_memory"].annotations.destructive_hint is True

    run(scenario)


def test_saved_memory_is_stored_by_the_worker_found_by_search_and_fetched_in_full(
    mcp_settings, worker, tmp_path
):
    repo = make_repo(tmp_path / "widget", "git@github.com:Acme/Widget.git")
    decision = (
        "We chose MariaDB over PostgreSQL for the memory store because the ops team "
        "already runs Galera clusters."
    )
    snippet = "def retry(fn):\n    for _ in range(3):\n        fn()"

    async def scenario() -> tuple[dict, dict, dict]:
        async with mcp_server(mcp_settings, repo) as session:
            saved = await call(
                session, "save_memory", text=decision, kind="decision", tags=["Database", "ops"]
            )
            assert saved["status"] == "queued" and saved["job_ids"]
            assert saved["project"] == "acme/widget" and saved["tags"] == ["database", "ops"]
            await call(session, "save_memory", text=snippet, kind="snippet", tags=["python"])
            hit = await found(session, "why MariaDB instead of PostgreSQL", "Galera")
            code = await found(session, "retry helper function", "range(3)")
            fetched = await call(session, "get_memory", ids=[hit["id"], code["id"], "nope"])
            return hit, code, fetched

    hit, code, fetched = run(scenario)
    assert hit["kind"] == "decision" and code["kind"] == "snippet"
    by_id = {item["id"]: item for item in fetched["items"]}
    assert by_id[hit["id"]]["text"] == decision
    assert by_id[hit["id"]]["tags"] == ["database", "ops"]
    assert by_id[code["id"]]["text"] == snippet  # verbatim, line breaks and all
    assert by_id[code["id"]]["category"] == "snippet"
    assert fetched["not_found"] == ["nope"]

    rows = project_rows(mcp_settings, "acme/widget")
    [row] = rows["decisions"]
    assert row.decision_text == decision and json.loads(row.tags) == ["database", "ops"]
    assert row.impact == "high"  # the database is an architecture-level choice
    [note] = rows["snippets"]
    assert note.category == "snippet" and json.loads(note.tags) == ["python"]
    assert note.importance == 2.0
    assert {tag for tag, decision_id, _ in rows["tags"] if decision_id} == {"database", "ops"}
    assert {tag for tag, _, snippet_id in rows["tags"] if snippet_id} == {"python"}
    [context] = rows["contexts"]
    assert context.title == "Memories saved by hand"
    assert "Galera" not in context.dense_summary  # each memory is found once, as itself

    # The same ranked recall as `recall search`.
    query = "why MariaDB instead of PostgreSQL"
    cli = subprocess.run(
        [
            sys.executable,
            "-m",
            "contextrecall.cli",
            "search",
            "--json",
            "--project=acme/widget",
            query,
        ],
        env=settings_env(mcp_settings),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["items"][0]["id"] == hit["id"]


def seed_hook_session(settings: Settings, identity: str) -> None:
    """Store the bundled sample session for ``identity``, as a hook save would."""
    from contextrecall.client.deltas import Delta
    from contextrecall.crypto import load_key_ring
    from contextrecall.jobs import build_job
    from contextrecall.store.save_job import save_job

    sample = Path(__file__).resolve().parents[2] / "contextrecall" / "samples"
    data = (sample / "demo_session.jsonl").read_bytes()
    job = build_job(
        project={"name": identity.split(":", 1)[1].split("/", 1)[1], "identity": identity},
        machine=None,
        session_external_id="hook-session",
        source_format="claude",
        delta=Delta(0, len(data), data),
        event="save",
    )
    with session_scope(settings) as db:
        save_job(db, job, load_key_ring(settings))


def test_manual_memories_leave_the_project_state_alone_but_add_their_decisions(
    mcp_settings, worker, tmp_path
):
    repo = make_repo(tmp_path / "widget", "git@github.com:Acme/Widget.git")
    seed_hook_session(mcp_settings, "git:github.com/acme/widget")

    async def scenario() -> tuple[dict, dict]:
        async with mcp_server(mcp_settings, repo) as session:
            before = await call(session, "project_state")
            await call(session, "save_memory", text="Ship the beta on Friday.", kind="decision")
            await call(session, "save_memory", text="Staging lives on host stg-3.")
            await found(session, "staging host", "stg-3")
            await found(session, "beta Friday", "Friday")
            return before, await call(session, "project_state")

    before, after = run(scenario)
    assert before["has_state"] is True and before["phase"] == "implementation"
    for key in ("phase", "progress", "blockers", "next_actions", "key_files", "summary"):
        assert after[key] == before[key], key
    assert after["next_actions"] and after["key_files"]
    assert after["decisions"] == [*before["decisions"], "Ship the beta on Friday."]


def test_secret_in_save_memory_is_redacted_before_it_is_stored(mcp_settings, worker, tmp_path):
    repo = make_repo(tmp_path / "widget", "git@github.com:Acme/Widget.git")
    text = f"Deploy key for the staging bucket is {AWS_ID} and the bot token is {GHP}."

    async def scenario() -> tuple[dict, dict]:
        async with mcp_server(mcp_settings, repo) as session:
            saved = await call(session, "save_memory", text=text, kind="configuration")
            item = await found(session, "staging bucket deploy key", "staging bucket")
            return saved, item

    saved, item = run(scenario)
    assert saved["redacted"]  # the model is told secrets were removed
    assert AWS_ID not in item["text"] and GHP not in item["text"]
    [row] = project_rows(mcp_settings, "acme/widget")["snippets"]
    assert row.category == "configuration"
    assert AWS_ID not in row.dense_content and GHP not in row.dense_content
    assert "[REDACTED:" in row.dense_content
    for context in project_rows(mcp_settings, "acme/widget")["contexts"]:
        assert AWS_ID not in f"{context.dense_summary}{context.current_state}{context.title}"
    for path in mcp_settings.home.rglob("*"):  # the notebook, the spool, the broker folders
        if path.is_file():
            data = path.read_bytes()
            assert AWS_ID.encode() not in data and GHP.encode() not in data, path


def test_bad_arguments_give_tool_errors_and_the_server_keeps_serving(mcp_settings, tmp_path):
    repo = make_repo(tmp_path / "widget", "git@github.com:Acme/Widget.git")
    bad_calls = [
        ("search_memory", {}),
        ("search_memory", {"query": ""}),
        ("search_memory", {"query": "x", "limit": 0}),
        ("search_memory", {"query": "x", "budget": "lots"}),
        ("search_memory", {"query": "x" * 20_000}),
        ("get_memory", {"ids": []}),
        ("get_memory", {"ids": "not-a-list"}),
        ("save_memory", {"text": "   "}),
        ("save_memory", {"text": "hello", "kind": "poem"}),
        ("save_memory", {"text": "hello", "tags": ["not a tag!"]}),
        ("save_memory", {"text": "hello", "tags": [f"t{i}" for i in range(11)]}),
        ("save_memory", {"text": "x" * 20_001}),
        ("no_such_tool", {}),
    ]

    async def scenario() -> list[tuple[str, str]]:
        messages = []
        async with mcp_server(mcp_settings, repo) as session:
            for tool, arguments in bad_calls:
                try:
                    result = await session.call_tool(tool, arguments)
                except Exception as exc:  # an unknown tool may be a protocol error instead
                    messages.append((tool, f"protocol error: {exc}"))
                    continue
                assert result.is_error, (tool, arguments, result)
                messages.append((tool, result.content[0].text))
            state = await call(session, "project_state")  # still serving
            assert state["has_state"] is False
            assert (await call(session, "search_memory", query="anything"))["items"] == []
        return messages

    messages = run(scenario)
    by_call = dict(zip((f"{t}{a}" for t, a in bad_calls), (m for _, m in messages), strict=True))
    assert "empty" in by_call["save_memory{'text': '   '}"]
    assert "kind" in by_call["save_memory{'text': 'hello', 'kind': 'poem'}"]
    assert "not a tag" in by_call["save_memory{'text': 'hello', 'tags': ['not a tag!']}"]
    assert "limit" in by_call["search_memory{'query': 'x', 'limit': 0}"]
    assert not any("Traceback" in message for message in by_call.values())


def test_unmigrated_server_database_is_a_tool_error_that_says_what_to_do(
    tmp_path, empty_mariadb_url
):
    settings = Settings.from_env(
        {"RECALL_HOME": str(tmp_path / "home"), "RECALL_DATABASE_URL": empty_mariadb_url}
    )
    repo = make_repo(tmp_path / "widget", "git@github.com:Acme/Widget.git")

    async def scenario() -> str:
        async with mcp_server(settings, repo) as session:
            result = await session.call_tool("search_memory", {"query": "anything"})
            assert result.is_error
            return result.content[0].text

    assert "recall db upgrade" in run(scenario)


def test_the_embedded_database_is_migrated_on_first_use(tmp_path):
    settings = Settings.from_env({"RECALL_HOME": str(tmp_path / "home")})
    repo = make_repo(tmp_path / "widget", "git@github.com:Acme/Widget.git")

    async def scenario():
        async with mcp_server(settings, repo) as session:
            return await session.call_tool("search_memory", {"query": "anything"})

    result = run(scenario)
    assert not result.is_error and "No memory of acme/widget" in result.content[0].text


def test_a_server_started_in_one_repository_never_returns_anothers_memory(
    mcp_settings, worker, tmp_path
):
    alpha = make_repo(tmp_path / "alpha", "https://github.com/acme/alpha.git")
    beta = make_repo(tmp_path / "beta", "git@github.com:acme/beta.git")
    alpha_text = "Alpha rolls out with blue-green deploys behind the orchid load balancer."

    async def scenario() -> tuple[dict, ...]:
        async with (
            mcp_server(mcp_settings, alpha) as in_alpha,
            mcp_server(mcp_settings, beta) as in_beta,
            mcp_server(mcp_settings, beta, "--project", "orchid-notes") as named,
        ):
            await call(in_alpha, "save_memory", text=alpha_text, kind="decision")
            await call(in_beta, "save_memory", text="Beta uses canary deploys for rollouts.")
            await call(named, "save_memory", text="Orchid notes: rollouts need a change ticket.")
            mine = await found(in_alpha, "orchid load balancer rollout", "orchid")
            await found(in_beta, "canary rollouts", "canary")
            await found(named, "orchid rollouts ticket", "ticket")
            query = "blue-green deploys orchid load balancer rollout"
            return (
                mine,
                await call(in_beta, "search_memory", query=query),
                await call(in_beta, "get_memory", ids=[mine["id"]]),
                await call(in_beta, "forget_memory", ids=[mine["id"]], confirm=True),
                await call(in_alpha, "get_memory", ids=[mine["id"]]),
                await call(in_beta, "project_state"),
                await call(named, "search_memory", query=query),
            )

    mine, beta_search, beta_get, beta_forget, still, beta_state, named_search = run(scenario)
    assert beta_search["project"] == "acme/beta"
    assert beta_forget["forgotten"] == [] and beta_forget["not_found"] == [mine["id"]]
    assert [item["id"] for item in still["items"]] == [mine["id"]]  # beta cannot forget it
    assert all("Alpha" not in item["text"] for item in beta_search["items"])
    assert beta_get == {"project": "acme/beta", "items": [], "not_found": [mine["id"]]}
    assert alpha_text not in json.dumps(beta_state)
    assert named_search["project"] == "orchid-notes"
    assert [item["text"] for item in named_search["items"] if "Alpha" in item["text"]] == []
    assert any("change ticket" in item["text"] for item in named_search["items"])


def test_the_agent_forgets_what_the_user_asks_after_a_preview(mcp_settings, worker, tmp_path):
    repo = make_repo(tmp_path / "widget", "git@github.com:Acme/Widget.git")
    wrong = "The login timeout comes from the nginx proxy_read_timeout of 15 seconds."

    async def scenario() -> tuple[dict, ...]:
        async with mcp_server(mcp_settings, repo) as session:
            await call(session, "save_memory", text=wrong, kind="fix")
            item = await found(session, "login timeout nginx", "proxy_read_timeout")
            preview = await call(session, "forget_memory", query="login timeout nginx proxy")
            kept = await call(session, "search_memory", query="login timeout nginx")
            done = await call(
                session, "forget_memory", query="login timeout nginx proxy", confirm=True
            )
            after = await call(session, "search_memory", query="login timeout nginx proxy")
            both = await session.call_tool("forget_memory", {"ids": ["x"], "query": "y"})
            return item, preview, kept, done, after, both

    item, preview, kept, done, after, both = run(scenario)
    assert preview["confirmed"] is False
    assert item["id"] in [m["id"] for m in preview["would_forget"]]
    assert item["id"] in [i["id"] for i in kept["items"]]  # a preview changes nothing
    assert done["confirmed"] is True and item["id"] in [m["id"] for m in done["forgotten"]]
    assert all("proxy_read_timeout" not in i["text"] for i in after["items"])
    assert both.is_error and "not both" in both.content[0].text
