"""Snippet pieces: configuration values, gotchas, and the sentence that explains an error."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from contextrecall.compression.text import clean, sentences, shorten
from contextrecall.memory import Snippet

_GOTCHA = re.compile(
    r"\b(note that|gotcha|be careful|caveat|watch out|pitfall|beware|"
    r"(?:does ?n[o']t|doesn't|cannot|can't|won't) (?:support|work with|handle|accept|allow)|"
    r"not supported|only works|turns out|it seems that|the (?:root )?cause (?:is|was)|"
    r"the (?:real )?(?:issue|problem|bug) (?:is|was)|must (?:be|run|use|come)|has to be|"
    r"requires? (?:a|an|the)|important:|warning:|race condition|silently)\b",
    re.I,
)
_EXPLANATION = re.compile(
    r"\b(because|the (?:issue|problem|error|cause|failure)|caused by|need(?:s)? to|missing|"
    r"forgot|wrong|fix(?:ed)? (?:it|this|that|by)|should be|instead|isn't|wasn't|doesn't|not)\b",
    re.I,
)
_CONFIG_NAME = re.compile(
    r"(^|/)(\.env[\w.]*|[\w.-]*(?:config|settings|conf)[\w.-]*|[\w.-]+\.(?:toml|ini|cfg|ya?ml)|"
    r"dockerfile|docker-compose[\w.-]*|\.\w+rc|tsconfig\.json|package\.json|"
    r"pyproject\.toml|mix\.exs|settings\.json|alembic\.ini)$",
    re.I,
)
_CONFIG_LINE = re.compile(
    r"""^\s*(?:export\s+)?(?:config\s+:\w+,\s*)?["']?[\w.\-]+["']?\s*[:=]\s*[^\s{\[(]"""
    r"""|^\s*(?:ENV|ARG|EXPOSE|FROM)\s+\S"""
    r"""|^\s*config\s+:\w+"""
)
_CONFIG_COMMAND = re.compile(
    r"^(export \w+=\S+|git config \S+ \S+|npm config set .+|\w+ config set .+)$"
)
CONFIG_LIMIT = 4
GOTCHA_LIMIT = 5


def gotchas_in(text: str) -> list[str]:
    """Sentences that warn about a pitfall."""
    return [
        s
        for s in sentences(text)
        if 30 <= len(s) <= 400 and not s.endswith("?") and s.count("|") < 2 and _GOTCHA.search(s)
    ]


def explanation_in(text: str) -> str | None:
    """The first sentence of ``text`` that explains an error or its fix."""
    for sentence in sentences(text):
        if 20 <= len(sentence) <= 400 and _EXPLANATION.search(sentence):
            return sentence
    return None


def is_config_path(path: str) -> bool:
    return bool(_CONFIG_NAME.search(path))


def config_lines(text: str, limit: int = 3) -> list[str]:
    """Lines of ``text`` that set a configuration value."""
    found = []
    for line in text.splitlines():
        if _CONFIG_LINE.match(line) and not line.lstrip().startswith(("#", "//")):
            found.append(shorten(line, 120))
            if len(found) >= limit:
                break
    return found


def is_config_command(key: str) -> bool:
    return bool(_CONFIG_COMMAND.match(key))


def config_snippet(path: str, lines: list[str]) -> Snippet:
    name = PurePosixPath(path).name or path
    return Snippet(
        category="configuration",
        title=clean(f"Config: {name}", 100),
        content=clean(f"{path}: " + " | ".join(lines), 300),
    )


def gotcha_snippet(sentence: str) -> Snippet:
    return Snippet(
        category="gotcha",
        title=clean(sentence, 90),
        content=clean(sentence, 300),
        importance=1.2,
    )
