"""The live schema, on every backend, matches the migration report and behaves as it says."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from contextrecall import migrate
from contextrecall.db import get_engine, session_scope
from contextrecall.models import (
    ContextSnippet,
    ContextTag,
    ConversationContext,
    DecisionLog,
    Project,
    ProjectState,
    Session,
)
from tests.integration.schema_report import ADDED_UNIQUE, REPORT


def normalize_default(value: str | None) -> str | None:
    """Reflected defaults differ by dialect: '1' vs "'1.0'", current_timestamp() vs ..."""
    if value is None:
        return None
    text = str(value).strip().strip("'\"").lower()
    if text.endswith("()"):
        text = text[:-2]
    try:
        return repr(float(text))
    except ValueError:
        return text


def normalize_type(value: object) -> str:
    text = str(value).upper()
    return {"INTEGER(11)": "INTEGER", "INT": "INTEGER", "DOUBLE": "FLOAT"}.get(text, text)


@pytest.fixture
def inspector(backend):
    return inspect(get_engine(backend))


@pytest.mark.parametrize("table", sorted(REPORT))
def test_columns_match_report(inspector, table):
    live = {c["name"]: c for c in inspector.get_columns(table)}
    for name, (type_, nullable, default) in REPORT[table]["columns"].items():
        assert name in live, f"{table}.{name} missing"
        column = live[name]
        assert normalize_type(column["type"]) == type_, f"{table}.{name} type"
        assert bool(column["nullable"]) is nullable, f"{table}.{name} nullability"
        assert normalize_default(column.get("default")) == normalize_default(default), (
            f"{table}.{name} default {column.get('default')!r}"
        )


@pytest.mark.parametrize("table", sorted(REPORT))
def test_named_indexes_match_report(inspector, table):
    live = {i["name"]: i["column_names"] for i in inspector.get_indexes(table)}
    for name, columns in REPORT[table]["indexes"].items():
        assert live.get(name) == columns, f"index {name} on {table}"


@pytest.mark.parametrize("table", sorted(REPORT))
def test_foreign_keys_and_delete_rules_match_report(inspector, table):
    live = {
        tuple(fk["constrained_columns"]): (fk["referred_table"], fk["options"].get("ondelete"))
        for fk in inspector.get_foreign_keys(table)
    }
    expected = {(col,): rule for col, rule in REPORT[table]["foreign_keys"].items()}
    assert live == expected


@pytest.mark.parametrize("table", sorted(REPORT))
def test_unique_constraints_match_report(inspector, table):
    live = [u["column_names"] for u in inspector.get_unique_constraints(table)]
    live += [i["column_names"] for i in inspector.get_indexes(table) if i["unique"]]
    for columns in REPORT[table]["unique"]:
        assert columns in live, f"UNIQUE {columns} on {table}"
    allowed = REPORT[table]["unique"] + ADDED_UNIQUE.get(table, [])
    assert all(c in allowed for c in live), live


def test_tags_are_indexed_for_lookup(inspector):
    indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("context_tags")}
    assert indexes["idx_context_tags_project_tag"] == ["project_id", "tag"]
    assert indexes["idx_context_tags_tag"] == ["tag"]


def _project_with_memory(settings) -> dict[str, str]:
    with session_scope(settings) as db:
        project = Project(name="alpha", identity="name:alpha")
        db.add(project)
        db.flush()
        session = Session(external_id="s-1", project_id=project.id)
        db.add(session)
        db.flush()
        context = ConversationContext(
            project_id=project.id,
            session_id=session.id,
            context_type="session_summary",
            title="t",
        )
        snippet = ContextSnippet(
            project_id=project.id, category="command", title="t", dense_content="c"
        )
        decision = DecisionLog(
            project_id=project.id,
            session_id=session.id,
            decision_type="technical",
            decision_text="use MariaDB",
        )
        state = ProjectState(project_id=project.id)
        db.add_all([context, snippet, decision, state])
        db.flush()
        db.add(ContextTag(project_id=project.id, tag="python", snippet_id=snippet.id))
        return {
            "project": project.id,
            "context": context.id,
            "snippet": snippet.id,
            "decision": decision.id,
            "state": state.id,
            "session": session.id,
        }


def test_defaults_apply(backend):
    ids = _project_with_memory(backend)
    with session_scope(backend) as db:
        context = db.get(ConversationContext, ids["context"])
        snippet = db.get(ContextSnippet, ids["snippet"])
        decision = db.get(DecisionLog, ids["decision"])
        state = db.get(ProjectState, ids["state"])
        assert context.relevance_score == 1.0
        assert snippet.relevance_score == 1.0
        assert snippet.usage_count == 0
        assert decision.impact == "medium"
        assert state.progress_percentage == 0
        assert context.created_at is not None and context.updated_at is not None


def test_server_defaults_apply_to_raw_inserts(backend):
    """Rows written without the ORM (bulk SQL) get the same defaults from the database."""
    from sqlalchemy import insert

    ids = _project_with_memory(backend)
    with get_engine(backend).begin() as connection:
        connection.execute(
            insert(ContextSnippet.__table__).values(
                id="00000000-0000-0000-0000-000000000001",
                project_id=ids["project"],
                category="fact",
                title="raw",
                dense_content="raw",
            )
        )
        row = connection.execute(
            select(ContextSnippet.__table__).where(ContextSnippet.title == "raw")
        ).one()
    assert (row.relevance_score, row.usage_count) == (1.0, 0)
    assert row.created_at is not None


def test_deleting_project_cascades_state_and_nulls_memory(backend):
    ids = _project_with_memory(backend)
    with session_scope(backend) as db:
        db.delete(db.get(Project, ids["project"]))
    with session_scope(backend) as db:
        assert db.get(ProjectState, ids["state"]) is None
        assert db.get(ConversationContext, ids["context"]).project_id is None
        assert db.get(ContextSnippet, ids["snippet"]).project_id is None
        assert db.get(DecisionLog, ids["decision"]).project_id is None
        assert db.get(Session, ids["session"]).project_id is None
        assert db.scalars(select(ContextTag)).all() == []


def test_project_state_is_unique_per_project(backend):
    from sqlalchemy.exc import IntegrityError

    ids = _project_with_memory(backend)
    with pytest.raises(IntegrityError), session_scope(backend) as db:
        db.add(ProjectState(project_id=ids["project"]))


def test_deleting_session_nulls_its_references(backend):
    ids = _project_with_memory(backend)
    with session_scope(backend) as db:
        db.delete(db.get(Session, ids["session"]))
    with session_scope(backend) as db:
        assert db.get(ConversationContext, ids["context"]).session_id is None
        assert db.get(DecisionLog, ids["decision"]).session_id is None


def test_upgrade_and_downgrade_to_base(empty_backend):
    migrate.upgrade(empty_backend)
    assert migrate.current_revision(empty_backend) == migrate.head_revision()
    assert set(REPORT) <= set(inspect(get_engine(empty_backend)).get_table_names())
    assert migrate.check(empty_backend) is None
    migrate.downgrade(empty_backend, "base")
    assert migrate.current_revision(empty_backend) is None
    remaining = set(inspect(get_engine(empty_backend)).get_table_names()) - {"alembic_version"}
    assert remaining == set()
    migrate.upgrade(empty_backend)
    assert migrate.current_revision(empty_backend) == migrate.head_revision()
