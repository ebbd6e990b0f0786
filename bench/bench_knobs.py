"""Does each ranking knob earn its place on every project? Coding recall with each knob set to
its neutral value, one at a time, scored per project on the dev split only.

Each project is saved once, in process (as ``bench_coding_recall.py --in-process``); then the
dev split of its 60 questions is asked again for every variant, with the knob's module
attribute patched. A knob earns its place when turning it off costs some project questions and
helps none; one that changes nothing, or helps one project and costs another, is a candidate
to remove.

    python bench/bench_knobs.py                       # all projects, every knob
    python bench/bench_knobs.py --project entire-cli  # one project
    python bench/bench_knobs.py --knob phrase          # one knob
    python bench/bench_knobs.py --locomo               # LoCoMo dev instead, by category

``--locomo`` saves each LoCoMo dev conversation in process (``--format chat``, a session a
file) and scores evidence coverage as ``bench_locomo.py`` does.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from unittest import mock

from bench_coding_recall import run_in_process, save_file, settings_for
from coding_recall import answered, load_projects, load_questions

NEVER = 10**9
# knob -> the attributes that neutralise it (module, name, neutral value)
KNOBS: dict[str, list[tuple[str, str, Any]]] = {
    "relevance": [("contextrecall.recall.ranking", "RELEVANCE_WEIGHT", 0.0)],
    "state-recency": [("contextrecall.recall.ranking", "STATE_RECENCY", 0.0)],
    "resume": [("contextrecall.recall.answer", "asks_state", lambda query: False)],
    "focus": [("contextrecall.recall.ranking", "FOCUS_CHARS", NEVER)],
    "duplicates": [("contextrecall.recall.ranking", "DUPLICATE_OVERLAP", 2.0)],
    "neighbours": [("contextrecall.recall.ranking", "NEIGHBOUR_SHARES", ())],
    "speaker": [("contextrecall.recall.ranking", "NAMED_SPEAKER", 0.0)],
    "dates": [("contextrecall.recall.ranking", "DATE_WEIGHT", 0.0)],
    "turn-coverage": [("contextrecall.recall.ranking", "TURN_COVERAGE", 0.0)],
    "phrase": [("contextrecall.recall.ranking", "PHRASE_WEIGHT", 0.0)],
}


def ask(settings, projects, questions, budget: int) -> dict[str, bool]:
    """Each question answered by a search within ``budget`` tokens?"""
    from contextrecall.recall import service

    return {
        q["id"]: answered(
            q,
            service.search(settings, q["project"], q["question"].replace("\n", " "), budget)[
                "context"
            ],
        )
        for q in questions
    }


def save_locomo(folder: Path) -> dict[str, tuple[dict, list[dict]]]:
    """Each LoCoMo dev conversation saved in process as a project: name -> (turns, questions)."""
    import json

    from bench_locomo import CATEGORIES, DATA, turns_of
    from locomo import session_files

    from contextrecall.crypto import KeyRing, generate_key
    from contextrecall.identity import named_project
    from contextrecall.migrate import upgrade

    settings, _ = settings_for(folder, None)
    upgrade(settings)
    ring = KeyRing(generate_key())
    saved = {}
    for conversation in json.loads(DATA.read_text()):
        project = f"locomo-{conversation['sample_id']}"
        ref = named_project(project).to_dict()
        for path in session_files(conversation, folder / project):
            save_file(settings, ring, ref, str(path), path.stem, "chat")
        questions = [q for q in conversation["qa"] if q["category"] in CATEGORIES]
        saved[project] = (turns_of(conversation), questions)
    return saved


def ask_locomo(settings, saved, budget: int) -> dict[tuple[str, int], bool]:
    """Each question's evidence covered? keyed (project, number); category in the value's
    key order of ``saved``."""
    from bench_locomo import content_words, covered

    from contextrecall.recall import service

    out = {}
    for project, (turns, questions) in saved.items():
        for n, q in enumerate(questions):
            evidence = [turns[e][1] for e in q["evidence"] if e in turns]
            if not evidence:
                continue
            found = service.search(settings, project, q["question"].replace("\n", " "), budget)
            words = content_words(found["context"])
            out[project, n] = all(covered(t, words) for t in evidence)
    return out


def main_locomo(args) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        saved = save_locomo(folder)
        settings, _ = settings_for(folder, None)
        category = {(p, n): q["category"] for p, (_, qs) in saved.items() for n, q in enumerate(qs)}
        base = ask_locomo(settings, saved, args.budget)
        cats = sorted({category[k] for k in base})
        print(f"LoCoMo dev, {args.budget} tokens; by category: covered, then the change per knob")
        print(f"{'knob off':<16}" + "".join(f"{f'cat {c}':>14}" for c in cats) + f"{'all':>14}")
        print(
            f"{'(none)':<16}"
            + "".join(f"{sum(v for k, v in base.items() if category[k] == c):>14}" for c in cats)
            + f"{sum(base.values()):>14}"
        )
        for knob in args.knob or sorted(KNOBS):
            with ExitStack() as stack:
                for module, attribute, value in KNOBS[knob]:
                    stack.enter_context(mock.patch(f"{module}.{attribute}", value))
                got = ask_locomo(settings, saved, args.budget)
            cells = []
            for c in [*cats, None]:
                keys = [k for k in base if c is None or category[k] == c]
                lost = sum(1 for k in keys if base[k] and not got[k])
                won = sum(1 for k in keys if got[k] and not base[k])
                cells.append(f"-{lost} +{won}")
            print(f"{knob:<16}" + "".join(f"{c:>14}" for c in cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", type=int, default=1000)
    parser.add_argument("--project", action="append", help="only this project (repeatable)")
    parser.add_argument("--knob", action="append", choices=sorted(KNOBS), help="only this knob")
    parser.add_argument("--locomo", action="store_true", help="LoCoMo dev instead")
    args = parser.parse_args()
    started = time.perf_counter()
    if args.locomo:
        main_locomo(args)
        print(f"\nwall time: {time.perf_counter() - started:.0f}s")
        return
    projects = {
        name: files
        for name, files in load_projects().items()
        if not args.project or name in args.project
    }
    questions = [
        q
        for q in load_questions()
        if q["project"] in projects and q["core"] and q["split"] == "dev"
    ]
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
