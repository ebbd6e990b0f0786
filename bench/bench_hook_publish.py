"""The publisher's share of the hook's time budget (at most 3x ``python -c pass``).

Times fresh processes, each the median of --runs runs, taken round-robin so that load on the
machine affects every row alike:

- ``python -c pass``: the baseline;
- ``import json``: most of the publisher's import cost, which the hook pays anyway for its stdin;
- importing ``contextrecall.broker.publish``;
- importing it and publishing one task to the real Redis (the hook's fast path);
- Celery's own ``send_task`` from the project's app (what the fast path replaces).

Messages go to a queue no worker reads, which is deleted afterwards. Children run with bytecode
caching on (in a temporary PYTHONPYCACHEPREFIX, so the tree stays clean) even when the calling
shell sets PYTHONDONTWRITEBYTECODE: an installed hook runs from compiled modules.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from timing import isolate_from_this_machine

QUEUE = "bench-hook-publish"
ARGS = ["/home/user/.claude/projects/demo/session.jsonl", "session-id", 0]
KWARGS = {"project": "demo", "event": "Stop"}


def commands(redis_url: str) -> dict[str, str]:
    call = f"{ARGS!r}, {KWARGS!r}, queue={QUEUE!r}"
    return {
        "python -c pass": "pass",
        "import json (the hook needs it)": "import json",
        "import contextrecall.broker.publish": "import contextrecall.broker.publish",
        "publish_task (stdlib, Redis)": (
            "from contextrecall.broker.publish import publish_task\n"
            f"publish_task({redis_url!r}, 'recall.save_transcript', {call})"
        ),
        "Celery app.send_task": (
            "from contextrecall.worker.app import app\n"
            f"app.send_task('recall.save_transcript', args={ARGS!r}, kwargs={KWARGS!r}, "
            f"queue={QUEUE!r})"
        ),
    }


def measure(codes: dict[str, str], runs: int, env: dict[str, str]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in codes}
    for _ in range(runs):
        for name, code in codes.items():
            started = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], env=env, check=True)
            times[name].append(time.perf_counter() - started)
    return times


def queue_length_and_clear(redis_url: str) -> int:
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        length = client.llen(QUEUE)
        # Celery's send_task also declares the queue: drop its kombu binding sets too.
        client.delete(QUEUE, f"_kombu.binding.{QUEUE}", f"_kombu.binding_permanent.{QUEUE}")
        return length
    finally:
        client.close()


def main() -> None:
    isolate_from_this_machine()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--runs", type=int, default=20)
    options = parser.parse_args()

    queue_length_and_clear(options.redis_url)
    codes = commands(options.redis_url)
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "RECALL_HOME": home, "RECALL_BROKER_URL": options.redis_url}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = os.path.join(home, "pycache")
        for code in codes.values():  # warm the file cache and .pyc files
            subprocess.run([sys.executable, "-c", code], env=env, check=True)
        times = measure(codes, options.runs, env)
    published = queue_length_and_clear(options.redis_url)
    expected = 2 * (options.runs + 1)  # fast path and Celery rows, plus the warm-up
    assert published == expected, f"{published} messages reached Redis, expected {expected}"

    base = statistics.median(times["python -c pass"])
    print(f"{'fresh process':32} {'median ms':>10} {'x pass':>8}   ({options.runs} runs each)")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"{name:32} {median * 1000:10.1f} {median / base:8.2f}")
    print(f"budget for the whole hook: 3.00 x pass = {3 * base * 1000:.1f} ms")


if __name__ == "__main__":
    main()
