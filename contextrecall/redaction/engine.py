"""Secret redaction: replace secrets in free text with typed ``[REDACTED:<kind>]`` placeholders.

The engine runs the detectors of ``rules`` fast: a short text is first checked with one
prefix-tree regex of every rule's trigger and only the triggered rules run; overlapping finds
merge into one placeholder named by the most specific rule; passes repeat until nothing
changes, which makes ``redact`` idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from contextrecall.redaction.rules import MARK, PLACEHOLDER, RULES, SECRET_WORD, Hit, Rule

_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def _lower_ascii(text: str) -> str:
    """``text`` lowercased, with every non-ASCII character as ``?``: same length, cheap."""
    if not text.isascii():
        text = text.encode("ascii", "replace").decode("ascii")
    return text.lower()


def _spans(rule: Rule, text: str, lowered: str) -> Iterator[tuple[int, int, str]]:
    """``(start, end, kind)`` of every secret ``rule`` finds in ``text``.

    The search resumes just after where a rejected match started, and at the value of an
    accepted one: neither may hide a match that overlaps it ("PASSWORD= DB_PASSWORD: x" is
    rejected at the first key and found at the second; in "Authorization: Bearer
    Authorization: Bearer x" the first value is the second header). Overlaps merge later.
    """
    position = 0
    haystack = lowered if rule.lower else text
    while (match := rule.pattern.search(haystack, position)) is not None:
        hit = Hit(match, text)
        position = match.start() + 1
        if (rule.boundary and hit.before() in _WORD and not hit.after_escape()) or (
            rule.check is not None and not rule.check(hit)
        ):
            continue
        start, end = hit.value_span(rule.group)
        if text.startswith(MARK, start) or _is_next_key(text, start, end):
            continue
        position = max(position, start)
        yield start, end, rule.kind_of(hit) if rule.kind_of else rule.kind


_KEY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]{0,100}")
_OPERATOR_AFTER = re.compile(r"[ \t]{0,3}(?:\\?[\"'])?[ \t]{0,3}(?::(?!:)|=(?![=>~]))")


def _is_next_key(text: str, start: int, end: int) -> bool:
    """The matched value is the key of a following assignment, whose value is the secret:
    "PASSWORD= DB_PASSWORD: x", "Authorization: Bearer access_token = 'x'"."""
    value = text[start:end]
    stem = value.rstrip(":=")
    if not (_KEY_NAME.fullmatch(stem) and SECRET_WORD.search(stem)):
        return False
    return stem != value or _OPERATOR_AFTER.match(text, end) is not None


def _trie_pattern(words: list[str]) -> str:
    """A regex for any of ``words``, factored by common prefixes so a scan stays cheap."""
    tree: dict[str, dict] = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        if set(node) == {""}:
            return ""
        alternatives = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if len(alternatives) == 1 and "" not in node:
            return alternatives[0]
        return "(?:" + "|".join(alternatives) + (")?" if "" in node else ")")

    return build(tree)


_TRIGGERS = sorted({t for rule in RULES for t in rule.triggers})
_TRIE = _trie_pattern(_TRIGGERS)
_GATE = re.compile(_TRIE)
_rules_by_trigger: dict[str, frozenset[int]] = {}


def _triggers_in(lowered: str, start: int) -> set[str]:
    """Every trigger occurring in ``lowered`` from ``start`` on, overlapping ones too: the
    gate's longest match at each position that has one (searching on from the next position
    costs a hook less than compiling a lookahead form of the trie, about a millisecond)."""
    found: set[str] = set()
    match = _GATE.search(lowered, start)
    while match is not None:
        found.add(match.group())
        match = _GATE.search(lowered, match.start() + 1)
    return found


def _rules_of_trigger(found: str) -> frozenset[int]:
    """The rules a found trigger stands for: the longest trigger found at a position stands
    for the shorter ones it starts with."""
    rules = _rules_by_trigger.get(found)
    if rules is None:
        rules = _rules_by_trigger[found] = frozenset(
            i for i, rule in enumerate(RULES) if any(found.startswith(t) for t in rule.triggers)
        )
    return rules


_GATE_LIMIT = 32_768  # longer texts skip the gate: scanning with every rule is cheaper there


def _rules_for(lowered: str) -> tuple[Rule, ...]:
    """The rules worth running over ``lowered``: those whose trigger occurs, or all for long
    texts. Most transcript strings contain no trigger and cost one scan."""
    if len(lowered) > _GATE_LIMIT:
        return RULES
    first = _GATE.search(lowered)
    if first is None:
        return ()
    wanted: set[int] = set()
    for found in _triggers_in(lowered, first.start()):
        wanted |= _rules_of_trigger(found)
    return tuple(RULES[i] for i in sorted(wanted))


_MAX_PASSES = 8


def redact_counts(text: str) -> tuple[str, dict[str, int]]:
    """``text`` with its secrets replaced, and how many secrets of each kind were replaced.

    Passes repeat until nothing changes: a rule that needs context before the secret
    (``mysql ... -pSECRET``) consumes that context with its first match, so a second secret
    sharing it (``mysql -pA -pB``) is only found once the first is a placeholder. Text
    without secrets costs one pass, and this is what makes ``redact`` idempotent.
    """
    counts: dict[str, int] = {}
    for _ in range(_MAX_PASSES):
        redacted = _redact_once(text, counts)
        if redacted is text:
            break
        text = redacted
    return text, counts


def _redact_once(text: str, counts: dict[str, int]) -> str:
    """One pass of every rule over ``text`` (the same object back when nothing matched).

    Every rule reads the original text, so a secret is found even when an earlier rule's
    match covers the context a later rule needs ("Bearer sshpass -p SECRET"). Overlapping
    finds merge into one placeholder named by the most specific rule among them.
    """
    lowered = _lower_ascii(text)
    found = [
        (start, end, order, kind)
        for order, rule in enumerate(_rules_for(lowered))
        for start, end, kind in _spans(rule, text, lowered)
    ]
    if not found:
        return text
    found.sort()
    pieces: list[str] = []
    last = 0
    group_start, group_end, group_order, group_kind = found[0]
    for start, end, order, kind in [*found[1:], (len(text) + 1, 0, 0, "")]:
        if start < group_end:  # overlaps the current group: widen it
            group_end = max(group_end, end)
            if order < group_order:
                group_order, group_kind = order, kind
            continue
        counts[group_kind] = counts.get(group_kind, 0) + 1
        pieces += (text[last:group_start], PLACEHOLDER.format(group_kind))
        last = group_end
        group_start, group_end, group_order, group_kind = start, end, order, kind
    pieces.append(text[last:])
    return "".join(pieces)


def redact(text: str) -> str:
    """Replace secrets in ``text`` with ``[REDACTED:<kind>]`` placeholders."""
    return redact_counts(text)[0]


def map_strings(value: object, change: Callable[[str], str]) -> object:
    """A parsed JSON value with ``change`` applied to every string inside it (keys kept)."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, list):
        return [map_strings(v, change) for v in value]
    if isinstance(value, dict):
        return {k: map_strings(v, change) for k, v in value.items()}
    return value
