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


def test_a_stop_event_loads_no_heavy_module():
    code = (
        f"import sys\nfor m in {HOOK_PATH!r}: __import__(m)\n"
        f"print(__import__('json').dumps(sorted(set(sys.modules) & set({sorted(HEAVY)!r}))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(out.stdout) == []
