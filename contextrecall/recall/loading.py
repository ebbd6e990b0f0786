"""Reading a project's memory out of the database as rankable items (one project only)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select, text, tuple_
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session as DBSession

from contextrecall.dialect import is_mariadb
from contextrecall.models import (
    ContextSnippet,
    ConversationContext,
    DecisionLog,
    Project,
    ProjectState,
    Session,
    TermCount,
)
from contextrecall.recall.ranking import NEIGHBOUR_REACH, Item, query_terms, rare_terms, turn_key
from contextrecall.terms import TOTAL_TERM, terms

MAX_CONTEXTS = 200
MAX_DECISIONS = 500
MAX_SNIPPETS = 20_000  # scanned in full when the database has no text index
FULLTEXT_CANDIDATES = 200  # at least; more for a budget that holds more (5 tokens an item)
MAX_FULLTEXT_CANDIDATES = 2000
MATCHED_ROWS = 200  # older decisions or session summaries found by their words, at most
TEXT_POSTINGS = 3000  # index matches a search may cost (about 5 microseconds each)


def _json(value: str | None, default: Any) -> Any:
    try:
        return json.loads(value) if value else default
    except ValueError:
        return default


def find_project(db: DBSession, name: str) -> Project | None:
    """A project by the name a user types (or its identity)."""
    return db.scalars(
        select(Project).where((Project.name == name) | (Project.identity == name))
    ).first()


def context_items(
    db: DBSession,
    project_id: str,
    limit: int = MAX_CONTEXTS,
    query: str | None = None,
    frequencies: dict[str, int] | None = None,
) -> list[Item]:
    """The project's latest ``limit`` session summaries, and any older ones with the query's
    words (all of them are reachable: a text index finds them)."""
    statement = select(ConversationContext, Session.external_id).outerjoin(
        Session, Session.id == ConversationContext.session_id
    )
    rows = db.execute(
        statement.where(ConversationContext.project_id == project_id)
        .order_by(ConversationContext.updated_at.desc())
        .limit(limit)
    ).all()
    found = _found_by_words(db, ConversationContext, project_id, query, frequencies)
    have = {context.id for context, _ in rows}
    if found - have:
        rows += db.execute(statement.where(ConversationContext.id.in_(found - have))).all()
    return [
        Item(
            "session",
            context.id,
            context.dense_summary or "",
            title=context.title,
            tags=_json(context.tags, []),
            relevance=context.relevance_score,
            created_at=context.updated_at,
            session=external_id,
        )
        for context, external_id in rows
    ]


def decision_items(
    db: DBSession,
    project_id: str,
    limit: int = MAX_DECISIONS,
    query: str | None = None,
    frequencies: dict[str, int] | None = None,
) -> list[Item]:
    """The project's latest ``limit`` decisions, and any older ones with the query's words."""
    rows = list(
        db.scalars(
            select(DecisionLog)
            .where(DecisionLog.project_id == project_id)
            .order_by(DecisionLog.created_at.desc())
            .limit(limit)
        )
    )
    found = _found_by_words(db, DecisionLog, project_id, query, frequencies)
    have = {row.id for row in rows}
    if found - have:
        rows += db.scalars(select(DecisionLog).where(DecisionLog.id.in_(found - have)))
    items = []
    for row in rows:
        body = row.decision_text
        if row.rationale and row.rationale not in body:
            body += f" (because {row.rationale})"
        items.append(
            Item(
                "decision",
                row.id,
                body,
                title="Decision",
                tags=_json(row.tags, []),
                created_at=row.created_at,
                relevance=1.0,
            )
        )
    return items


def _snippet_item(row: ContextSnippet) -> Item:
    extra = _json(row.structured_data, {})
    return Item(
        "fact" if row.category == "fact" else "snippet",
        row.id,
        row.dense_content,
        title=row.title,
        tags=_json(row.tags, []),
        relevance=row.relevance_score,
        usage=row.usage_count,
        created_at=row.updated_at,
        speaker=extra.get("speaker"),
        when=extra.get("occurred_at"),
        session=extra.get("session"),
        part=extra.get("part"),
        position=extra.get("position"),
    )


def uses_text_index(db: DBSession) -> bool:
    """Whether snippet candidates come from a text index (FULLTEXT on MariaDB, FTS5 on
    SQLite) rather than a scan."""
    return is_mariadb(db) or db.get_bind().dialect.name == "sqlite"


def term_frequencies(db: DBSession, project_id: str, query: str) -> dict[str, int]:
    """Document counts of the query's terms in the project, and their total under
    ``TOTAL_TERM``: one primary-key lookup."""
    wanted = [TOTAL_TERM, *dict.fromkeys(t for t in terms(query) if 3 <= len(t) <= 64)]
    rows = db.execute(
        select(TermCount.term, TermCount.documents).where(
            TermCount.project_id == project_id, TermCount.term.in_(wanted)
        )
    ).all()
    return {term: documents for term, documents in rows}


def _prefixes(term: str) -> str:
    """A stem as boolean-mode prefixes: InnoDB does not stem, so "deploy*" is what finds
    "deploys" and "deployed". A Snowball stem is a prefix of its words but for two endings:
    "citi" (from "city") also needs "city*", and "stage" (from "staging") "stag*"."""
    if term.endswith("i"):
        return f"{term}* {term[:-1]}y*"
    if term.endswith("e") and len(term) > 3:
        return f"{term}* {term[:-1]}*"
    return f"{term}*"


# The text indexes: a FULLTEXT index on MariaDB, an FTS5 table of the same name on SQLite
# (migrations 0003, 0008, 0009). Snippets are found by theirs; decisions and session
# summaries by theirs besides their latest rows.
SNIPPET_INDEX = "ft_context_snippets_text"
WORD_INDEXES: dict[type, tuple[str, tuple[str, ...]]] = {
    DecisionLog: (
        "ft_decision_logs_text",
        ("decision_text", "rationale", "alternatives_considered"),
    ),
    ConversationContext: ("ft_conversation_contexts_text", ("title", "dense_summary")),
}


def index_words(query: str | None, frequencies: dict[str, int] | None) -> list[str]:
    """The query's words a text index is asked for: its rarer plain words (by
    ``frequencies``), as whole identifiers rank but the index splits at punctuation."""
    candidates = [
        term for term in dict.fromkeys(query_terms(query)) if len(term) >= 3 and term.isalnum()
    ]
    return rare_terms(candidates, frequencies or {}, TEXT_POSTINGS) if candidates else []


def _found_by_words(
    db: DBSession,
    model: type,
    project_id: str,
    query: str | None,
    frequencies: dict[str, int] | None,
) -> set[str]:
    """Ids of up to ``MATCHED_ROWS`` rows of ``model`` in the project with the query's words,
    best first, from the table's text index."""
    words = index_words(query, frequencies)
    if not words:
        return set()
    index, columns = WORD_INDEXES[model]
    if is_mariadb(db):
        from sqlalchemy.dialects.mysql import match

        relevance = match(
            *(getattr(model, c) for c in columns), against=" ".join(map(_prefixes, words))
        ).in_boolean_mode()
        return set(
            db.scalars(
                select(model.id)
                .where(model.project_id == project_id, relevance > 0)
                .order_by(relevance.desc())
                .limit(MATCHED_ROWS)
            )
        )
    return set(_fts5_ids(db, model.__tablename__, index, project_id, words, MATCHED_ROWS) or ())


def _fts5_ids(
    db: DBSession, table: str, index: str, project_id: str, words: list[str], limit: int
) -> list[str] | None:
    """On SQLite, ids of up to ``limit`` rows of ``table`` in the project with any of
    ``words`` (as prefixes), best first by the FTS5 table ``index``; None elsewhere, or when
    the database has no such table yet (not migrated)."""
    if db.get_bind().dialect.name != "sqlite":
        return None
    wanted = " OR ".join(prefix for word in words for prefix in _prefixes(word).split())
    try:
        found = db.execute(
            text(  # the table and index names are constants of this module
                f"SELECT t.id FROM {table} t JOIN {index} f ON f.rowid = t.rowid "
                f"WHERE {index} MATCH :wanted AND t.project_id = :project "
                "ORDER BY f.rank LIMIT :n"
            ),
            {"wanted": wanted, "project": project_id, "n": limit},
        )
        return list(found.scalars())
    except OperationalError:
        return None


def snippet_items(
    db: DBSession,
    project_id: str,
    query: str | None,
    frequencies: dict[str, int] | None = None,
    budget: int = 0,
) -> list[Item]:
    """The project's snippets worth ranking for ``query``.

    A text index picks the candidates (FULLTEXT on MariaDB, FTS5 on SQLite), matching only
    the query's rarer words (by ``frequencies``, from ``term_frequencies``): InnoDB scores
    every row a word matches, so a common word would cost tens of milliseconds in a project
    of 100,000 snippets. Without a query (or an index) the newest snippets are read.
    """
    statement = select(ContextSnippet).where(ContextSnippet.project_id == project_id)
    wanted = min(max(FULLTEXT_CANDIDATES, budget // 5), MAX_FULLTEXT_CANDIDATES)
    # Whole identifiers (``ash_sqlite``, paths) rank, but the index is asked only for plain
    # words: its parser splits at punctuation (and MariaDB's reads a "-" as "without").
    plain = index_words(query, frequencies) if query and uses_text_index(db) else []
    if query and uses_text_index(db) and not plain:
        return []
    if plain and is_mariadb(db):
        from sqlalchemy.dialects.mysql import match

        words = " ".join(_prefixes(term) for term in plain)
        relevance = match(
            ContextSnippet.title, ContextSnippet.dense_content, against=words
        ).in_boolean_mode()
        statement = statement.where(relevance > 0).order_by(relevance.desc()).limit(wanted)
        return [_snippet_item(row) for row in db.scalars(statement)]
    ids = _fts5_ids(db, "context_snippets", SNIPPET_INDEX, project_id, plain, wanted)
    if plain and ids is not None:
        rows = {row.id: row for row in db.scalars(statement.where(ContextSnippet.id.in_(ids)))}
        return [_snippet_item(rows[i]) for i in ids if i in rows]
    statement = statement.order_by(ContextSnippet.updated_at.desc()).limit(MAX_SNIPPETS)
    return [_snippet_item(row) for row in db.scalars(statement)]


def turn_neighbours(
    db: DBSession, project_id: str, items: list[Item], reach: int = NEIGHBOUR_REACH
) -> list[Item]:
    """The chat turns up to ``reach`` places around the turns among ``items`` that are not
    among them already: ranking reads a turn with its neighbours, and an answer that shares
    no word with the query is found through the question before it."""
    have = {key for item in items if (key := turn_key(item)) is not None}
    wanted = {
        (session, part, position + offset)
        for session, part, position in have
        for offset in range(-reach, reach + 1)
        if offset and position + offset >= 0
    } - have
    if not wanted:
        return []
    found = []
    keys = sorted(wanted, key=lambda key: (str(key[0]), key[1] or 0, key[2]))
    for start in range(0, len(keys), 500):
        rows = db.scalars(
            select(ContextSnippet).where(
                ContextSnippet.project_id == project_id,
                tuple_(
                    ContextSnippet.turn_session,
                    ContextSnippet.turn_part,
                    ContextSnippet.turn_position,
                ).in_(keys[start : start + 500]),
            )
        )
        found += [_snippet_item(row) for row in rows]
    return found


def latest_session(db: DBSession, project_id: str) -> dict[str, Any] | None:
    """Where the project's latest session left off: its title, time and recorded state
    (branch, commits, commands and their outcomes, last request, state summary)."""
    row = db.scalars(
        select(ConversationContext)
        .where(ConversationContext.project_id == project_id)
        .order_by(ConversationContext.updated_at.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return {"title": row.title, "at": row.updated_at, **_json(row.current_state, {})}


def latest_snippets(
    db: DBSession, project_id: str, category: str, limit: int, starting: str = ""
) -> list[Item]:
    """The project's newest snippets of ``category`` (whose text starts with ``starting``)."""
    statement = select(ContextSnippet).where(
        ContextSnippet.project_id == project_id, ContextSnippet.category == category
    )
    if starting:
        statement = statement.where(ContextSnippet.dense_content.startswith(starting))
    statement = statement.order_by(ContextSnippet.updated_at.desc()).limit(limit)
    return [_snippet_item(row) for row in db.scalars(statement)]


def project_state(db: DBSession, project_id: str) -> dict[str, Any] | None:
    state = db.scalars(select(ProjectState).where(ProjectState.project_id == project_id)).first()
    if state is None:
        return None
    return {
        "phase": state.current_phase,
        "progress": state.progress_percentage,
        "blockers": _json(state.blockers, []),
        "next_actions": _json(state.next_actions, []),
        "key_files": _json(state.key_files, []),
        "decisions": _json(state.important_decisions, []),
        "summary": state.context_summary,
        "updated_at": state.updated_at,
    }
