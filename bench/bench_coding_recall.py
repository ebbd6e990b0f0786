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
    SESSION_START,
    WORDED_AWAY,
    StoredMemory,
    Transcript,
    answered,
    by_project,
    load_projects,
    load_questions,
    normalize,
    project_messages,
    raw_messages,
    storage_by_kind,
    stored_memory,
    table,
    tokens,
    transcript_tokens,
)

from contextrecall.settings import Settings

RECALL = [sys.executable, "-m", "contextrecall.cli"]
START_BUDGET = 2000  # tokens of the session-start block the state questions are asked of


class Run:
    """What one system run of recall leaves: the answers, and the memory after each save."""

    def __init__(self) -> None:
        self.contexts: dict[str, str] = {}  # question id -> returned context
        self.over_budget = 0
        self.memory: dict[str, StoredMemory] = {}  # project -> its memory after all saves
        self.session_tokens: dict[tuple[str, str], int] = {}  # (project, session) -> added
        self.starts: dict[str, str] = {}  # project -> its session-start block
        self.kinds: dict[str, dict[str, int]] = {}  # project -> searchable tokens by kind


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
    run.kinds[project] = storage_by_kind(engine, project)
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
                        transcript.format,
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
        injected = subprocess.run(
            [*RECALL, "inject", "--project", project, "--budget", str(START_BUDGET)],
            env=env,
            capture_output=True,
            text=True,
        )
        if injected.returncode:
            raise SystemExit(f"recall inject failed:\n{injected.stderr}")
        run.starts[project] = injected.stdout
    dispose_engines()
    return run


def save_file(
    settings: Settings, ring: Any, project: dict, path: str, session: str, source_format: str
) -> None:
    """Store the file at ``path`` as ``session`` of ``project`` (an identity's dict), the
    jobs the CLI would build (``read_deltas`` + ``build_job``) saved here with ``save_job``."""
    from contextrecall.client.deltas import read_deltas
    from contextrecall.db import session_scope
    from contextrecall.identity import this_machine
    from contextrecall.jobs import build_job
    from contextrecall.store.save_job import save_job

    for delta in read_deltas(path, 0):
        if delta.text:
            job = build_job(
                project=project,
                machine=this_machine().to_dict(),
                session_external_id=session,
                source_format=source_format,
                delta=delta,
                event="save",
                transcript_path=path,
            )
            with session_scope(settings) as db:
                save_job(db, job, ring)


def run_in_process(
    projects: dict[str, list[Transcript]],
    questions: list[dict[str, Any]],
    budget: int,
    folder: Path,
    database_url: str | None,
) -> Run:
    from contextrecall.crypto import KeyRing, generate_key
    from contextrecall.db import dispose_engines, get_engine
    from contextrecall.identity import named_project
    from contextrecall.migrate import upgrade
    from contextrecall.recall import service, session_start

    settings, _ = settings_for(folder, database_url)
    upgrade(settings)
    ring = KeyRing(generate_key())
    engine = get_engine(settings)
    run = Run()
    for project, transcripts in projects.items():
        ref = named_project(project).to_dict()
        total = 0
        for transcript in transcripts:
            path = os.path.normpath(transcript.path)
            save_file(settings, ring, ref, path, transcript.session, transcript.format)
            total = measure_memory(run, engine, project, transcript.session, total)
    for project in projects:
        asked = [q for q in questions if q["project"] == project]
        answers = [
            service.search(settings, project, q["question"].replace("\n", " "), budget=budget)
            for q in asked
        ]
        ask(run, asked, answers, budget)
        run.starts[project] = session_start.session_start_block(settings, project, START_BUDGET)
    dispose_engines()
    return run


def placements(settings: Settings, questions: list[dict[str, Any]], budget: int) -> dict[str, str]:
    """For each question, where recall's ranking (``service.ranked_items``, as a search on
    the database ranks) put the best memory holding one of its needles: ranked beyond what
    the budget held, shown with its excerpt leaving the needle out, or never a candidate."""
    from contextrecall.recall import service
    from contextrecall.recall.ranking import fill_budget, query_terms

    found = {}
    for q in questions:
        query = q["question"].replace("\n", " ")
        ranking = service.ranked_items(settings, q["project"], query, budget)
        if ranking is None:
            continue
        ranked, neighbours = ranking
        _, chosen = fill_budget(ranked, budget, None, neighbours, focus=query_terms(query))
        holding = [
            n
            for n, (_, item) in enumerate(ranked)
            if any(
                normalize(needle) in normalize(f"{item.title}\n{item.text}")
                for needle in q["needles"]
            )
        ]
        shown = {item.id for _, item in chosen}
        if not holding:
            found[q["id"]] = f"none of the {len(ranked)} memories ranked holds a needle"
        elif ranked[holding[0]][1].id in shown:
            found[q["id"]] = f"ranked {holding[0] + 1} and shown, its excerpt without the needle"
        else:
            found[q["id"]] = (
                f"ranked {holding[0] + 1} of {len(ranked)}, the budget held {len(chosen)}"
            )
    return found


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def rate(answers: dict[str, bool], questions: list[dict[str, Any]]) -> str:
    hits = sum(answers[q["id"]] for q in questions)
    return f"{hits / len(questions):.1%} ({hits}/{len(questions)})" if questions else "-"


def share(answers: dict[str, bool], questions: list[dict[str, Any]]) -> float:
    return sum(answers[q["id"]] for q in questions) / len(questions) if questions else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url", nargs="?", help="an empty database instead of SQLite")
    parser.add_argument("--budget", type=int, default=1000, help="tokens per answer (1000)")
    parser.add_argument(
        "--in-process", action="store_true", help="no CLI and no worker: save and search here"
    )
    parser.add_argument(
        "--misses", action="store_true", help="print each dev question recall misses, and why"
    )
    parser.add_argument("--project", action="append", help="only this project (repeatable)")
    args = parser.parse_args()
    started = time.perf_counter()
    projects = load_projects()
    if args.project:
        unknown = set(args.project) - set(projects)
        if unknown:
            raise SystemExit(f"no such project: {', '.join(sorted(unknown))}")
        projects = {name: files for name, files in projects.items() if name in args.project}
    questions = [q for q in load_questions() if q["project"] in projects]

    with tempfile.TemporaryDirectory() as name:
        runner = run_in_process if args.in_process else run_cli
        run = runner(projects, questions, args.budget, Path(name), args.database_url)
        if args.misses:  # while the memory is there
            settings, _ = settings_for(Path(name), args.database_url)
            placed = placements(
                settings, [q for q in questions if q["split"] == "dev"], args.budget
            )

    results: dict[str, dict[str, bool]] = {"recall": {}, "bm25": {}, "recency": {}}
    started_from: dict[str, bool] = {}
    for project, transcripts in projects.items():
        messages = project_messages(transcripts)
        bm25 = BM25(m.text for m in messages)
        recent = recency_context([m.text for m in messages], args.budget)
        for q in (q for q in questions if q["project"] == project):
            results["recall"][q["id"]] = answered(q, run.contexts[q["id"]])
            results["bm25"][q["id"]] = answered(q, bm25.context(q["question"], args.budget))
            results["recency"][q["id"]] = answered(q, recent)
            started_from[q["id"]] = answered(q, run.starts[project])

    core = [q for q in questions if q["core"]]
    mode = "in process (save_job + service.search)" if args.in_process else "CLI + worker"
    print(f"coding recall, {len(core)} questions, budget {args.budget} tokens, {mode}")
    print("\n".join(table(results, core)))
    print(by_project(results, core, list(projects)))
    print(f"recall answers over budget: {run.over_budget}")

    memory = run.memory
    kept_all = {q["id"]: memory[q["project"]].holds(q, searchable_only=False) for q in questions}
    kept = {q["id"]: memory[q["project"]].holds(q, searchable_only=True) for q in questions}

    print()
    print(
        f"per project ({args.budget} tokens; dev and held-out: the project's 60, split; "
        f"worded away and session start ({START_BUDGET} tokens): their sets)"
    )
    head = (
        "dev",
        "held-out",
        "worded away",
        "session start",
        "bm25 dev",
        "bm25 away",
        "kept",
        "storage",
    )
    width = 2 + max(len(p) for p in projects)
    print(f"{'':<{width}}" + "".join(f"{h:>16}" for h in head))
    verdicts = []
    stored_total = transcript_total = 0
    for project, transcripts in projects.items():
        mine = [q for q in questions if q["project"] == project]
        dev = [q for q in mine if q["core"] and q["split"] == "dev"]
        held = [q for q in mine if q["core"] and q["split"] == "held-out"]
        away = [q for q in mine if WORDED_AWAY in q["sets"]]
        start = [q for q in mine if SESSION_START in q["sets"]]
        raw = sum(transcript_tokens(raw_messages(t.path, 0, t.format)) for t in transcripts)
        stored = memory[project].searchable_tokens
        stored_total += stored
        transcript_total += raw
        cells = (
            rate(results["recall"], dev),
            rate(results["recall"], held),
            rate(results["recall"], away),
            f"{sum(started_from[q['id']] for q in start)}/{len(start)}" if start else "-",
            rate(results["bm25"], dev),
            rate(results["bm25"], away),
            rate(kept, mine),
            f"{stored / raw:.1%}" if raw else "-",
        )
        print(f"  {project:<{width - 2}}" + "".join(f"{c:>16}" for c in cells))
        recall_dev, bm25_dev = share(results["recall"], dev), share(results["bm25"], dev)
        verdicts.append(
            f"{project}: dev {recall_dev:.1%} >= 85% {verdict(recall_dev >= 0.85)}; "
            f">= bm25 {bm25_dev:.1%} + 10 {verdict(recall_dev >= bm25_dev + 0.10)}"
        )
        if held:
            gap = share(results["recall"], dev) - share(results["recall"], held)
            verdicts.append(f"{project}: held-out within 5 points of dev {verdict(gap <= 0.05)}")
        if away:
            verdicts.append(
                f"{project}: worded away >= 75% {verdict(share(results['recall'], away) >= 0.75)}"
            )
        if start:
            verdicts.append(
                f"{project}: session start >= 8/10 "
                f"{verdict(sum(started_from[q['id']] for q in start) >= 0.8 * len(start))}"
            )

    print()
    label_width = 2 + max(len(f"{p} {t.session}") for p, ts in projects.items() for t in ts)
    print(
        f"{'storage (searchable tokens)':<{label_width + 2}}"
        f"{'stored':>8}{'transcript':>12}{'ratio':>8}"
    )
    for project, transcripts in projects.items():
        for transcript in transcripts:
            raw = transcript_tokens(raw_messages(transcript.path, 0, transcript.format))
            added = run.session_tokens[project, transcript.session]
            ratio = f"{added / raw:.1%}" if raw else "-"
            label = f"{project} {transcript.session}"
            print(f"  {label:<{label_width}}{added:>8}{raw:>12}{ratio:>8}")
    storage = stored_total / transcript_total
    print(f"  {'total':<{label_width}}{stored_total:>8}{transcript_total:>12}{storage:>8.1%}")
    print("\nwhere it goes (searchable tokens by kind of memory)")
    for project in projects:
        kinds = sorted(run.kinds[project].items(), key=lambda pair: -pair[1])
        total = sum(n for _, n in kinds) or 1
        print(f"  {project}: " + ", ".join(f"{k} {n} ({n / total:.0%})" for k, n in kinds))

    print()
    print("\n".join(f"target {line}" for line in verdicts))
    print(f"target storage <= 25%: {storage:.1%} {verdict(storage <= 0.25)}")

    if args.misses:
        print("\nrecall misses on the dev split (stored: the needles are in the memory at all):")
        for q in questions:
            in_start = SESSION_START in q["sets"] and not started_from[q["id"]]
            if q["split"] != "dev" or (results["recall"][q["id"]] and not in_start):
                continue
            where = (
                "searchable" if kept[q["id"]] else "all columns only" if kept_all[q["id"]] else "no"
            )
            mode_word = "any of" if q["any"] else "all of"
            missed = "search" if not results["recall"][q["id"]] else ""
            if in_start:
                missed = f"{missed} + session start" if missed else "session start"
            sets = f" [{', '.join(q['sets'])}]" if q["sets"] else ""
            print(f"  {q['id']} {q['kind']:<9} {q['project']}{sets}: {q['question']}")
            print(f"      needles ({mode_word}): {json.dumps(q['needles'], ensure_ascii=False)}")
            bm25 = "bm25 answers it" if results["bm25"][q["id"]] else "bm25 misses it too"
            print(f"      missed by: {missed}; stored: {where}; {bm25}; {placed.get(q['id'], '')}")
    print(f"\nwall time: {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
