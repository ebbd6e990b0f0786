"""`recall mcp` speed: search_memory answered from the cache, inside the running server.

A `recall mcp` subprocess on the embedded SQLite database (a project holding a Claude Code
session and a LoCoMo conversation, a few hundred memories), with the recall cache on Redis
database 7, driven by the MCP SDK's stdio client. Each query is asked once (a cache miss, which
fills the cache) and then again and again (cache hits). Times are client round trips: JSON-RPC
over the pipes, argument validation, the tool and the answer. Baselines in the same run: the
protocol's own ping, and project_state of an empty project (one primary-key miss).

Target (issue 8): search_memory from the cache, p50 and p99 under 20 ms.
Needs Redis on 127.0.0.1:6379 (database 7 is flushed).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
from mcp import ClientSession, StdioServerParameters, stdio_client
from timing import isolate_from_this_machine, percentile

CACHE = "redis://127.0.0.1:6379/7"
ROUNDS = 20  # timed calls of each query after its first (miss)
ROOT = Path(__file__).resolve().parents[1]
LOCOMO = ROOT.parent / "shared" / "data" / "locomo" / "locomo-dev.json"
QUERIES = [
    "which database did we choose and why",
    "how do I run the tests",
    "flaky test fix",
    "configuration of the cache",
    "what broke the build",
    "adoption agencies",
    "charity race for mental health",
    "painting a sunset",
    "camping with the kids",
    "LGBTQ support group",
]


def repo(folder: Path, name: str) -> Path:
    root = folder / name
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "config").write_text(f'[remote "origin"]\n\turl = git@example.com:a/{name}\n')
    return root


def seed(env: dict[str, str], identity: str) -> None:
    """Store a Claude Code session and a chat conversation, as a worker would."""
    from contextrecall.client.deltas import Delta
    from contextrecall.crypto import KeyRing, generate_key
    from contextrecall.db import get_engine, session_scope
    from contextrecall.jobs import build_job
    from contextrecall.migrate import upgrade
    from contextrecall.settings import Settings
    from contextrecall.store.save_job import save_job

    settings = Settings.from_env(env)
    upgrade(settings)
    claude = (ROOT / "contextrecall" / "samples" / "demo_session.jsonl").read_bytes()
    conversation = json.loads(LOCOMO.read_text())[0]["conversation"]
    chat = "".join(
        json.dumps({"speaker": turn["speaker"], "content": turn["text"]}) + "\n"
        for key, session in conversation.items()
        if key.startswith("session_") and isinstance(session, list)
        for turn in session
    ).encode()
    ring = KeyRing(generate_key())
    for session, fmt, data in (("claude", "claude", claude), ("chat", "chat", chat)):
        job = build_job(
            project={"name": identity.rsplit("/", 1)[-1], "identity": identity},
            machine=None,
            session_external_id=session,
            source_format=fmt,
            delta=Delta(0, len(data), data),
            event="save",
        )
        with session_scope(settings) as db:
            save_job(db, job, ring)
    get_engine(settings).dispose()


def server(env: dict[str, str], cwd: Path) -> StdioServerParameters:
    recall = str(Path(sys.executable).parent / "recall")
    return StdioServerParameters(command=recall, args=["mcp"], env=env, cwd=str(cwd))


async def timed(call: Callable[[], Awaitable[Any]]) -> float:
    started = time.perf_counter()
    await call()
    return time.perf_counter() - started


async def measure(env: dict[str, str], full: Path, empty: Path) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"ping": [], "state": [], "miss": [], "hit": []}
    async with (
        stdio_client(server(env, full)) as (read, write),
        ClientSession(read, write) as session,
        stdio_client(server(env, empty)) as (read2, write2),
        ClientSession(read2, write2) as bare,
    ):
        await session.initialize()
        await bare.initialize()
        for _ in range(5):  # warm both: imports, connection pools
            await session.send_ping()
            await bare.call_tool("project_state", {})
        await session.call_tool("search_memory", {"query": "warm up the server"})

        async def search(query: str) -> None:
            result = await session.call_tool("search_memory", {"query": query})
            assert not result.is_error, result.content
            assert result.structured_content["items"], query

        for query in QUERIES:
            times["miss"].append(await timed(lambda q=query: search(q)))
        for _ in range(ROUNDS):
            for query in QUERIES:
                times["ping"].append(await timed(session.send_ping))
                times["state"].append(await timed(lambda: bare.call_tool("project_state", {})))
                times["hit"].append(await timed(lambda q=query: search(q)))
    return times


def main() -> None:
    isolate_from_this_machine()
    import redis

    cache = redis.Redis.from_url(CACHE)
    cache.flushdb()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        full, empty = repo(folder, "full"), repo(folder, "empty")
        env = {**os.environ, "RECALL_HOME": str(folder / "home"), "RECALL_CACHE_URL": CACHE}
        seed(env, "git:example.com/a/full")
        times = anyio.run(measure, env, full, empty)
        cached = len(cache.keys("recall:blk:*"))
    cache.flushdb()
    assert cached >= len(QUERIES), f"only {cached} cached answers: the hits were not hits"
    base = statistics.median(times["ping"]) * 1000
    rows = [
        ("ping (SDK round trip, baseline)", times["ping"]),
        ("project_state, empty project", times["state"]),
        ("search_memory, cache miss (first ask)", times["miss"]),
        ("search_memory, cache hit", times["hit"]),
    ]
    print(f"{'recall mcp over stdio':<40}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}{'p50 ratio':>11}")
    for label, values in rows:
        p50, p99 = statistics.median(values) * 1000, percentile(values, 99) * 1000
        print(f"{label:<40}{len(values):>6}{p50:>10.2f}{p99:>10.2f}{p50 / base:>10.1f}x")
    p50 = statistics.median(times["hit"]) * 1000
    p99 = percentile(times["hit"], 99) * 1000
    verdict = "PASS" if p50 < 20 and p99 < 20 else "FAIL"
    print(f"target search_memory from the cache < 20 ms: p50 {p50:.1f}, p99 {p99:.1f} {verdict}")


if __name__ == "__main__":
    main()
