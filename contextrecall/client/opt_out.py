"""Projects whose sessions Context Recall leaves alone: their hooks store nothing and inject
nothing. A project opts out with a ``.no-recall`` file in its folder (the git repository's top
level, or any folder between it and the session's directory), or a user lists folders in
``RECALL_EXCLUDE_PATHS`` (comma-separated globs, ``~`` for the home folder, matched against the
repository's top level and the session's directory). Standard library only: the hook asks it
on every event, a few ``stat`` calls.
"""

from __future__ import annotations

import os

from contextrecall.identity import git_toplevel
from contextrecall.settings import Settings

MARKER = ".no-recall"


def opted_out(directory: str, settings: Settings) -> bool:
    """Whether the project of a session in ``directory`` opted out (a marker or a glob)."""
    directory = os.path.abspath(directory)
    top = git_toplevel(directory) or directory
    folder = directory
    while True:
        if os.path.exists(os.path.join(folder, MARKER)):
            return True
        parent = os.path.dirname(folder)
        if folder == top or parent == folder:
            break
        folder = parent
    if not settings.exclude_paths:
        return False
    from fnmatch import fnmatchcase

    globs = [os.path.expanduser(g.strip()).rstrip("/") for g in settings.exclude_paths.split(",")]
    return any(fnmatchcase(path, g) for g in globs if g for path in {top, directory})
