"""The hook's start-up stays lean: the modules a Stop event loads pull in nothing heavy.

The hook runs on every agent event and must cost at most ~3x a bare interpreter
(bench/bench_hook.py); each module listed here would cost it milliseconds.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = {
    "celery",
    "kombu",
    "redis",
    "sqlalchemy",
    "alembic",
    "cryptography",
    "click",
    "dataclasses",
    "typing",
    "pathlib",
    "uuid",
    "hashlib",
    "configparser",
    "datetime",
    "base64",
    "contextlib",
    "inspect",
    "socket",
    "platform",
}
HOOK_PATH = [
    "contextrecall.launcher",
    "contextrecall.hook",
    "contextrecall.client.outbox",
    "contextrecall.identity",
    "contextrecall.broker.publish",
]


def _heavy_loaded(modules: list[str], heavy: set[str]) -> list[str]:
    """Which of ``heavy`` a fresh interpreter holds after importing ``modules``."""
    code = (
        f"import sys\nfor m in {modules!r}: __import__(m)\n"
        f"print(__import__('json').dumps(sorted(set(sys.modules) & set({sorted(heavy)!r}))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return json.loads(out.stdout)


def test_a_stop_event_loads_no_heavy_module():
    assert _heavy_loaded(HOOK_PATH, HEAVY) == []


# The context events (SessionStart, UserPromptSubmit) read the recall index and rank: they may
# load the ranking's few needs (datetime, zlib, array, the stemmer), nothing heavier.
CONTEXT_PATH = [
    "contextrecall.launcher",
    "contextrecall.hook",
    "contextrecall.recall.hooks",
    "contextrecall.recall.index.reader",
    "contextrecall.recall.answer",
    "contextrecall.recall.index.store",
    "contextrecall.recall.index.redis_store",
    "contextrecall.recall.index.file_store",
    "contextrecall.recall.index.format",
    "contextrecall.generation",
]
CONTEXT_HEAVY = (HEAVY - {"datetime"}) | {"pymysql", "logging"}


def test_a_context_event_loads_no_heavy_module():
    assert _heavy_loaded(CONTEXT_PATH, CONTEXT_HEAVY) == []
