"""Dates a query names ("on 9 November, 2022", "in January 2024", "in July"), and how close a
memory's date comes to them: a question about a day is about what was said that day."""

from __future__ import annotations

import re
from datetime import date

_MONTH_NAMES = """january february march april may june july august september october
november december""".split()  # noqa: SIM905
# A month by its name or its first three letters ("Aug 10", "Sept. 3"); May only as a name
# ("you may 2x it" names no date).
_SPELLED = {"may": "(?-i:May)", "september": "sep(?:t(?:ember)?)?"}
_MONTH = "|".join(_SPELLED.get(name, f"{name[:3]}(?:{name[3:]})?") for name in _MONTH_NAMES)
_MONTH = rf"(?:{_MONTH})\.?"
_DAY_MONTH_YEAR = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH}),?\s+(\d{{4}})\b", re.IGNORECASE
)
_MONTH_DAY_YEAR = re.compile(
    rf"\b({_MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.IGNORECASE
)
# The day of a month without its year ("on Feb 19", "the 22nd of July"): a coding session's
# questions name the day and leave the year, which is the memory's own.
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH})(?!\w)", re.I)
_MONTH_DAY = re.compile(rf"\b({_MONTH})\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!:)", re.IGNORECASE)
_MONTH_YEAR = re.compile(rf"\b({_MONTH}),?\s+(\d{{4}})\b", re.IGNORECASE)
_MONTH_ALONE = re.compile(rf"\b(?:in|during|of|since|until)\s+({_MONTH})(?!\w)", re.IGNORECASE)
_ISO_DAY = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


def _month(name: str) -> int:
    return _MONTH_NAMES.index(next(n for n in _MONTH_NAMES if n[:3] == name[:3].lower())) + 1


SAME_DAY, SAME_WEEK, SAME_MONTH = 1.0, 0.5, 0.5


class NamedDate:
    """A date as precise as the query gave it: year and day may be missing. (A plain class:
    ``typing.NamedTuple`` would cost the prompt hook its import.)"""

    __slots__ = ("day", "month", "year")

    def __init__(self, year: int | None, month: int, day: int | None) -> None:
        self.year, self.month, self.day = year, month, day

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NamedDate) and (self.year, self.month, self.day) == (
            other.year,
            other.month,
            other.day,
        )

    def __hash__(self) -> int:
        return hash((self.year, self.month, self.day))

    def __repr__(self) -> str:
        return f"NamedDate({self.year}, {self.month}, {self.day})"


def named_dates(query: str) -> list[NamedDate]:
    """The dates ``query`` names, most precise form first; [] when it names none."""
    found = [NamedDate(int(y), _month(m), int(d)) for d, m, y in _DAY_MONTH_YEAR.findall(query)]
    found += [NamedDate(int(y), _month(m), int(d)) for m, d, y in _MONTH_DAY_YEAR.findall(query)]
    found += [NamedDate(int(y), int(m), int(d)) for y, m, d in _ISO_DAY.findall(query)]
    if not found:
        found = [NamedDate(None, _month(m), int(d)) for m, d in _MONTH_DAY.findall(query)]
        found += [NamedDate(None, _month(m), int(d)) for d, m in _DAY_MONTH.findall(query)]
    if not found:
        found = [NamedDate(int(y), _month(m), None) for m, y in _MONTH_YEAR.findall(query)]
    if not found:
        found = [NamedDate(None, _month(m), None) for m in _MONTH_ALONE.findall(query)]
    return [d for d in found if 1 <= d.month <= 12 and (d.day is None or 1 <= d.day <= 31)]


def _day(when: str) -> date | None:
    try:
        return date(int(when[:4]), int(when[5:7]), int(when[8:10]))
    except ValueError:
        return None


def date_match(dates: list[NamedDate], when: str | None) -> float:
    """How well a memory dated ``when`` (ISO) meets the named dates: 1 for the same day,
    0.5 within a week or in the same month, 0 otherwise."""
    if not dates or not when:
        return 0.0
    day = _day(when)
    if day is None:
        return 0.0
    best = 0.0
    for named in dates:
        if named.day is not None:
            try:  # a day named without its year: in the memory's year
                gap = abs((day - date(named.year or day.year, named.month, named.day)).days)
            except ValueError:
                continue
            score = SAME_DAY if gap == 0 else SAME_WEEK if gap <= 7 else 0.0
        elif named.month == day.month and named.year in (None, day.year):
            score = SAME_MONTH
        else:
            score = 0.0
        best = max(best, score)
    return best
