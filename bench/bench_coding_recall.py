"""Coding recall: 60 questions about earlier Claude Code sessions (../shared/data/coding-recall).

For each project of projects.json (spotter, demo), a fresh memory is filled with the project's
transcripts, saved one file at a time in projects.json's order (a subagent transcript
``<session>/subagents/agent-X.jsonl`` as session ``<session>/agent-X``, any other file as its
stem), then the project's questions are asked with a budget of B tokens (default 1000). A
question is answered when its needles (all, or any one when ``any`` is true) appear in the
returned context, case-insensitively with whitespace runs collapsed. Tokens are
``ceil(chars / 4)``.

Three systems, measured in the same run:

- recall: `recall save PATH --project P --session S --format claude --wait` per file, through
  the real CLI and a worker this benchmark starts (embedded defaults: a temporary RECALL_HOME,
  SQLite, the filesystem broker), then `recall search --jsonl --budget B --project P`, one
  process per project with its questions on stdin. The worker is stopped once every project is
  saved, before the first question: the usage counts each search publishes then stay queued,
  so every question sees the memory exactly as the saves left it (and the figures do not
  depend on how fast the worker happens to count uses between two questions).
- bm25: BM25 (k1 1.2, b 0.75) over the project's raw transcript messages (text blocks plus
  tool inputs, each input leaf as ``key: value`` with strings verbatim; no tool results, no
  thinking), each message cut at whitespace into consecutive chunks of at most 200 tokens;
  the best-scoring chunks are packed until the budget is reached. Its terms are Context
  Recall's own: stop words out, Snowball stems, identifiers whole and in parts (baseline.py).
- recency: the last B tokens of the same raw text, all the project's messages in time order.

Also printed: knowledge kept (the share of questions whose needles are anywhere in the
project's stored memory, read from the database: all columns, and only what search ranks),
storage (stored searchable tokens against transcript tokens, per session and in total; a
session's stored tokens are what its save added to the project's searchable memory, since
snippets are shared across a project's sessions) and the issue's targets as PASS/FAIL.

    python bench/bench_coding_recall.py                    # the real CLI and a worker
    python bench/bench_coding_recall.py --in-process       # no CLI, no worker: fast
    python bench/bench_coding_recall.py --misses           # what recall misses, and why
    python bench/bench_coding_recall.py mysql+pymysql://root@127.0.0.1/coding  # an empty DB

``--in-process`` builds the jobs the CLI would (``read_deltas`` + ``build_job``) and stores
them with ``save_job`` on a freshly migrated database, then calls ``recall.service.search``:
the same figures as the CLI run, in a fraction of the time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from baseline import BM25, recency_context
from coding_recall import (
    KINDS,
    StoredMemory,
    Transcript,
    answered,
    by_project,
    load_projects,
    load_questions,
    project_messages,
    raw_messages,
    stored_memory,
    table,
    tokens,
    transcript_tokens,
)

from contextrecall.settings import Settings

RECALL = [sys.executable, "-m", "contextrecall.cli"]


class Run:
    """What one system run of recall leaves: the answers, and the memory after each save."""

    def __init__(self) -> None:
        self.contexts: dict[str, str] = {}  # question id -> returned context
        self.over_budget = 0
        self.memory: dict[str, StoredMemory] = {}  # project -> its memory after all saves
        self.session_tokens: dict[tuple[str, str], int] = {}  # (project, session) -> added


def settings_for(folder: Path, database_url: str | None) -> tuple[Settings, dict[str, str]]:
    """The embedded defaults under ``folder`` (or ``database_url``), and the environment of
    the child processes: no other RECALL_* variable, no user configuration file, no
    autostarted workers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECALL_")}
    env["RECALL_HOME"] = str(folder / "home")
    env["RECALL_CONFIG"] = str(folder / "none.env")
    env["RECALL_WORKER_AUTOSTART"] = "0"
    if database_url:
        env["RECALL_DATABASE_URL"] = database_url
    return Settings.from_env(env), env


def measure_memory(run: Run, engine: Any, project: str, session: str, before: int) -> int:
    """Record what the save of ``session`` added to the searchable memory; the new total."""
    memory = stored_memory(engine, project)
    run.memory[project] = memory
    total = memory.searchable_tokens
    run.session_tokens[project, session] = total - before
    return total


def ask(run: Run, questions: list[dict[str, Any]], answers: list[dict[str, Any]], budget: int):
    for question, result in zip(questions, answers, strict=True):
        run.contexts[question["id"]] = result["context"]
        run.over_budget += result["tokens"] > budget or tokens(result["context"]) > budget


def run_cli(
    projects: dict[str, list[Transcript]],
    questions: list[dict[str, Any]],
    budget: int,
    folder: Path,
    database_url: str | None,
) -> Run:
    from contextrecall.client.worker_process import worker_command
    from contextrecall.db import dispose_engines, get_engine

    settings, env = settings_for(folder, database_url)
    subprocess.run([*RECALL, "db", "upgrade"], env=env, check=True, capture_output=True)
    log = (folder / "worker.log").open("wb")
    worker = subprocess.Popen(
        worker_command(f"coding-recall-{os.getpid()}@%h"),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    run = Run()
    engine = get_engine(settings)
    try:
        for project, transcripts in projects.items():
            total = 0
            for transcript in transcripts:
                saved = subprocess.run(
                    [
                        *RECALL,
                        "save",
                        str(transcript.path),
                        "--project",
                        project,
                        "--session",
                        transcript.session,
                        "--format",
                        "claude",
                        "--wait",
                        "--timeout",
                        "600",
                    ],
                    env=env,
                    capture_output=True,
                    text=True,
                )
                if saved.returncode:
                    raise SystemExit(f"recall save {transcript.path} failed:\n{saved.stderr}")
                total = measure_memory(run, engine, project, transcript.session, total)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()
    for project in projects:
        asked = [q for q in questions if q["project"] == project]
        searched = subprocess.run(
            [*RECALL, "search", "--jsonl", "--budget", str(budget), "--project", project],
            input="".join(q["question"].replace("\n", " ") + "\n" for q in asked),
            env=env,
            capture_output=True,
            text=True,
        )
        if searched.returncode:
            raise SystemExit(f"recall search failed:\n{searched.stderr}")
        ask(run, asked, [json.loads(line) for line in searched.stdout.splitlines()], budget)
    dispose_engines()
    return run


def run_in_process(
    projects: dict[str, list[Transcript]],
    questions: list[dict[str, Any]],
    budget: int,
    folder: Path,
    database_url: str | None,
) -> Run:
    from contextrecall.client.deltas import read_deltas
    from contextrecall.crypto import KeyRing, generate_key
    from contextrecall.db import dispose_engines, get_engine, session_scope
    from contextrecall.identity import named_project, this_machine
    from contextrecall.jobs import build_job
    from contextrecall.migrate import upgrade
    from contextrecall.recall import service
    from contextrecall.store.save_job import save_job

    settings, _ = settings_for(folder, database_url)
    upgrade(settings)
    ring = KeyRing(generate_key())
    machine = this_machine().to_dict()
    engine = get_engine(settings)
    run = Run()
    for project, transcripts in projects.items():
        ref = named_project(project).to_dict()
        total = 0
        for transcript in transcripts:
            path = os.path.normpath(transcript.path)
            for delta in read_deltas(path, 0):
                if not delta.text:
                    continue
                job = build_job(
                    project=ref,
                    machine=machine,
                    session_external_id=transcript.session,
                    source_format="claude",
                    delta=delta,
                    event="save",
                    transcript_path=path,
                )
                with session_scope(settings) as db:
                    save_job(db, job, ring)
            total = measure_memory(run, engine, project, transcript.session, total)
    for project in projects:
        asked = [q for q in questions if q["project"] == project]
        answers = [
            service.search(settings, project, q["question"].replace("\n", " "), budget=budget)
            for q in asked
        ]
        ask(run, asked, answers, budget)
    dispose_engines()
    return run


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url", nargs="?", help="an empty database instead of SQLite")
    parser.add_argument("--budget", type=int, default=1000, help="tokens per answer (1000)")
    parser.add_argument(
        "--in-process", action="store_true", help="no CLI and no worker: save and search here"
    )
    parser.add_argument(
        "--misses", action="store_true", help="print each question recall misses, and why"
    )
    args = parser.parse_args()
    started = time.perf_counter()
    projects = load_projects()
    questions = load_questions()

    with tempfile.TemporaryDirectory() as name:
        runner = run_in_process if args.in_process else run_cli
        run = runner(projects, questions, args.budget, Path(name), args.database_url)

    results: dict[str, dict[str, bool]] = {"recall": {}, "bm25": {}, "recency": {}}
    for project, transcripts in projects.items():
        messages = project_messages(transcripts)
        bm25 = BM25(m.text for m in messages)
        recent = recency_context([m.text for m in messages], args.budget)
        for q in (q for q in questions if q["project"] == project):
            results["recall"][q["id"]] = answered(q, run.contexts[q["id"]])
            results["bm25"][q["id"]] = answered(q, bm25.context(q["question"], args.budget))
            results["recency"][q["id"]] = answered(q, recent)

    mode = "in process (save_job + service.search)" if args.in_process else "CLI + worker"
    print(f"coding recall, {len(questions)} questions, budget {args.budget} tokens, {mode}")
    print("\n".join(table(results, questions)))
    print(by_project(results, questions, list(projects)))
    print(f"recall answers over budget: {run.over_budget}")

    memory = run.memory
    kept_all = {q["id"]: memory[q["project"]].holds(q, searchable_only=False) for q in questions}
    kept = {q["id"]: memory[q["project"]].holds(q, searchable_only=True) for q in questions}
    n = len(questions)
    kept_rate, kept_all_rate = sum(kept.values()) / n, sum(kept_all.values()) / n
    print()
    print(f"knowledge kept (all columns): {kept_all_rate:.1%} ({sum(kept_all.values())}/{n})")
    print(
        f"knowledge kept (searchable: snippets, decisions, summaries): "
        f"{kept_rate:.1%} ({sum(kept.values())}/{n})"
    )

    print()
    width = 2 + max(len(f"{p} {t.session}") for p, ts in projects.items() for t in ts)
    print(
        f"{'storage (searchable tokens)':<{width + 2}}{'stored':>8}{'transcript':>12}{'ratio':>8}"
    )
    stored_total = transcript_total = 0
    for project, transcripts in projects.items():
        for transcript in transcripts:
            raw = transcript_tokens(raw_messages(transcript.path))
            added = run.session_tokens[project, transcript.session]
            ratio = f"{added / raw:.1%}" if raw else "-"
            label = f"{project} {transcript.session}"
            print(f"  {label:<{width}}{added:>8}{raw:>12}{ratio:>8}")
            transcript_total += raw
        stored_total += memory[project].searchable_tokens
    storage = stored_total / transcript_total
    print(f"  {'total':<{width}}{stored_total:>8}{transcript_total:>12}{storage:>8.1%}")

    recall_rate = sum(results["recall"].values()) / n
    bm25_rate = sum(results["bm25"].values()) / n
    kinds = {k: sum(results["recall"][q["id"]] for q in questions if q["kind"] == k) for k in KINDS}
    worst = min(kinds, key=lambda k: kinds[k])
    print()
    print(f"target recall >= 85% overall: {recall_rate:.1%} {verdict(recall_rate >= 0.85)}")
    print(
        f"target recall >= bm25 + 10 points: {recall_rate:.1%} vs {bm25_rate:.1%} "
        f"{verdict(recall_rate >= bm25_rate + 0.10)}"
    )
    print(
        f"target no kind below 6/10: lowest {worst} {kinds[worst]}/10 "
        f"{verdict(min(kinds.values()) >= 6)}"
    )
    print(f"target knowledge kept >= 95%: {kept_rate:.1%} {verdict(kept_rate >= 0.95)}")
    print(f"target storage <= 25%: {storage:.1%} {verdict(storage <= 0.25)}")

    if args.misses:
        print("\nrecall misses (stored: the needles are in the memory at all):")
        for q in questions:
            if results["recall"][q["id"]]:
                continue
            where = (
                "searchable" if kept[q["id"]] else "all columns only" if kept_all[q["id"]] else "no"
            )
            mode_word = "any of" if q["any"] else "all of"
            print(f"  {q['id']} {q['kind']:<9} {q['project']}: {q['question']}")
            print(f"      needles ({mode_word}): {json.dumps(q['needles'], ensure_ascii=False)}")
            print(f"      stored: {where}")
    print(f"\nwall time: {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
