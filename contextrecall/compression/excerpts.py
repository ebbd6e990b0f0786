"""The lines of a text that tell the most: of a tool's output, a file, a pasted log.

Errors and warnings first, then lines naming things (identifiers, paths, numbers, ids,
quoted text), kept in their order within a bound. Pure.
"""

from __future__ import annotations

import re

from contextrecall.compression import commands as cmd
from contextrecall.tagging import unnumbered

REQUEST_CHARS = 1200  # of a person's request; a longer one is also kept by its telling lines
EXCERPT_LINES = 5
EXCERPT_CHARS = 300
SETTINGS_LINES, SETTINGS_CHARS = 16, 900  # of a long text: a settings or documentation file
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def told(text: str, chars: int = SETTINGS_CHARS) -> str:
    """The telling lines of a long text the person pasted (a log, a trace, a plan), as a
    written settings file's are kept."""
    return excerpt(text, lines=SETTINGS_LINES, chars=chars)


def excerpt(
    output: str, lines: int = EXCERPT_LINES, chars: int = EXCERPT_CHARS, minimum: int = 1
) -> str:
    """The lines of a tool's output that matter, bounded and in their order: the first line,
    then the most telling others (errors and warnings first, then lines naming things:
    identifiers, paths, numbers, ids, quoted text)."""
    text = ANSI.sub("", output)
    found = [
        unnumbered(line).rstrip()
        for line in text.splitlines()
        if line.strip() and not _NOISE.match(line)
    ]
    if not found:
        return ""
    ranked = sorted(range(len(found)), key=lambda n: (-salience(found[n]), n))
    picked, used = ([0], len(found[0])) if minimum <= 1 else ([], 0)
    for n in ranked:
        if len(picked) >= lines or salience(found[n]) < minimum:
            break
        if n in picked:
            continue
        if used + len(found[n]) > chars:
            continue
        picked.append(n)
        used += len(found[n])
    return shorten_block("\n".join(found[n] for n in sorted(picked)), chars)


def salience(line: str) -> int:
    """How much a line of output tells: 3 for errors and failures, plus one for each of a
    test or count summary, an identifier or path, a number or id, quoted text; two for a
    tally of counts (a commit's stat, a sync's report) and for a reference."""
    score = 3 if cmd.ERROR_LINE.search(line) or _WARNING.search(line) else 0
    score += bool(_SUMMARY.search(line)) + bool(_NAMED.search(line))
    score += 2 * bool(_TALLY.search(line))
    score += bool(_NUMBERED.search(line)) + bool(_QUOTED.search(line))
    score += 2 * bool(_REFERENCE.search(line))
    aside = line.strip().startswith("(") and line.strip().endswith(")")  # a hint, not news
    return score - (len(line) > 240) - 2 * aside


# An issue or change named by its number ("PR #2388", "issue #12"): what people ask for.
# A link is one too (a pull request a push printed, a deployed page).
_REFERENCE = re.compile(
    r"(?:\b(?:PR|pull|issue|bug|ticket|MR)\s*)?#\d{2,}\b|\bhttps?://[^\s\"'<>]+/[^\s\"'<>]+",
    re.I,
)


_WARNING = re.compile(r"\bwarn(?:ing)?\b", re.I)
# Counts listed together: "11 files changed, 1390 insertions(+)", "202 unchanged, 6 skipped".
_TALLY = re.compile(r"\b\d+ [a-z]+\w*(?: [a-z]+)?(?:\([+-]\))?,\s*\d+ [a-z]+", re.I)
_SUMMARY = re.compile(r"\b(\d+ (?:tests?|failures?|passed|files?|rows?|errors?)|exit code|total)\b")
_NAMED = re.compile(r"[A-Za-z0-9]+(?:[_./:\-][A-Za-z0-9]+)+|[a-z]+[A-Z]\w+|\b[A-Z][a-z]+[A-Z]\w+")
_NUMBERED = re.compile(r"#\d+|\bv?\d+\.\d+|\b[0-9a-f]{7,12}\b|\b\d{2,}\b")
_QUOTED = re.compile(r"\"[^\"]{3,80}\"|'[^']{3,80}'|`[^`]{3,80}`")


# Lines that say nothing: a cut, a tag, an exit code, a bare prefix or rule ("remote:", "---").
_NOISE = re.compile(
    r"^\s*(?:\[… \d+ characters omitted …\]|<[/\w]+>|Exit code \d+|[\w-]{1,20}:|[-=_*#|│┃.]+)\s*$"
)


def shorten_block(text: str, limit: int) -> str:
    """``text`` (several lines) cut to at most ``limit`` characters at a line or word end."""
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    if cut < limit // 2:
        cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit].rstrip() + " …"
