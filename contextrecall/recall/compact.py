"""Chat lines in fewer tokens: a turn keeps its content words and loses its function words.

"I went to a LGBTQ support group yesterday and it was so powerful." becomes "went LGBTQ
support group yesterday powerful." The speaker is named on the line, so pronouns add little;
negations and numbers always stay, since dropping them would change the meaning.
"""

from __future__ import annotations

import re
from functools import lru_cache

from contextrecall.terms import STOPWORDS

# Function words: the shared stop words less those a line needs to keep its sense ("one" is a
# number; "like", "would", "yes" change what is said; negations are kept before this is asked),
# and the pieces contractions split into ("we're" gives "we" and "re") ...
_MEANINGFUL = frozenset(
    {"also", "get", "got", "like", "lot", "one", "thing", "things", "would", "yes"}
)
FUNCTION_WORDS = (STOPWORDS - _MEANINGFUL) | frozenset(
    """aren couldn didn doesn don hadn hasn haven isn ll mightn mustn needn re shan shouldn us ve
    wasn weren wouldn""".split()  # noqa: SIM905
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
