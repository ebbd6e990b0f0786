"""Timing helpers the benchmarks share."""

from __future__ import annotations

import math
import subprocess
import time


def timed(cmd: list[str], env: dict, stdin: str = "") -> float:
    """Seconds a fresh process of ``cmd`` takes, output discarded (it must succeed)."""
    return timed_output(cmd, env, stdin)[0]


def timed_output(cmd: list[str], env: dict, stdin: str = "") -> tuple[float, str]:
    """Seconds a fresh process of ``cmd`` takes, and its standard output (it must succeed)."""
    started = time.perf_counter()
    done = subprocess.run(
        cmd,
        input=stdin,
        env=env,
        text=True,
        check=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started, done.stdout


def percentile(values: list[float], p: int) -> float:
    """The ``p``-th percentile of ``values`` by nearest rank: the value at rank
    ``ceil(p / 100 * n)``, so no sample is dropped (with under 100 values, p99 is the maximum)."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(p * len(ordered) / 100)) - 1]


def isolate_from_this_machine() -> None:
    """Benchmarks start their own workers and read no user configuration: no hook they run
    starts a worker of its own, and no ~/.config/contextrecall file changes what they measure."""
    import os
    import tempfile

    os.environ["RECALL_WORKER_AUTOSTART"] = "0"
    os.environ["RECALL_CONFIG"] = os.path.join(tempfile.gettempdir(), "recall-bench-none.env")
