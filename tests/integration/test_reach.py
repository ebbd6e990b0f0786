"""Search reaches all of a project's memory: a decision made 1,000 decisions ago, and a
session summarised 300 sessions ago, are found by their words, on each backend."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from contextrecall.db import session_scope
from contextrecall.generation import bump_generation
from contextrecall.models import ConversationContext, DecisionLog, Project, new_uuid
from contextrecall.recall import service
from tests.integration.memories import START, decisions_since_kafka


def test_an_old_decision_and_an_old_session_are_found_by_their_words(backend):
    with session_scope(backend) as db:
        project = Project(id=new_uuid(), name="ledger", identity="name:ledger")
        other = Project(id=new_uuid(), name="other", identity="name:other")
        db.add_all([project, other])
        db.flush()
        decisions = decisions_since_kafka(project.id, 1000)
        decisions.append(  # the same words in another project must not answer
            DecisionLog(
                id=new_uuid(),
                project_id=other.id,
                decision_type="technical",
                decision_text="Use Kafka for the audit stream of the other project",
                created_at=START,
            )
        )
        contexts = [
            ConversationContext(
                id=new_uuid(),
                project_id=project.id,
                context_type="session",
                title="Moved invoices to the zanzibar ledger format",
                dense_summary="Converted the invoices; the zanzibar format keeps cents exact.",
                updated_at=START,
            )
        ]
        contexts += [
            ConversationContext(
                id=new_uuid(),
                project_id=project.id,
                context_type="session",
                title=f"Session {n}",
                dense_summary=f"Tidied the report module report_{n}.",
                updated_at=START + timedelta(hours=n + 1),
            )
            for n in range(300)
        ]
        db.add_all(decisions + contexts)

    bump_generation(backend, "name:ledger")  # what a save does: any index built before is old
    found = service.search(backend, "ledger", "why kafka for the audit stream?", budget=300)
    assert "replay a month of audit events" in found["context"]
    assert "other project" not in found["context"]
    found = service.search(backend, "ledger", "which ledger format did the invoices move to?")
    assert "zanzibar" in found["context"]


def test_a_snippet_older_than_the_newest_20000_is_found_by_its_words(backend):
    from contextrecall.models import ContextSnippet
    from contextrecall.recall.answer import SNIPPET, UNQUERIED

    with session_scope(backend) as db:
        project = Project(id=new_uuid(), name="ledger", identity="name:ledger")
        db.add(project)
        db.flush()
        project_id = project.id
        rows = [
            {
                "id": new_uuid(),
                "project_id": project_id,
                "category": "command",
                "title": f"Run report {n}",
                "dense_content": f"$ make report-{n}\n-> exit 0",
                "content_hash": f"{n:064x}",
                "created_at": START + timedelta(minutes=n + 1),
                "updated_at": START + timedelta(minutes=n + 1),
            }
            for n in range(UNQUERIED[SNIPPET])
        ]
        db.execute(ContextSnippet.__table__.insert(), rows)
    # The oldest by its time, saved in a commit of its own, as a save is.
    with session_scope(backend) as db:
        db.execute(
            ContextSnippet.__table__.insert(),
            {
                "id": new_uuid(),
                "project_id": project_id,
                "category": "fix",
                "title": "Fix: the quarterly close",
                "dense_content": "Error: the quarterly close double-counted refunds\n"
                "Fixed by: ledger/close.py: net refunds before the totals",
                "content_hash": "f" * 64,
                "created_at": START,
                "updated_at": START,
            },
        )

        if not backend.is_embedded_database:
            # InnoDB ranks a full-text match by its table's row count as last measured: the
            # emptied table counted 0 until its statistics catch up (seconds later, in the
            # background), and a match ranked 0 is no match. Measured now, as they would
            # have been long since for memory that grew save by save.
            db.execute(text("ANALYZE TABLE context_snippets"))
    if not backend.is_embedded_database:
        _until_the_text_index_finds(backend, project_id, "quarter")

    bump_generation(backend, "name:ledger")  # what a save does: any index built before is old
    found = service.search(backend, "ledger", "why did the quarterly close double count?")
    assert "net refunds before the totals" in found["context"]


def _until_the_text_index_finds(backend, project_id: str, word: str) -> None:
    """Wait (at most 30 s) for InnoDB's full-text index to find a snippet holding ``word``.
    Right after 20,000 rows were deleted (the emptied tables) and 20,000 inserted, InnoDB
    merges them into the index in the background; memory that grew save by save was merged
    long since. Once found, the search must find it too: what is tested is the search."""
    import time

    from contextrecall.recall.answer import SNIPPET
    from contextrecall.recall.loading import DatabaseSource

    deadline = time.monotonic() + 30
    while True:
        with session_scope(backend) as db:
            if DatabaseSource(db, project_id)._matching_ids(SNIPPET, [word]):
                return
            assert time.monotonic() < deadline, "InnoDB's text index never found the row"
            db.execute(text("ANALYZE TABLE context_snippets"))
        time.sleep(0.2)
