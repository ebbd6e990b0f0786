"""Find the choices a session made, with rationale, alternatives and impact.

Heuristics over prose: assistant sentences such as "decided to", "went with", "switching to",
"X instead of Y because …", the person's instructions ("let's use", "don't use"), approved
plans (ExitPlanMode) and answers to AskUserQuestion.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from contextrecall.compression.text import clean, sentences, shorten, squash
from contextrecall.memory import Decision

# Verbs of choosing: the noun "decision" is as often code that decides ("the decision logic").
_STRONG = re.compile(
    r"\b(decided|decide to|chose|chosen|choosing|opted|opting|went with|going with|"
    r"settled on|(?:I'll|we'll|let's|will|to) go with|switch(?:ed|ing)? (?:to|over to|from)|"
    r"migrat(?:e|ed|ing) (?:to|from)|"
    r"use \S+ instead|prefer(?:red)? \S+ over)\b",
    re.I,
)
_CONTRAST = re.compile(
    r"\b(instead of|rather than|as opposed to|in favou?r of|versus)\s|\binstead\W*$", re.I
)
_OBSERVATION = re.compile(
    r"^(I can see|I see|I notice|I found|it looks like|looks like|it seems|this shows|"
    r"the (?:file|code|test|output|error) (?:shows|uses|has|is))\b|^now\b",
    re.I,
)
_INTENT = re.compile(
    r"\b(I'll|I will|we'll|we will|let's|I'm going to|we're going to|the plan is to|"
    r"the (?:best|right|simplest|cleanest|safest) (?:approach|option|fix|way|choice) is)\b",
    re.I,
)
_RATIONALE = re.compile(
    r"\b(?:because|since|so that|due to|given that|to avoid|which avoids|as it|as this)\b\s*(.+)$",
    re.I,
)
_SO_THEN = re.compile(
    r"(?:^|[\u2014;:]\s*)([^\u2014;:]{10,200}?),? so (?:I'll|we'll|I will|we will|let's|I|we)\b",
    re.I,
)
_ALTERNATIVE = re.compile(
    r"\b(?:instead of|rather than|as opposed to|in favou?r of|versus|vs\.?|over)\s+"
    r"([^,.;:()\u2014\u2013]{2,80}?)(?=\s+(?:because|since|so|as|to|for|which|and|but)\b|[,.;:()\u2014\u2013]|$)",
    re.I,
)
# A look announced ("Let me check …", "I'll read …"): no choice, whatever it contrasts. Not
# ``exchanges``' narration, which takes any announced step: "I'll use X instead of Y" is a
# decision. (A sentence opening with "now" is an observation already.)
_ANNOUNCED_LOOK = re.compile(
    r"^(let me|i'll (?:read|check|look|search|run|start|explore|examine|view|verify|see|find|"
    r"update the todo|mark))\b",
    re.I,
)
_USER_INSTRUCTION = re.compile(
    r"\b(let'?s (?:use|go with|switch|stick|keep|try|not)|(?:don'?t|do not|never) (?:use|add|"
    r"touch|change|commit|push|create|remove|delete|modify)|(?:please )?use \S+ (?:instead|rather)|"
    r"we should (?:use|go|switch|keep|not)|prefer \S+|always use|make sure (?:to|we))\b",
    re.I,
)
_CRITICAL = re.compile(
    r"\b(data loss|security (?:hole|vulnerabilit\w*|fix)|production (?:outage|data)|"
    r"breaking change|credentials?|secret key)\b",
    re.I,
)
_HIGH = re.compile(
    r"\b(architecture|schema|migration|database|data model|api|protocol|interface|framework|"
    r"rewrite|redesign|dependenc\w+|auth\w*|storage|public|contract|backend|infrastructure|"
    r"postgres\w*|mysql|mariadb|sqlite|mongo\w*|dynamodb|kafka|rabbitmq|queue|cache)\b",
    re.I,
)
_LOW = re.compile(
    r"\b(typo|rename|formatting|format|style|comment|whitespace|lint\w*|log message|wording|"
    r"naming|cosmetic)\b",
    re.I,
)
_TYPES = (
    (
        "architecture",
        re.compile(
            r"\b(architecture|schema|design|structure|pattern|api|database|"
            r"model|module|component|layer|interface)\b",
            re.I,
        ),
    ),
    (
        "tooling",
        re.compile(
            r"\b(library|framework|dependency|package|tool|version|plugin|"
            r"command|cli|linter|formatter)\b",
            re.I,
        ),
    ),
    (
        "process",
        re.compile(
            r"\b(commit|branch|merge|push|review|workflow|hook|ci|release|"
            r"deploy|skip|--no-verify)\b",
            re.I,
        ),
    ),
)


@dataclass
class Candidate:
    """A sentence that may state a decision, scored for how clearly it does."""

    text: str
    score: float
    order: int
    rationale: str | None = None
    alternatives: list[str] = field(default_factory=list)
    decision_type: str | None = None
    impact: str | None = None


def impact_of(text: str) -> str:
    """low, medium, high or critical, from what the decision touches."""
    if _CRITICAL.search(text):
        return "critical"
    if _HIGH.search(text):
        return "high"
    if _LOW.search(text):
        return "low"
    return "medium"


def type_of(text: str) -> str:
    for name, pattern in _TYPES:
        if pattern.search(text):
            return name
    return "technical"


def _split_rationale(sentence: str) -> tuple[str, str | None]:
    match = _RATIONALE.search(sentence)
    if match and match.start() >= 15:
        return sentence, match.group(1).rstrip(".")
    reason = _SO_THEN.search(sentence)  # "<reason>, so I'll <decision>"
    if reason:
        return sentence, reason.group(1).strip()
    return sentence, None


def _alternatives(sentence: str) -> list[str]:
    found = []
    for match in _ALTERNATIVE.finditer(sentence):
        keyword = match.group(0).split()[0].lower()
        if keyword == "over" and not _STRONG.search(sentence):
            continue
        alternative = match.group(1).strip(" `'\"*")
        if alternative and alternative.lower() not in ("the", "a", "an", "it", "that", "this"):
            found.append(shorten(alternative, 80))
    return found


def candidates_in(text: str, order: int, weight: float = 1.0) -> list[Candidate]:
    """Decision-like sentences of assistant prose."""
    found: list[Candidate] = []
    previous = ""
    for sentence in sentences(text):
        # a question asks, and a sentence ending in a colon announces what follows: neither
        # states a decision
        if not 25 <= len(sentence) <= 500 or sentence.endswith(("?", ":")):
            previous = sentence
            continue
        strong = bool(_STRONG.search(sentence))
        contrast = bool(_CONTRAST.search(sentence))
        intent = bool(_INTENT.search(sentence))
        narration = _ANNOUNCED_LOOK.match(sentence) or _OBSERVATION.match(sentence)
        if not (strong or contrast) or (narration and not strong):
            previous = sentence
            continue
        score = (3.0 if strong else 1.5) + (0.5 if intent else 0.0)
        sentence, rationale = _split_rationale(sentence)
        if rationale is None and re.match(
            r"^(This|That|It) (avoids|keeps|ensures|means|makes|"
            r"lets|gives|prevents)",
            previous,
        ):
            rationale = previous
        alternatives = _alternatives(sentence)
        score += (1.0 if rationale else 0.0) + (0.5 if alternatives else 0.0)
        found.append(Candidate(sentence, score * weight, order, rationale, alternatives))
        previous = sentence
    return found


def candidates_from_request(text: str, order: int) -> list[Candidate]:
    """Instructions in what the person typed ("let's use X", "don't use Y")."""
    found = []
    for sentence in sentences(text):
        if 10 <= len(sentence) <= 400 and _USER_INSTRUCTION.search(sentence):
            _, rationale = _split_rationale(sentence)
            found.append(
                Candidate(sentence, 4.5, order, rationale, _alternatives(sentence), "requirement")
            )
    return found


def candidates_from_compaction(bullets: list[str], order: int) -> list[Candidate]:
    """Conventions a compaction summary's "Problem Solving" section says were settled."""
    found = []
    for bullet in bullets:
        if len(bullet) < 30:
            continue
        head, _, rest = bullet.partition(": ")
        text = bullet if not rest or len(head) > 60 else rest
        sentence = next(iter(sentences(text)), text)
        _, rationale = _split_rationale(sentence)
        found.append(Candidate(sentence, 3.5, order, rationale, _alternatives(sentence)))
    return found


def candidate_from_plan(plan: str, order: int) -> Candidate | None:
    """An approved plan (ExitPlanMode): its title as the decision, its first points as why."""
    lines = [squash(re.sub(r"^[#>*\-\s\d.]+", "", line)) for line in plan.splitlines()]
    lines = [line for line in lines if len(line) > 3]
    if not lines:
        return None
    title = lines[0]
    rationale = "; ".join(lines[1:4]) or None
    return Candidate(f"Plan: {title}", 5.0, order, rationale, [], "plan", "high")


NOTES_ONLY = "(notes only)"  # AskUserQuestion's answer when the person only wrote notes


def chosen(answer: str, note: str | None) -> str:
    """What the person answered: the option they chose, or their notes when they only wrote
    notes."""
    return note if note and answer in ("", NOTES_ONLY) else answer


def candidates_from_answers(
    questions: list[dict[str, object]],
    answers: dict[str, str],
    order: int,
    notes: dict[str, str] | None = None,
) -> list[Candidate]:
    """AskUserQuestion: each question with the option the person chose, and the notes they
    wrote beside it as the why (their own words, often the real decision)."""
    found = []
    for question in questions:
        text = question.get("question")
        if not isinstance(text, str) or text not in answers:
            continue
        note = (notes or {}).get(text)
        answer = chosen(answers[text], note)
        options = question.get("options")
        labels = (
            [o["label"] for o in options if isinstance(o, dict) and isinstance(o.get("label"), str)]
            if isinstance(options, list)
            else []
        )
        alternatives = [label for label in labels if label != answer]
        found.append(
            Candidate(
                f"{shorten(text, 160)} → {shorten(answer, 160)}",
                6.0,
                order,
                f"the user: {note}" if note else "chosen by the user",
                [shorten(a, 80) for a in alternatives[:4]],
                "user-choice",
            )
        )
    return found


_ANSWER = re.compile(r'"([^"]+)"="([^"]*)"')


def parse_answers(result_text: str) -> dict[str, str]:
    """Answers from AskUserQuestion's result text (used when toolUseResult is absent)."""
    return dict(_ANSWER.findall(result_text))


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower())[:70]


def select(candidates: list[Candidate], limit: int) -> list[Decision]:
    """The best ``limit`` candidates as decisions, deduplicated, in session order."""
    seen: set[str] = set()
    best: list[Candidate] = []
    for candidate in sorted(candidates, key=lambda c: (-c.score, c.order)):
        key = _key(candidate.text)
        if key in seen:
            continue
        seen.add(key)
        best.append(candidate)
        if len(best) >= limit:
            break
    best.sort(key=lambda c: c.order)
    decisions = []
    for c in best:
        whole = f"{c.text} {c.rationale or ''}"
        decisions.append(
            Decision(
                text=clean(c.text, 240),
                rationale=clean(c.rationale, 200) if c.rationale else None,
                alternatives=[clean(a, 80) for a in c.alternatives],
                impact=c.impact or impact_of(whole),
                decision_type=c.decision_type or type_of(whole),
            )
        )
    return decisions
