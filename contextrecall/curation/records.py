"""The export format: a project's memory as JSON Lines, one record a line. Pure.

The first line names the format and the project; each later line is one row with its
``type``: ``session``, ``context``, ``decision``, ``snippet``, ``state``, ``forgotten`` and,
when asked for, ``delta`` (a stored transcript slice, decrypted: redacted text, in clear).
Rows keep their ids and every column but those naming other rows, which become the session's
id as the agent knows it (``session``): ids differ between stores, the agent's do not.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

FORMAT = "context-recall-export"
VERSION = 1
TYPES = ("session", "context", "decision", "snippet", "state", "forgotten", "delta")
# Columns that name rows of the exporting store: left out, or carried as the agent's session id.
LOCAL = {"project_id", "session_id", "machine_id", "client_id", "last_session_id"}


class BadRecord(ValueError):
    """A line that is not a record of this format; the message names the line."""


def header(project: dict[str, Any], exported_at: datetime, deltas: bool) -> dict[str, Any]:
    return {
        "type": FORMAT,
        "version": VERSION,
        "exported_at": exported_at.isoformat(timespec="seconds"),
        "project": project,
        "deltas": deltas,
    }


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    return value


def record(kind: str, row: dict[str, Any], session: str | None = None) -> dict[str, Any]:
    """A row of the store as a record (``session``: the agent's id of its session)."""
    found = {k: _plain(v) for k, v in row.items() if k not in LOCAL and k != "payload"}
    if session is not None:
        found["session"] = session
    return {"type": kind, **found}


def delta_record(row: dict[str, Any], session: str, text: bytes) -> dict[str, Any]:
    """A stored delta with its decrypted text (base64 when it is not UTF-8)."""
    found = record("delta", row, session)
    found.pop("key_id", None)
    try:
        found["text"] = text.decode("utf-8")
    except UnicodeDecodeError:
        found["base64"] = base64.b64encode(text).decode("ascii")
    return found


def delta_text(found: dict[str, Any]) -> bytes:
    if "base64" in found:
        return base64.b64decode(found["base64"])
    return str(found.get("text", "")).encode("utf-8")


def row_values(found: dict[str, Any], columns: set[str]) -> dict[str, Any]:
    """A record's values for a table with ``columns`` (times parsed back)."""
    values = {}
    for key, value in found.items():
        if key in columns and key not in LOCAL:
            if isinstance(value, str) and key.endswith("_at"):
                value = datetime.fromisoformat(value)
            values[key] = value
    return values


def parse_line(line: str, number: int) -> dict[str, Any]:
    """One line of an export as a record; BadRecord naming the line when it is not one."""
    try:
        found = json.loads(line)
    except ValueError as exc:
        raise BadRecord(f"line {number}: not JSON ({exc.msg})") from exc
    if not isinstance(found, dict) or not isinstance(found.get("type"), str):
        raise BadRecord(f"line {number}: not a record (an object with a type)")
    if number == 1:
        if found["type"] != FORMAT:
            raise BadRecord(f"line 1: not a Context Recall export (type {found['type']!r})")
        if found.get("version") != VERSION:
            raise BadRecord(f"line 1: export version {found.get('version')!r}, not {VERSION}")
        project = found.get("project")
        if not isinstance(project, dict) or not project.get("identity"):
            raise BadRecord("line 1: the export names no project")
        return found
    if found["type"] not in TYPES:
        raise BadRecord(f"line {number}: unknown record type {found['type']!r}")
    if not isinstance(found.get("id"), str) and found["type"] != "forgotten":
        raise BadRecord(f"line {number}: a {found['type']} record without an id")
    return found
