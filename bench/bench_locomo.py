"""Recall quality on LoCoMo (../shared/data/locomo/locomo-dev.json), through the real CLI.

Each conversation becomes a project; each of its sessions is saved with
`recall save --format chat --wait`; each question of categories 1-4 is asked through
`recall search --jsonl --budget 1000`. A question counts when every evidence turn is covered
by the returned context: at least 70% of the turn's distinct content words (lowercase
alphanumeric words of 3+ characters, minus stop words) appear inside one window of at most
3 x the turn's content-word count + 5 words. A question whose evidence names no turn of its
conversation has nothing to cover: it is left out (neither a hit nor a miss) and listed. The
baseline, run in the same benchmark, is BM25 over the raw turns (``speaker: text``, one
document each, cut into chunks of at most 200 tokens if longer; baseline.py) filling the same
budget. Target (issue 5): at least 80%, never over budget.

Runs on the embedded defaults (SQLite and the filesystem broker, a worker it starts itself);
`python bench/bench_locomo.py mysql+pymysql://root@127.0.0.1/locomo` runs it on an empty
MariaDB database instead.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from baseline import BM25
from locomo import session_files
from timing import isolate_from_this_machine

from contextrecall.client.worker_process import worker_command
from contextrecall.terms import ENGLISH_STOPWORDS

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "locomo" / "locomo-dev.json"
BUDGET = 1000
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}


def content_words(text: str) -> list[str]:
    return [
        w
        for w in re.findall(r"[a-z0-9]+", text.lower())
        if len(w) >= 3 and w not in ENGLISH_STOPWORDS
    ]


def covered(turn: str, context: list[str]) -> bool:
    """The issue's coverage rule for one evidence turn."""
    words = content_words(turn)
    distinct = set(words)
    if not distinct:
        return True
    needed, window = math.ceil(0.7 * len(distinct)), 3 * len(words) + 5
    inside: Counter[str] = Counter()
    for i, word in enumerate(context):
        if word in distinct:
            inside[word] += 1
        if i >= window:
            old = context[i - window]
            if old in distinct:
                inside[old] -= 1
                if not inside[old]:
                    del inside[old]
        if len(inside) >= needed:
            return True
    return False


def turns_of(conversation: dict) -> dict[str, tuple[str, str]]:
    """Each turn's speaker and text by its id, in conversation order."""
    chat = conversation["conversation"]
    return {
        turn["dia_id"]: (turn["speaker"], turn["text"])
        for key, session in chat.items()
        if key.startswith("session_") and isinstance(session, list)
        for turn in session
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url", nargs="?", help="an empty database instead of SQLite")
    args = parser.parse_args()
    isolate_from_this_machine()
    conversations = json.loads(DATA.read_text())
    folder = Path(tempfile.mkdtemp())
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECALL_")}
    env["RECALL_HOME"] = str(folder / "home")
    env["RECALL_CONFIG"] = str(folder / "none.env")
    env["RECALL_WORKER_AUTOSTART"] = "0"  # the worker below is the only one
    if args.database_url:  # the same benchmark on MariaDB (an empty database)
        env["RECALL_DATABASE_URL"] = args.database_url
    recall = [sys.executable, "-m", "contextrecall.cli"]
    upgraded = subprocess.run([*recall, "db", "upgrade"], env=env, capture_output=True, text=True)
    if upgraded.returncode:
        raise SystemExit(f"recall db upgrade failed: {upgraded.stderr.strip()}")
    log = (folder / "worker.log").open("wb")
    worker = subprocess.Popen(
        worker_command(f"locomo-{os.getpid()}@%h"),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    ours: dict[int, list[bool]] = defaultdict(list)
    base: dict[int, list[bool]] = defaultdict(list)
    left_out: list[str] = []  # questions whose evidence names no turn of their conversation
    over_budget = 0
    started = time.perf_counter()
    try:
        time.sleep(3)
        for conversation in conversations:
            project = f"locomo-{conversation['sample_id']}"
            files = [str(f) for f in session_files(conversation, folder / project)]
            subprocess.run(
                [
                    *recall,
                    "save",
                    *files,
                    "--project",
                    project,
                    "--format",
                    "chat",
                    "--wait",
                    "--timeout",
                    "600",
                ],
                env=env,
                check=True,
                capture_output=True,
            )
            turns = turns_of(conversation)
            bm25 = BM25(f"{speaker}: {text}" for speaker, text in turns.values())
            questions = [q for q in conversation["qa"] if q["category"] in CATEGORIES]
            answers = subprocess.run(
                [*recall, "search", "--project", project, "--jsonl", "--budget", str(BUDGET)],
                input="\n".join(q["question"].replace("\n", " ") for q in questions) + "\n",
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout.splitlines()
            for question, answer in zip(questions, answers, strict=True):
                result = json.loads(answer)
                over_budget += result["tokens"] > BUDGET
                evidence = [turns[e][1] for e in question["evidence"] if e in turns]
                if not evidence:  # nothing to cover: neither a hit nor a miss
                    left_out.append(f"{project} {question['question']!r}: {question['evidence']}")
                    continue
                mine = content_words(result["context"])
                theirs = content_words(bm25.context(question["question"], BUDGET))
                ours[question["category"]].append(all(covered(t, mine) for t in evidence))
                base[question["category"]].append(all(covered(t, theirs) for t in evidence))
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    def cell(hits: list[bool]) -> str:
        return f"{sum(hits)}/{len(hits)} {sum(hits) / len(hits):.1%}"

    print(f"{'category':<16}{'ours':>16}{'BM25 raw':>16}")
    for category, name in CATEGORIES.items():
        print(f"{name:<16}{cell(ours[category]):>16}{cell(base[category]):>16}")
    total = [x for v in ours.values() for x in v]
    total_base = [x for v in base.values() for x in v]
    rate, base_rate = sum(total) / len(total), sum(total_base) / len(total_base)
    print(f"{'all':<16}{cell(total):>16}{cell(total_base):>16}")
    print(
        f"left out: {len(left_out)} questions whose evidence names no turn of their "
        "conversation (nothing to cover, so neither a hit nor a miss):"
    )
    for line in left_out:
        print(f"  {line}")
    print(
        f"ratio ours / baseline: {rate / base_rate:.2f}; answers over budget: {over_budget}; "
        f"{time.perf_counter() - started:.0f}s"
    )
    print(
        f"target >= 80% covered, never over budget: "
        f"{'PASS' if rate >= 0.8 and not over_budget else 'FAIL'}"
    )


if __name__ == "__main__":
    main()
