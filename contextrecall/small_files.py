"""Small files written whole: a reader sees the old text or the new, never a part, and a write
that fails (a full disk, a kill) leaves no temporary file behind. Standard library only: the
hooks write these (waiting transcripts, the store id) as does the worker (generations)."""

from __future__ import annotations

import os


def replace_text(path: str, text: str, encoding: str = "utf-8") -> None:
    """Make ``path`` hold ``text``: written beside it under a name no other writer (process or
    thread) uses, then renamed over it."""
    temporary = f"{path}.{os.getpid()}.{os.urandom(4).hex()}.tmp"
    try:
        with open(temporary, "w", encoding=encoding) as handle:
            handle.write(text)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
