"""`recall hook` on a Stop event for a 3 MB transcript with a few new lines, against
`python -c pass`, all as fresh processes measured alternately in the same run.

The hook runs twice a round: as installed (it checks that a worker is alive, and one is: this
process holds the worker lock as a running worker does), and with the check off
(RECALL_WORKER_AUTOSTART=0). The difference is what the worker check costs a hook.

Target (issue 4): hook wall time at most 3x that of `python -c pass`; (issue 14) the worker
check costs at most a few milliseconds; (issue 31) the same for every agent:
`python bench/bench_hook.py codex` (a Codex rollout, its Stop) or `gemini` (a Gemini CLI chat
log, its AfterAgent).
Needs Redis on 127.0.0.1:6379 (jobs go to db 11, which is flushed afterwards).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

from timing import percentile, timed

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT.parent / "shared" / "data" / "transcripts" / "claude-code-2.1"
RUNS = 25
BROKER = "redis://127.0.0.1:6379/11"


def line_of(agent: str, text: str) -> dict:
    """A user line of ``agent``'s transcript format."""
    if agent == "codex":
        item = {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        }
        return {"timestamp": "2026-12-01T09:00:00Z", "type": "response_item", "payload": item}
    if agent == "gemini":
        return {
            "id": text,
            "timestamp": "2026-12-01T09:00:00Z",
            "type": "user",
            "content": [{"text": text}],
        }
    return {"type": "user", "message": {"role": "user", "content": text}}


FIRST_LINES = {
    "codex": {
        "timestamp": "2026-12-01T09:00:00Z",
        "type": "session_meta",
        "payload": {"id": "bench"},
    },
    "gemini": {"sessionId": "bench", "projectHash": "ab", "startTime": "2026-12-01T09:00:00Z"},
}
SAVE_EVENTS = {"claude": "Stop", "codex": "Stop", "gemini": "AfterAgent"}


def synthetic_transcript(path: Path, agent: str = "claude", size: int = 3 * 1024 * 1024) -> None:
    source = SAMPLE / "4d5611e5-241a-462a-8d15-5122611a9569.jsonl"
    if agent != "claude":
        with path.open("w") as handle:
            handle.write(json.dumps(FIRST_LINES[agent]) + "\n")
            n = 0
            while handle.tell() < size:
                handle.write(json.dumps(line_of(agent, f"filler {n} " + "x" * 500)) + "\n")
                n += 1
        return
    if source.exists():
        shutil.copyfile(source, path)
        return
    line = json.dumps({"type": "user", "message": {"role": "user", "content": "x" * 500}})
    with path.open("w") as handle:
        while handle.tell() < size:
            handle.write(line + "\n")


def main() -> None:
    agent = sys.argv[1] if len(sys.argv) > 1 else "claude"
    if agent not in SAVE_EVENTS:
        sys.exit(f"bench_hook: unknown agent {agent!r}; expected one of {', '.join(SAVE_EVENTS)}")
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"
        transcript = Path(folder) / "session.jsonl"
        synthetic_transcript(transcript, agent)
        env = {
            **os.environ,
            "RECALL_HOME": str(home),
            "RECALL_BROKER_URL": BROKER,
            "RECALL_CONFIG": str(Path(folder) / "no-config.env"),
            "RECALL_WORKER_AUTOSTART": "1",
            "PYTHONPYCACHEPREFIX": str(Path(folder) / "pycache"),
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure an installed hook, with bytecode
        unchecked = {**env, "RECALL_WORKER_AUTOSTART": "0"}
        home.mkdir(parents=True)
        # A live worker holds the home's lock (shared, as a worker started by hand does).
        worker_lock = os.open(home / "worker.lock", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(worker_lock, fcntl.LOCK_SH)
        event = json.dumps(
            {
                "session_id": "bench",
                "transcript_path": str(transcript),
                "cwd": str(ROOT),
                "hook_event_name": SAVE_EVENTS[agent],
                # not in the transcript yet, as Claude Code often runs Stop: the hook looks
                # for it in the transcript's end and sends it along
                "last_assistant_message": "Added the three lines; the totals test passes.",
            }
        )
        hook = [str(Path(sys.executable).parent / "recall"), "hook"]
        timed(hook, env, event)  # first save consumes the 3 MB and warms the caches
        baseline, hooks, no_check = [], [], []
        for i in range(RUNS):
            with transcript.open("a") as handle:
                for j in range(3):
                    handle.write(json.dumps(line_of(agent, f"new line {i}.{j}")) + "\n")
            baseline.append(timed([sys.executable, "-c", "pass"], env))
            hooks.append(timed(hook, env, event))
            with transcript.open("a") as handle:
                handle.write(json.dumps(line_of(agent, f"again {i}")) + "\n")
            no_check.append(timed(hook, unchecked, event))
        spooled = len(list((home / "spool").glob("*.json")))
        os.close(worker_lock)
    import redis

    queued = redis.Redis.from_url(BROKER).llen("recall")
    redis.Redis.from_url(BROKER).flushdb()
    base, ours = statistics.median(baseline), statistics.median(hooks)
    print(f"{'process':<40}{'median ms':>12}{'p90 ms':>10}{'ratio':>8}")
    for name, values in (
        ("python -c pass", baseline),
        (f"recall hook ({agent} {SAVE_EVENTS[agent]}, 3 MB, +3 lines)", hooks),
        ("  the same, no worker check", no_check),
    ):
        p90 = percentile(values, 90)
        print(
            f"{name:<40}{statistics.median(values) * 1000:>12.1f}{p90 * 1000:>10.1f}"
            f"{statistics.median(values) / base:>8.2f}"
        )
    print(f"jobs published: {queued}, left in spool: {spooled}")
    verdict = "PASS" if ours <= 3 * base else "FAIL"
    print(f"target hook <= 3.0x python -c pass: {ours / base:.2f}x {verdict}")
    check = (ours - statistics.median(no_check)) * 1000
    print(f"worker check: {check:+.1f} ms a hook (median difference; target a few ms)")


if __name__ == "__main__":
    main()
