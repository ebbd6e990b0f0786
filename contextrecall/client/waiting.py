"""Transcripts a save hook named before Claude Code wrote them.

Claude Code writes a session's transcript lazily: the Stop hook of a first, text-only turn
often names a file that does not exist yet. That is no error: the hook records the event
here, and a later save hook (of any session) saves the transcript once it exists. Records
older than ``MAX_AGE_SECONDS`` are dropped (a transcript never written). Standard library
only: it runs in the hook.
"""

from __future__ import annotations

import json
import os
import time

from contextrecall.ids import sha256_hex
from contextrecall.small_files import replace_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_AGE_SECONDS = 24 * 3600
KEPT_FIELDS = ("hook_event_name", "session_id", "transcript_path", "cwd")


def _path(folder: str, transcript: str) -> str:
    return os.path.join(folder, sha256_hex(transcript.encode())[:32] + ".json")


def remember(folder: str, event: dict[str, Any], transcript: str) -> None:
    """Record ``event`` (the fields a save needs) until ``transcript`` exists."""
    os.makedirs(folder, exist_ok=True)
    kept = {key: event[key] for key in KEPT_FIELDS if key in event}
    replace_text(_path(folder, transcript), json.dumps(kept))


def forget(folder: str, transcript: str) -> None:
    """The transcript is being saved: its record, if any, is done with."""
    _remove(_path(folder, transcript))


def count(folder: str) -> int:
    """How many transcripts wait to be written."""
    try:
        return sum(1 for name in os.listdir(folder) if name.endswith(".json"))
    except OSError:
        return 0


def ready(folder: str, now: float | None = None) -> list[dict[str, Any]]:
    """The recorded events whose transcript exists now (their records stay until ``forget``);
    records too old or unreadable are removed."""
    now = time.time() if now is None else now
    found = []
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    for name in names:
        if not name.endswith(".json"):
            continue
        path = os.path.join(folder, name)
        try:
            if now - os.path.getmtime(path) > MAX_AGE_SECONDS:
                _remove(path)
                continue
            with open(path, encoding="utf-8") as handle:
                event = json.load(handle)
        except (OSError, ValueError):
            _remove(path)
            continue
        transcript = event.get("transcript_path") if isinstance(event, dict) else None
        if not isinstance(transcript, str):
            _remove(path)
        elif os.path.isfile(os.path.expanduser(transcript)):
            found.append(event)
    return found


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:  # removed by another hook already
        return
