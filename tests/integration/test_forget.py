"""Forget and pin, on both backends with their recall index and cache: a forgotten memory is
gone from the database, the index, the cached reads and the stored deltas, and neither a
re-save of its session nor a rebuild of the index brings it back; a pinned one keeps its
relevance through decay and cleanup and comes first in the session start."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from contextrecall.client.deltas import Delta
from contextrecall.crypto import associated_data, load_key_ring
from contextrecall.curation import forgetting
from contextrecall.db import session_scope
from contextrecall.jobs import build_job
from contextrecall.maintenance.cleanup import cleanup
from contextrecall.maintenance.decay import decay, utc_now
from contextrecall.models import (
    ContextSnippet,
    ConversationContext,
    DecisionLog,
    ForgottenMemory,
    SavedDelta,
    Session,
)
from contextrecall.recall import service, session_start
from contextrecall.recall.index import keeper
from contextrecall.store import memory_rows
from contextrecall.store.receipts import held
from tests.integration.memories import save_in_process

PROJECT = {"name": "ledger", "identity": "name:ledger"}
OTHER = {"name": "atlas", "identity": "name:atlas"}
WRONG = "the flaky checkout test fails because the Stripe sandbox drifts its clock"
KEEP = "Use PostgreSQL advisory locks for the nightly ledger close"


def turn(n: int, prompt: str, answer: str, command: str = "", output: str = "") -> list[dict]:
    """One Claude Code 2.x turn: a prompt, a Bash call and its output, an answer."""
    at = f"2026-11-20T10:{n:02d}:00Z"
    lines: list[dict] = [
        {
            "type": "user",
            "uuid": f"u{n}",
            "timestamp": at,
            "gitBranch": "main",
            "message": {"role": "user", "content": prompt},
        },
    ]
    if command:
        lines += [
            {
                "type": "assistant",
                "uuid": f"t{n}",
                "timestamp": at,
                "message": {
                    "id": f"m{n}",
                    "role": "assistant",
                    "content": [
                        {
                            "type": "tool_use",
                            "id": f"tool{n}",
                            "name": "Bash",
                            "input": {"command": command},
                        }
                    ],
                },
            },
            {
                "type": "user",
                "uuid": f"r{n}",
                "timestamp": at,
                "message": {
                    "role": "user",
                    "content": [
                        {
                            "tool_use_id": f"tool{n}",
                            "type": "tool_result",
                            "content": output,
                            "is_error": False,
                        }
                    ],
                },
            },
        ]
    lines.append(
        {
            "type": "assistant",
            "uuid": f"a{n}",
            "timestamp": at,
            "message": {
                "id": f"n{n}",
                "role": "assistant",
                "content": [{"type": "text", "text": answer}],
            },
        }
    )
    return lines


def text_of(lines: list[dict]) -> bytes:
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


SESSION_A = turn(
    1,
    "Why does the checkout test flake?",
    f"My hypothesis: {WRONG}. I'll pin the sandbox clock in the fixture.",
    "pytest tests/test_checkout.py -k flaky",
    f"FAILED test_checkout: {WRONG}",
) + turn(
    2,
    "How should the nightly close avoid double runs?",
    f"I decided to {KEEP[0].lower() + KEEP[1:]} because two workers may start it.",
)
SESSION_B = turn(3, "Rename the ledger export job", "Renamed it to export_ledger_nightly.")


def deltas_text(settings) -> bytes:
    ring = load_key_ring(settings)
    with session_scope(settings) as db:
        rows = list(db.scalars(select(SavedDelta)))
        return b"".join(
            ring.decrypt(r.payload, associated_data(r.project_id, r.session_id, "delta"))
            for r in rows
        )


def found_ids(settings, query: str) -> set[str]:
    return {item["id"] for item in service.search(settings, PROJECT["name"], query)["items"]}


def everything_text(settings, query: str) -> str:
    """What every read path shows for ``query``: a search, the prompt block, session start."""
    return "\n".join(
        [
            service.search(settings, PROJECT["name"], query)["context"],
            service.prompt_block(settings, PROJECT["name"], query),
            session_start.session_start_block(settings, PROJECT["name"]),
        ]
    )


def with_the_wrong_hypothesis(settings) -> list[str]:
    """The ids of the memories that hold it."""
    found = []
    with session_scope(settings) as db:
        for model, column in (
            (ContextSnippet, ContextSnippet.dense_content),
            (DecisionLog, DecisionLog.decision_text),
        ):
            found += db.scalars(select(model.id).where(column.contains("Stripe sandbox")))
    return found


def test_a_forgotten_memory_is_gone_everywhere_and_stays_gone(kept):
    text = text_of(SESSION_A)
    save_in_process(kept, PROJECT, "sa", text)
    save_in_process(kept, PROJECT, "sb", text_of(SESSION_B))
    assert WRONG in everything_text(kept, "why does the checkout test flake stripe sandbox")
    doomed = with_the_wrong_hypothesis(kept)
    assert doomed
    assert found_ids(kept, "stripe sandbox clock") & set(doomed)  # cached now, on MariaDB

    with session_scope(kept) as db:
        times = dict(db.execute(select(ContextSnippet.id, ContextSnippet.updated_at)).all())
    report = forgetting.forget_ids(kept, doomed)
    assert report["not_found"] == []
    with session_scope(kept) as db:  # what was rewritten keeps its time (decay reads it)
        after = dict(db.execute(select(ContextSnippet.id, ContextSnippet.updated_at)).all())
    assert after and all(times[i] == when for i, when in after.items())
    assert report["removed"]["snippets"] + report["removed"]["decisions"] == len(doomed)
    assert report["removed"]["deltas_rewritten"] >= 1

    assert with_the_wrong_hypothesis(kept) == []  # the database
    assert WRONG.encode() not in deltas_text(kept)  # the stored deltas
    assert b"Stripe sandbox" not in deltas_text(kept)
    assert KEEP.split()[-1].encode() in deltas_text(kept)  # the rest of them is kept
    shown = everything_text(kept, "why does the checkout test flake stripe sandbox")
    assert "Stripe sandbox" not in shown  # index, cache and session start
    with session_scope(kept) as db:  # the session's summary was written again without it
        summaries = list(db.scalars(select(ConversationContext.dense_summary)))
    assert not any("Stripe sandbox" in (s or "") for s in summaries)
    assert KEEP.split()[1] in everything_text(kept, "how does the nightly close avoid double runs")

    # the same transcript saved again from the start (a re-read, a re-sent job) and a rebuild
    save_in_process(kept, PROJECT, "sa", text + text_of(turn(4, "Thanks", "Done.")))
    with session_scope(kept) as db:
        project = db.scalars(select(Session.project_id)).first()
    assert project
    keeper.rebuild_projects(kept, PROJECT["name"])
    assert with_the_wrong_hypothesis(kept) == []
    assert b"Stripe sandbox" not in deltas_text(kept)
    assert "Stripe sandbox" not in everything_text(kept, "stripe sandbox clock flaky checkout")


def test_a_forget_waits_for_a_save_under_way_so_the_save_cannot_bring_it_back(
    kept, monkeypatch: pytest.MonkeyPatch
):
    """A save reads the tombstones, then the stored deltas, then stores what they lack. A
    forget committing between the two would leave the save blind to both (the lines gone
    from the deltas, no tombstone read): the re-sent lines would be stored again. The forget
    waits for the save instead, then takes what it stored too."""
    first = text_of(SESSION_A)
    save_in_process(kept, PROJECT, "sa", first)
    doomed = with_the_wrong_hypothesis(kept)
    assert doomed
    read_tombstones, go_on = threading.Event(), threading.Event()
    original = memory_rows.session_deltas

    def held_up(*args, **kwargs):
        if threading.current_thread() is saver:
            read_tombstones.set()
            assert go_on.wait(30)
        return original(*args, **kwargs)

    monkeypatch.setattr(memory_rows, "session_deltas", held_up)
    failures: list[BaseException] = []

    def run(target, *args) -> None:
        try:
            target(*args)
        except BaseException as exc:  # seen by the test, not lost in the thread
            failures.append(exc)

    # the same session sent again from its start (a re-read transcript), one turn longer
    again = first + text_of(turn(4, "Thanks", "Done."))
    saver = threading.Thread(target=run, args=(save_in_process, kept, PROJECT, "sa", again))
    saver.start()
    assert read_tombstones.wait(30)
    forgetter = threading.Thread(target=run, args=(forgetting.forget_ids, kept, doomed))
    forgetter.start()
    forgetter.join(1.0)
    waited = forgetter.is_alive()
    go_on.set()
    saver.join(30)
    forgetter.join(60)
    assert not failures
    assert waited  # the forget waited for the save's commit
    assert with_the_wrong_hypothesis(kept) == []
    assert b"Stripe sandbox" not in deltas_text(kept)
    assert "Stripe sandbox" not in everything_text(kept, "stripe sandbox clock flaky checkout")
    assert b"Done." in deltas_text(kept)  # the save itself was kept


def test_forgetting_a_session_removes_all_it_stored_and_its_later_saves(kept):
    save_in_process(kept, PROJECT, "sa", text_of(SESSION_A))
    save_in_process(kept, PROJECT, "sb", text_of(SESSION_B))
    save_in_process(kept, OTHER, "sa", text_of(SESSION_A))  # the same id in another project
    report = forgetting.forget_session(kept, "sa", forgetting.Scope(PROJECT["name"]))
    assert report["removed"]["sessions"] == 1
    assert report["removed"]["deltas_removed"] == 1
    with session_scope(kept) as db:
        sessions = {(s.external_id, s.project_id) for s in db.scalars(select(Session))}
        left = list(db.scalars(select(ContextSnippet.dense_content)))
        marks = list(db.scalars(select(ForgottenMemory.kind)))
    assert len(sessions) == 2 and "sa" in {s for s, _ in sessions}  # the other project's
    assert marks == ["session"]
    assert "renamed" in " ".join(left).lower()
    assert "Stripe sandbox" not in everything_text(kept, "stripe sandbox flaky checkout")
    assert "ledger close" not in everything_text(kept, "nightly ledger close advisory locks")
    other = service.search(kept, OTHER["name"], "stripe sandbox flaky checkout")
    assert "Stripe sandbox" in other["context"]  # another project's memory is its own

    # the agent goes on in that session: nothing of it is stored again
    more = text_of(SESSION_A + turn(5, "Add a retry to the export", "Added a retry."))
    assert save_in_process(kept, PROJECT, "sa", more) == {}
    with session_scope(kept) as db:
        again = db.scalars(
            select(Session).where(Session.external_id == "sa", Session.project_id.isnot(None))
        ).all()
    assert len(again) == 1  # only the other project's
    assert "retry" not in everything_text(kept, "add a retry to the export")

    # and the job that carried it counts as done: the hook's sent copy may go
    def job(project: dict, session: str) -> dict:
        return build_job(
            project=project,
            machine=None,
            session_external_id=session,
            source_format="claude",
            delta=Delta(0, len(more), more),
            event="Stop",
        )

    job, other = job(PROJECT, "sa"), job(OTHER, "sz")
    assert held(kept, [job, other]) == {job["job_id"]}


def test_forget_by_search_previews_then_takes_what_the_search_found(kept):
    save_in_process(kept, PROJECT, "sa", text_of(SESSION_A))
    preview = forgetting.matches(kept, PROJECT["name"], "stripe sandbox clock", limit=3)
    assert 1 <= len(preview) <= 3
    assert any("Stripe sandbox" in m["text"] for m in preview)
    before = found_ids(kept, "stripe sandbox clock")
    report = forgetting.forget_matches(kept, PROJECT["name"], "stripe sandbox clock", limit=3)
    assert {m["id"] for m in report["forgotten"]} == {m["id"] for m in preview}
    assert not found_ids(kept, "stripe sandbox clock") & before


def test_ids_of_another_project_are_not_forgotten_through_a_scope(kept):
    save_in_process(kept, OTHER, "sa", text_of(SESSION_A))
    theirs = with_the_wrong_hypothesis(kept)
    save_in_process(kept, PROJECT, "sb", text_of(SESSION_B))
    report = forgetting.forget_ids(kept, theirs, forgetting.Scope(PROJECT["name"]))
    assert report["forgotten"] == [] and sorted(report["not_found"]) == sorted(theirs)
    assert sorted(with_the_wrong_hypothesis(kept)) == sorted(theirs)


def test_a_pinned_memory_keeps_its_relevance_and_opens_the_session_start(kept):
    save_in_process(kept, PROJECT, "sa", text_of(SESSION_A))
    with session_scope(kept) as db:
        command = db.scalars(
            select(ContextSnippet).where(ContextSnippet.category == "command")
        ).first()
        assert command is not None
        chosen, body = command.id, command.dense_content
    forgetting.pin_ids(kept, [chosen])
    block = session_start.session_start_block(kept, PROJECT["name"])
    assert block.splitlines()[1] == "## Pinned"
    assert body.splitlines()[0] in block.split("##")[1]
    # a year on: decay lowers the rest, cleanup removes what fell below the bar, not the pin
    later = utc_now() + timedelta(days=400)
    decay(kept, later)
    cleanup(kept.with_overrides(retention_days=30, retention_min_relevance=0.5), later)
    with session_scope(kept) as db:
        pinned = db.get(ContextSnippet, chosen)
        others = list(db.scalars(select(ContextSnippet).where(ContextSnippet.id != chosen)))
    assert pinned is not None and pinned.relevance_score == 1.0 and pinned.pinned
    assert all(o.relevance_score < 1.0 for o in others)
    forgetting.pin_ids(kept, [chosen], pinned=False)
    assert "## Pinned" not in session_start.session_start_block(kept, PROJECT["name"])


def test_a_memory_that_quoted_a_forgotten_one_is_rewritten_and_keeps_its_time(kept):
    save_in_process(kept, PROJECT, "sa", text_of(SESSION_A))
    with session_scope(kept) as db:
        decision = db.scalars(select(DecisionLog)).one()
        quoting = db.scalars(
            select(ContextSnippet).where(ContextSnippet.dense_content.contains("advisory locks"))
        ).all()
    assert quoting  # the exchange holds the answer that made the decision
    report = forgetting.forget_ids(kept, [decision.id])
    assert report["removed"]["copies_rewritten"] >= len(quoting)
    with session_scope(kept) as db:
        for before in quoting:
            after = db.get(ContextSnippet, before.id)
            assert after is not None and after.updated_at == before.updated_at
            assert "advisory locks" not in after.dense_content
            assert "[forgotten]" in after.dense_content
