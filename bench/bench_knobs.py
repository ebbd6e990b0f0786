"""Does each ranking knob earn its place on every project? Coding recall with each knob set to
its neutral value, one at a time, scored per project on the dev split only.

Each project is saved once, in process (as ``bench_coding_recall.py --in-process``); then the
questions are asked again for every variant, with the knob's module attribute patched. A knob
earns its place when turning it off costs some project questions and helps none; one that
changes nothing, or helps one project and costs another, is a candidate to remove.

    python bench/bench_knobs.py                       # all projects, every knob
    python bench/bench_knobs.py --project entire-cli  # one project
    python bench/bench_knobs.py --knob phrase          # one knob
"""

from __future__ import annotations

import argparse
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from unittest import mock

from bench_coding_recall import START_BUDGET, run_in_process, settings_for
from coding_recall import SESSION_START, answered, load_projects, load_questions

NEVER = 10**9
# knob -> the attributes that neutralise it (module, name, neutral value)
KNOBS: dict[str, list[tuple[str, str, Any]]] = {
    "phrase": [("contextrecall.recall.ranking", "PHRASE_WEIGHT", 0.0)],
    "tags": [("contextrecall.recall.ranking", "TAG_WEIGHT", 0.0)],
    "relevance": [("contextrecall.recall.ranking", "RELEVANCE_WEIGHT", 0.0)],
    "recency": [("contextrecall.recall.ranking", "RECENCY_WEIGHT", 0.0)],
    "use": [("contextrecall.recall.ranking", "USE_WEIGHT", 0.0)],
    "state-recency": [("contextrecall.recall.ranking", "STATE_RECENCY", 0.0)],
    "passages": [("contextrecall.recall.ranking", "PASSAGE_CHARS", NEVER)],
    "focus": [("contextrecall.recall.ranking", "FOCUS_CHARS", NEVER)],
    "duplicates": [("contextrecall.recall.ranking", "DUPLICATE_OVERLAP", 2.0)],
    "framing": [
        ("contextrecall.recall.ranking", "_FRAMING_STEMS", frozenset()),
        ("contextrecall.recall.ranking", "FRAMING_BEFORE_OF", frozenset()),
    ],
}


def ask(settings, projects, questions, budget: int) -> dict[str, bool]:
    """Each question answered? (the session-start set by the session-start block)"""
    from contextrecall.recall import service, session_start

    out = {}
    for project in projects:
        block = session_start.session_start_block(settings, project, START_BUDGET)
        for q in (q for q in questions if q["project"] == project):
            found = service.search(settings, project, q["question"].replace("\n", " "), budget)
            context = block if SESSION_START in q["sets"] and not q["core"] else found["context"]
            out[q["id"]] = answered(q, context)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--project", action="append", help="only this project (repeatable)")
    parser.add_argument("--knob", action="append", choices=sorted(KNOBS), help="only this knob")
    args = parser.parse_args()
    started = time.perf_counter()
    projects = {
        name: files
        for name, files in load_projects().items()
        if not args.project or name in args.project
    }
    questions = [q for q in load_questions() if q["project"] in projects and q["split"] == "dev"]
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        run_in_process(projects, questions, args.budget, folder, None)
        settings, _ = settings_for(folder, None)
        base = ask(settings, projects, questions, args.budget)
        width = max(len(p) for p in projects) + 2
        print(f"dev split, {args.budget} tokens; per project: answered, then the change per knob")
        print(f"{'knob off':<16}" + "".join(f"{p:>{width + 6}}" for p in projects))
        cells = []
        for project in projects:
            ids = [q["id"] for q in questions if q["project"] == project]
            cells.append(f"{sum(base[i] for i in ids)}/{len(ids)}")
        print(f"{'(none)':<16}" + "".join(f"{c:>{width + 6}}" for c in cells))
        for knob in args.knob or sorted(KNOBS):
            with ExitStack() as stack:
                for module, attribute, value in KNOBS[knob]:
                    stack.enter_context(mock.patch(f"{module}.{attribute}", value))
                got = ask(settings, projects, questions, args.budget)
            cells = []
            for project in projects:
                ids = [q["id"] for q in questions if q["project"] == project]
                lost = [i for i in ids if base[i] and not got[i]]
                won = [i for i in ids if got[i] and not base[i]]
                cells.append(f"-{len(lost)} +{len(won)}")
            print(f"{knob:<16}" + "".join(f"{c:>{width + 6}}" for c in cells))
    print(f"\nwall time: {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    main()
