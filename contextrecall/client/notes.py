"""Memories saved by hand (`recall mcp` save_memory), through the same queue as hook saves.

A server run keeps one notebook: a chat JSONL file under ``$RECALL_HOME/notes`` to which each
saved memory is appended as one line (``content`` plus ``kind`` and ``tags``, see
``transcript.chat``), redacted before it is written so no secret lands on disk. The notebook is
then enqueued like any transcript (``save_files.enqueue_files``): only the new line travels,
redacted and packed exactly like a hook's delta, and the worker stores it as a decision or a
snippet (``compression.manual``).
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from dataclasses import dataclass, field

from contextrecall.ids import random_uuid
from contextrecall.memory import MANUAL_KINDS
from contextrecall.redaction import redact_counts
from contextrecall.settings import Settings
from contextrecall.transcript.events import TEXT_CAP

NOTES = "notes"
MAX_NOTE_CHARS = TEXT_CAP  # what the chat parser keeps of one line
MAX_TAGS = 10
MAX_TAG_CHARS = 50
_TAG = re.compile(r"^[a-z0-9][a-z0-9._+#/-]*$")


@dataclass(frozen=True)
class Note:
    """One memory to save, validated and redacted."""

    text: str
    kind: str
    tags: list[str]
    redacted: dict[str, int] = field(default_factory=dict)  # secrets removed, by kind


@dataclass(frozen=True)
class SavedNote:
    """What saving a note did: the jobs carrying it, and whether the broker has them yet."""

    note: Note
    session: str
    job_ids: list[str]
    queued: bool  # False: kept in the local spool until the broker is back


def normalize_tag(tag: str) -> str:
    return re.sub(r"\s+", "-", tag.strip().lower())


def make_note(text: str, kind: str = "note", tags: list[str] | None = None) -> Note:
    """A note from what a caller gave; ValueError with a message meant for the caller."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text is empty: give the memory to save")
    if len(text) > MAX_NOTE_CHARS:
        raise ValueError(f"text is {len(text)} characters; at most {MAX_NOTE_CHARS} fit")
    if kind not in MANUAL_KINDS:
        raise ValueError(f"kind must be one of {', '.join(MANUAL_KINDS)}, not {kind!r}")
    tags = list(dict.fromkeys(normalize_tag(t) for t in tags or []))
    if len(tags) > MAX_TAGS:
        raise ValueError(f"at most {MAX_TAGS} tags")
    for tag in tags:
        if not _TAG.match(tag) or len(tag) > MAX_TAG_CHARS:
            raise ValueError(
                f"tag {tag!r} is not a tag: 1 to {MAX_TAG_CHARS} of a-z 0-9 . _ + # / -, "
                "starting with a letter or digit"
            )
    clean, counts = redact_counts(text.strip())
    clean_tags = []
    for tag in tags:
        redacted_tag, tag_counts = redact_counts(tag)
        clean_tags.append(redacted_tag)
        for name, n in tag_counts.items():
            counts[name] = counts.get(name, 0) + n
    return Note(clean, kind, clean_tags, counts)


def new_session_id() -> str:
    """A notebook's session id: when the server started, and a random suffix."""
    return f"mcp-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{random_uuid()[:8]}"


class Notebook:
    """The memories one `recall mcp` server saves: one session, one append-only file."""

    def __init__(self, settings: Settings, project: str | None, session: str | None = None):
        self.settings, self.project = settings, project
        self.session = session or new_session_id()
        self.path = settings.home / NOTES / f"{self.session}.jsonl"
        self._lock = threading.Lock()  # one append + enqueue at a time: lines stay in order

    def _append(self, note: Note) -> None:
        line = {
            "role": "assistant",
            "content": note.text,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "id": random_uuid(),
            "kind": note.kind,
            "tags": note.tags,
        }
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")

    def save(self, note: Note) -> SavedNote:
        """Append ``note`` and enqueue it; the worker stores it like a hook's save."""
        from contextrecall.client.save_files import enqueue_files

        with self._lock:
            self._append(note)
            try:
                jobs = enqueue_files(
                    self.settings,
                    [self.path],
                    project=self.project,
                    session=self.session,
                    fmt="chat",
                )
            except ConnectionError:  # spooled: `recall spool flush` (or the next hook) sends it
                return SavedNote(note, self.session, [], queued=False)
        return SavedNote(note, self.session, [job["job_id"] for job in jobs], queued=True)
