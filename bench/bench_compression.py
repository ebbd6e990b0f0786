"""Compression targets: reduction, speed against json.loads, and peak memory.

Run: ``.venv/bin/python bench/bench_compression.py``. Not part of the test suite.

(a) Reduction: for every shared real transcript over 20,000 text tokens, the summary block
    (``render_summary_block``) is at most 5% of the transcript's text tokens and names the five
    most edited files, the open todo items, the branch, and the first and last typed requests.
    The expected values are computed here from the raw JSON, independently of the parser.
(b) Speed: parse + redact + compress of all shared transcripts against ``json.loads`` of
    every line of the same files, measured in this run; the ratio must be at most 5x.
(c) Memory: peak RSS of a subprocess compressing a ~50 MB synthetic 2.x transcript, minus
    that of a subprocess that only imports the modules, must stay under 10x the file size.

Tokens are ceil(len(text) / 4) of the transcript's text content: user and assistant text,
tool inputs and tool results.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from contextrecall.compression import compress_file, render_summary_block  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "transcripts"
REDUCTION_MIN_TOKENS = 20_000
REDUCTION_MAX_RATIO = 0.05
SPEED_MAX_RATIO = 5.0
MEMORY_MAX_RATIO = 10.0
EDIT_TOOLS = {"Edit", "MultiEdit", "Write", "NotebookEdit"}
BUILTIN = {"/model", "/mcp", "/clear", "/compact", "/cost", "/help", "/config", "/status"}


def tokens(chars: int) -> int:
    return math.ceil(chars / 4)


def norm(text: str) -> str:
    return " ".join(text.split())


# -- (a) reduction -------------------------------------------------------------------------


def _typed(text: str) -> str | None:
    """What a person typed, in the form the summary shows it, or None for harness text."""
    text = text.strip()
    if "<command-name>" in text[:400]:
        name = text.split("<command-name>", 1)[1].split("</command-name>", 1)[0].strip()
        args = ""
        if "<command-args>" in text:
            args = text.split("<command-args>", 1)[1].split("</command-args>", 1)[0].strip()
        name = name if name.startswith("/") else "/" + name
        return f"{name} {args}".strip() if args and name not in BUILTIN else None
    if not text or text.startswith(("<", "[Request interrupted", "Caveat:")):
        return None
    if text.split(" ", 1)[0] in BUILTIN:
        return None
    return text


def expected_facts(path: Path) -> dict[str, Any]:
    """Text size and the facts a summary must name, read straight from the JSON lines."""
    chars = 0
    calls: dict[str, dict[str, Any]] = {}
    edits: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    todos: list[dict[str, Any]] = []
    branch = None
    root = None
    requests: list[str] = []
    prompts: list[str] = []
    with path.open("rb") as stream:
        for line in stream:
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if not isinstance(obj, dict):
                continue
            branch = obj.get("gitBranch") or branch
            root = root or obj.get("cwd")
            if obj.get("type") == "queue-operation" and obj.get("operation") == "enqueue":
                typed = _typed(str(obj.get("content") or ""))
                if typed and (not requests or requests[-1] != typed):
                    requests.append(typed)
                continue
            message = obj.get("message")
            if not isinstance(message, dict):
                continue
            content = message.get("content")
            blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
            for block in blocks or []:
                kind = block.get("type")
                if kind == "text":
                    chars += len(block["text"])
                    if obj.get("type") == "user" and not obj.get("isMeta"):
                        if obj.get("isCompactSummary"):
                            continue
                        if obj.get("isSidechain"):
                            prompts.append(block["text"])
                            continue
                        typed = _typed(block["text"])
                        if typed and (not requests or requests[-1] != typed):
                            requests.append(typed)
                elif kind == "tool_use":
                    chars += len(json.dumps(block.get("input"), ensure_ascii=False))
                    calls[block["id"]] = block
                    if block["name"] == "TodoWrite":
                        todos = block["input"].get("todos") or []
                elif kind == "tool_result":
                    result = block.get("content")
                    if isinstance(result, list):
                        result = "\n".join(b.get("text", "") for b in result if isinstance(b, dict))
                    chars += len(result or "")
                    call = calls.get(block.get("tool_use_id"))
                    if call and call["name"] in EDIT_TOOLS and not block.get("is_error"):
                        file_path = call["input"].get("file_path") or call["input"].get(
                            "notebook_path"
                        )
                        edits[file_path] += 1
                        first_seen.setdefault(file_path, len(first_seen))
    if root:
        prefix = root.rstrip("/") + "/"
        edits = Counter(
            {(p[len(prefix) :] if p.startswith(prefix) else p): n for p, n in edits.items()}
        )
        first_seen = {
            (p[len(prefix) :] if p.startswith(prefix) else p): n for p, n in first_seen.items()
        }
    requests = requests or prompts
    return {
        "tokens": tokens(chars),
        "edits": edits,
        "todos": [t["content"] for t in todos if t.get("status") != "completed"],
        "branch": branch,
        "first": requests[0] if requests else None,
        "last": requests[-1] if requests else None,
    }


def names_top_files(block: str, edits: Counter[str]) -> bool:
    """The five most edited files are named (ties at the fifth place: enough of them)."""
    ranked = edits.most_common()
    if not ranked:
        return True
    cut = ranked[min(5, len(ranked)) - 1][1]
    above = [p for p, n in ranked if n > cut]
    tied = [p for p, n in ranked if n == cut]
    needed = min(5, len(ranked)) - len(above)
    return all(p in block for p in above) and sum(p in block for p in tied) >= needed


def bench_reduction(files: list[Path]) -> bool:
    print("\n(a) Reduction: summary block vs transcript text (>20k tokens only)")
    header = (
        f"{'transcript':58} {'tokens':>8} {'block':>6} {'ratio':>6}  files todo branch first last"
    )
    print(header)
    print("-" * len(header))
    ok = True
    for path in files:
        facts = expected_facts(path)
        if facts["tokens"] <= REDUCTION_MIN_TOKENS:
            continue
        memory = compress_file(path)
        block = render_summary_block(memory)
        flat = norm(block)
        size = tokens(len(block))
        ratio = size / facts["tokens"]
        checks = {
            "files": names_top_files(block, facts["edits"]),
            "todo": all(norm(t)[:60] in flat for t in facts["todos"]),
            "branch": facts["branch"] is None or facts["branch"] in block,
            "first": facts["first"] is None or norm(facts["first"])[:50] in flat,
            "last": facts["last"] is None or norm(facts["last"])[:50] in flat,
        }
        passed = ratio <= REDUCTION_MAX_RATIO and all(checks.values())
        ok &= passed
        marks = "  ".join(("yes" if v else "NO").rjust(len(k)) for k, v in checks.items())
        name = str(path.relative_to(DATA))[-58:]
        verdict = "PASS" if passed else "FAIL"
        print(f"{name:58} {facts['tokens']:>8} {size:>6} {ratio:>6.1%}  {marks}  {verdict}")
    return ok


# -- (b) speed -----------------------------------------------------------------------------


def _json_baseline(files: list[Path]) -> None:
    for path in files:
        with path.open("rb") as stream:
            for line in stream:
                with contextlib.suppress(ValueError):
                    json.loads(line)


def _compress_all(files: list[Path]) -> None:
    for path in files:
        compress_file(path)


def bench_speed(files: list[Path], rounds: int) -> bool:
    print("\n(b) Speed: parse + redact + compress vs json.loads of every line")
    size = sum(p.stat().st_size for p in files)
    baseline, ours = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        _json_baseline(files)
        baseline.append(time.perf_counter() - start)
        start = time.perf_counter()
        _compress_all(files)
        ours.append(time.perf_counter() - start)
    base, mine = statistics.median(baseline), statistics.median(ours)
    ratio = mine / base
    mb = size / 1e6
    print(f"{'step':30} {'seconds':>9} {'MB/s':>8}")
    print(f"{'json.loads every line':30} {base:>9.3f} {mb / base:>8.1f}")
    print(f"{'parse+redact+compress':30} {mine:>9.3f} {mb / mine:>8.1f}")
    verdict = "PASS" if ratio <= SPEED_MAX_RATIO else "FAIL"
    print(f"ratio {ratio:.2f}x (target <= {SPEED_MAX_RATIO:.0f}x) over {mb:.1f} MB: {verdict}")
    return ratio <= SPEED_MAX_RATIO


# -- (c) memory ----------------------------------------------------------------------------


def _line(obj: dict[str, Any]) -> bytes:
    return (json.dumps(obj, ensure_ascii=False) + "\n").encode()


def synthetic_transcript(path: Path, target_bytes: int, seed: int = 7) -> int:
    """Write a Claude Code 2.x-shaped transcript of about ``target_bytes``; its size."""
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "parser", "cache", "redis", "worker", "commit"]
    base = {
        "sessionId": "synthetic-0001",
        "cwd": "/home/dev/project",
        "gitBranch": "feature/synthetic",
        "version": "2.1.39",
        "isSidechain": False,
        "userType": "external",
    }
    written = 0
    turn = 0
    with path.open("wb") as out:
        while written < target_bytes:
            turn += 1
            ts = f"2026-02-11T10:{turn % 60:02d}:00.000Z"
            prompt = f"Request {turn}: " + " ".join(rng.choice(words) for _ in range(30))
            lines = [
                {
                    **base,
                    "type": "user",
                    "timestamp": ts,
                    "uuid": f"u{turn}",
                    "message": {"role": "user", "content": prompt},
                },
                {**base, "type": "progress", "timestamp": ts, "data": {"type": "hook_progress"}},
            ]
            message_id = f"msg_{turn}"
            text = " ".join(rng.choice(words) for _ in range(120))
            blocks = [
                {"type": "thinking", "thinking": text, "signature": "x" * 400},
                {"type": "text", "text": f"I'll use redis instead of memcached because {text}."},
            ]
            tool_id = f"toolu_{turn}"
            kind = turn % 4
            if kind == 0:
                call = {"command": f"pytest tests/test_{turn % 50}.py -q", "description": "tests"}
                name = "Bash"
                result = ("." * 2000) + f"\n{turn % 7 + 1} passed in 0.5s"
            elif kind == 1:
                name = "Edit"
                call = {
                    "file_path": f"/home/dev/project/src/mod_{turn % 40}.py",
                    "old_string": text[:400],
                    "new_string": "import os\n" + text[:800],
                }
                result = "The file has been updated."
            elif kind == 2:
                name = "Read"
                call = {"file_path": f"/home/dev/project/src/mod_{turn % 40}.py"}
                size = 400_000 if turn % 50 == 2 else 20_000
                result = "\n".join(f"{i:6}→{text[:60]}" for i in range(size // 70))
            else:
                name = "TodoWrite"
                call = {
                    "todos": [
                        {"content": f"Task {i}", "status": "pending", "activeForm": f"Doing {i}"}
                        for i in range(5)
                    ]
                }
                result = "Todos have been modified successfully."
            blocks.append({"type": "tool_use", "id": tool_id, "name": name, "input": call})
            for block in blocks:
                lines.append(
                    {
                        **base,
                        "type": "assistant",
                        "timestamp": ts,
                        "message": {"id": message_id, "role": "assistant", "content": [block]},
                    }
                )
            lines.append(
                {
                    **base,
                    "type": "user",
                    "timestamp": ts,
                    "message": {
                        "role": "user",
                        "content": [
                            {"type": "tool_result", "tool_use_id": tool_id, "content": result}
                        ],
                    },
                    "toolUseResult": {"stdout": result[:1000], "originalFile": result},
                }
            )
            for obj in lines:
                data = _line(obj)
                out.write(data)
                written += len(data)
    return written


_PROBE = """
import resource, sys
from contextrecall.compression import compress_file
{work}
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""
# Linux carries ru_maxrss across fork + exec, so a probe started straight from this (large)
# process would report at least this process's size. A bare interpreter launches it instead.
_LAUNCHER = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"


def _peak_kib(work: str) -> int:
    probe = [sys.executable, "-c", _PROBE.format(work=work)]
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", _LAUNCHER, *probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    return int(result.stdout.strip().splitlines()[-1])


def bench_memory(megabytes: int) -> bool:
    print(f"\n(c) Memory: peak RSS compressing a ~{megabytes} MB synthetic 2.x transcript")
    with tempfile.TemporaryDirectory(prefix="recall-bench-") as folder:
        path = Path(folder) / "synthetic.jsonl"
        size = synthetic_transcript(path, megabytes * 1_000_000)
        baseline = _peak_kib("")
        start = time.perf_counter()
        peak = _peak_kib(f"compress_file({str(path)!r})")
        elapsed = time.perf_counter() - start
    delta = max(peak - baseline, 0) * 1024
    ratio = delta / size
    print(
        f"file {size / 1e6:.1f} MB; baseline (imports) {baseline / 1024:.1f} MiB; "
        f"compressing {peak / 1024:.1f} MiB; delta {delta / 2**20:.1f} MiB "
        f"in {elapsed:.1f} s ({size / 1e6 / elapsed:.1f} MB/s incl. start-up)"
    )
    verdict = "PASS" if ratio < MEMORY_MAX_RATIO else "FAIL"
    print(f"ratio {ratio:.2f}x file size (target < {MEMORY_MAX_RATIO:.0f}x): {verdict}")
    return ratio < MEMORY_MAX_RATIO


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="speed rounds (median)")
    parser.add_argument("--megabytes", type=int, default=50, help="synthetic transcript size")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"no shared transcripts at {DATA}")
        return 2
    files = sorted(DATA.rglob("*.jsonl"))
    results = {
        "reduction": bench_reduction(files),
        "speed": bench_speed(files, args.rounds),
        "memory": bench_memory(args.megabytes),
    }
    print("\n" + "  ".join(f"{k}: {'PASS' if v else 'FAIL'}" for k, v in results.items()))
    return 0 if all(results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
