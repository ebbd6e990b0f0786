"""Chat lines in fewer tokens: a turn keeps its content words and loses its function words.

"I went to a LGBTQ support group yesterday and it was so powerful." becomes "went LGBTQ
support group yesterday powerful." The speaker is named on the line, so pronouns add little;
negations and numbers always stay, since dropping them would change the meaning.
"""

from __future__ import annotations

import re
from functools import lru_cache

# Standard English function words (the usual retrieval stop list) ...
FUNCTION_WORDS = frozenset(
    """a about above after again against all am an and any are aren as at be because been before
    being below between both but by can could couldn did didn do does doesn doing don down during
    each few for from further had hadn has hasn have haven having he her here hers herself him
    himself his how i if in into is isn it its itself just ll me mightn more most mustn my myself
    needn now of off on once only or other our ours ourselves out over own re same shan she
    should shouldn so some such than that the their theirs them themselves then there these they
    this those through to too under until up us ve very was wasn we were weren what when where which
    while who whom why will with wouldn you your yours yourself yourselves""".split()  # noqa: SIM905
)
# ... and the fillers of chat, which carry no fact.
FILLERS = frozenset(
    """hey hi hello oh wow haha yeah yep yay ok okay um uh well just really totally super pretty
    actually basically literally""".split()  # noqa: SIM905
)
_PART = re.compile(r"[a-z0-9]+")
_NEGATIONS = frozenset({"no", "not", "never", "nor", "nothing", "nobody", "none"})


def _keeps(token: str) -> bool:
    low = token.lower()
    if any(ch.isdigit() for ch in low) or "n't" in low or "n\u2019t" in low:
        return True
    parts = _PART.findall(low)
    if any(part in _NEGATIONS for part in parts):
        return True
    return any(len(p) >= 2 and p not in FUNCTION_WORDS and p not in FILLERS for p in parts)


@lru_cache(maxsize=65536)
def compact(text: str) -> str:
    """``text`` without its function words and fillers, sentence ends kept."""
    kept: list[str] = []
    for token in text.split():
        if _keeps(token):
            kept.append(token)
        elif kept and token[-1] in ".!?" and kept[-1][-1] not in ".!?,;:":
            kept[-1] += token[-1]  # "it was so powerful." keeps its full stop on "powerful"
    return " ".join(kept)
