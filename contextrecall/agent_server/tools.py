"""What the `recall mcp` tools do, for one project, without the MCP SDK.

Every tool is scoped to the project the server was started for (the repository of its
working directory, resolved like the hook does, or an explicit ``--project``): nothing here
takes a project from the caller, so a server never reads or writes another project's memory.
Bad input raises ``ValueError`` with a message written for the model that called the tool.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

from contextrecall.client.notes import Note, Notebook, make_note
from contextrecall.identity import ProjectRef, named_project, project_for_directory
from contextrecall.settings import Settings

EMPTY_STATE: dict[str, Any] = {
    "phase": None,
    "progress": 0,
    "blockers": [],
    "next_actions": [],
    "key_files": [],
    "decisions": [],
    "summary": None,
    "updated_at": None,
}


class ProjectMemory:
    """The memory tools of one project: search, get, save, forget and project state."""

    def __init__(self, settings: Settings, ref: ProjectRef, named: bool = False) -> None:
        self.settings, self.ref = settings, ref
        # What find_project matches: the name a user typed, else the exact identity.
        self.lookup = ref.name if named else ref.identity
        self.notebook = Notebook(settings, ref.name if named else None)

    @classmethod
    def for_server(
        cls, settings: Settings, project: str | None = None, cwd: str | None = None
    ) -> ProjectMemory:
        """The project named ``project``, else the one of ``cwd`` (default: this directory)."""
        if project is not None:
            return cls(settings, named_project(project), named=True)
        return cls(settings, project_for_directory(cwd or os.getcwd()))

    @property
    def name(self) -> str:
        return self.ref.name

    def _project_id(self, db: Any) -> str | None:
        from contextrecall.recall.loading import find_project

        row = find_project(db, self.lookup)
        return row.id if row is not None else None

    def search(self, query: str | None, limit: int | None, budget: int) -> dict[str, Any]:
        """Ranked, budgeted recall: ``recall search --json`` for this project."""
        from contextrecall.recall.service import search

        result = search(self.settings, self.lookup, query or None, budget=budget, limit=limit)
        return {**result, "project": self.name}

    def get(self, ids: list[str]) -> dict[str, Any]:
        """The full items behind ``ids`` (as a search listed them); unknown ids are listed."""
        from contextrecall.db import session_scope
        from contextrecall.recall.details import MAX_IDS, memory_details

        wanted = list(dict.fromkeys(i.strip() for i in ids if isinstance(i, str) and i.strip()))
        if not wanted:
            raise ValueError("ids is empty: pass the ids that search_memory returned")
        if len(wanted) > MAX_IDS:
            raise ValueError(f"at most {MAX_IDS} ids at a time")
        with session_scope(self.settings) as db:
            project_id = self._project_id(db)
            items = memory_details(db, project_id, wanted) if project_id else []
        found = {item["id"] for item in items}
        used = [i["id"] for i in items if i["kind"] in {"fact", "snippet"}]
        if used:
            from contextrecall.recall.service import record_usage

            record_usage(self.settings, used)
        return {
            "project": self.name,
            "items": items,
            "not_found": [i for i in wanted if i not in found],
        }

    def save(self, text: str, kind: str = "note", tags: list[str] | None = None) -> dict[str, Any]:
        """Queue a memory saved by hand; the worker stores it like a hook's save."""
        note: Note = make_note(text, kind, tags)
        saved = self.notebook.save(note)
        return {
            "project": self.name,
            "kind": note.kind,
            "tags": note.tags,
            "status": "queued" if saved.queued else "spooled",
            "job_ids": saved.job_ids,
            "session": saved.session,
            "redacted": sorted(note.redacted),
        }

    def forget(self, ids: list[str] | None, query: str | None, confirm: bool) -> dict[str, Any]:
        """Forget memories of this project by id or what a search finds; without
        ``confirm``, only what would be forgotten (a preview to show the user first)."""
        from contextrecall.curation import forgetting

        scope = forgetting.Scope(self.lookup)
        wanted = [i for i in ids or [] if isinstance(i, str) and i.strip()]
        if bool(wanted) == bool(query and query.strip()):
            raise ValueError("pass either ids (from search_memory) or a query, not both")
        if query:
            found = forgetting.matches(self.settings, self.lookup, query)
            if not confirm:
                return {"project": self.name, "confirmed": False, "would_forget": found}
            report = forgetting.forget_matches(self.settings, self.lookup, query)
        else:
            with_ids = self.get(wanted)
            if not confirm:
                return {
                    "project": self.name,
                    "confirmed": False,
                    "would_forget": [
                        {"kind": i["kind"], "id": i["id"], "text": i["text"]}
                        for i in with_ids["items"]
                    ],
                    "not_found": with_ids["not_found"],
                }
            report = forgetting.forget_ids(self.settings, wanted, scope)
        return {"project": self.name, "confirmed": True, **report}

    def state(self) -> dict[str, Any]:
        """Phase, progress, blockers, next actions, key files and recent decisions."""
        from contextrecall.db import session_scope
        from contextrecall.recall.loading import project_state

        with session_scope(self.settings) as db:
            project_id = self._project_id(db)
            state = project_state(db, project_id) if project_id else None
        found = dict(state or EMPTY_STATE)
        if isinstance(found.get("updated_at"), datetime):
            found["updated_at"] = found["updated_at"].isoformat(timespec="seconds")
        return {"project": self.name, "has_state": state is not None, **found}
