"""Dates a query names ("on 9 November, 2022", "in January 2024", "in July"), and how close a
memory's date comes to them: a question about a day is about what was said that day."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

_MONTH_NAMES = """january february march april may june july august september october
november december""".split()  # noqa: SIM905
# A query that may name a date holds a month's first three letters, or digits and a dash (an
# ISO day). Only such a query pays for compiling the patterns below (about 1.5 ms of a prompt
# hook otherwise); the test itself compiles nothing.
_ABBREVIATIONS = tuple(name[:3] for name in _MONTH_NAMES if name != "may")


def _may_name_a_date(query: str) -> bool:
    lowered = query.lower()
    return (
        any(abbreviation in lowered for abbreviation in _ABBREVIATIONS)
        or "May" in query
        or ("-" in query and any(char.isdigit() for char in query))
    )


class _Patterns:
    """The date patterns, compiled once a query may name a date."""

    def __init__(self) -> None:
        # A month by its name or its first three letters ("Aug 10", "Sept. 3"); May only as
        # a name ("you may 2x it" names no date).
        spelled = {"may": "(?-i:May)", "september": "sep(?:t(?:ember)?)?"}
        month = "|".join(spelled.get(n, f"{n[:3]}(?:{n[3:]})?") for n in _MONTH_NAMES)
        month = rf"(?:{month})\.?"
        day, nth = r"(\d{1,2})", r"(?:st|nd|rd|th)?"
        ignoring = re.IGNORECASE
        self.day_month_year = re.compile(rf"\b{day}{nth}\s+({month}),?\s+(\d{{4}})\b", ignoring)
        self.month_day_year = re.compile(rf"\b({month})\s+{day}{nth},?\s+(\d{{4}})\b", ignoring)
        # The day of a month without its year ("on Feb 19", "the 22nd of July"): a coding
        # session's questions name the day and leave the year, which is the memory's own.
        self.day_month = re.compile(rf"\b{day}{nth}\s+(?:of\s+)?({month})(?!\w)", ignoring)
        self.month_day = re.compile(rf"\b({month})\s+{day}{nth}\b(?!:)", ignoring)
        self.month_year = re.compile(rf"\b({month}),?\s+(\d{{4}})\b", ignoring)
        self.month_alone = re.compile(
            rf"\b(?:in|during|of|since|until)\s+({month})(?!\w)", ignoring
        )
        self.iso_day = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")


@lru_cache(maxsize=1)
def _patterns() -> _Patterns:
    return _Patterns()


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
    if not _may_name_a_date(query):
        return []
    p = _patterns()
    found = [NamedDate(int(y), _month(m), int(d)) for d, m, y in p.day_month_year.findall(query)]
    found += [NamedDate(int(y), _month(m), int(d)) for m, d, y in p.month_day_year.findall(query)]
    found += [NamedDate(int(y), int(m), int(d)) for y, m, d in p.iso_day.findall(query)]
    if not found:
        found = [NamedDate(None, _month(m), int(d)) for m, d in p.month_day.findall(query)]
        found += [NamedDate(None, _month(m), int(d)) for d, m in p.day_month.findall(query)]
    if not found:
        found = [NamedDate(int(y), _month(m), None) for m, y in p.month_year.findall(query)]
    if not found:
        found = [NamedDate(None, _month(m), None) for m in p.month_alone.findall(query)]
    return [d for d in found if 1 <= d.month <= 12 and (d.day is None or 1 <= d.day <= 31)]


def _day(when: str) -> date | None:
    try:
        return date(int(when[:4]), int(when[5:7]), int(when[8:10]))
    except ValueError:
        return None


def _days(years: list[int], month: int, day: int) -> list[date]:
    """The day ``month``/``day`` of each of ``years`` that has it (a 29 February in leap years)."""
    found = []
    for year in years:
        try:
            found.append(date(year, month, day))
        except ValueError:  # (contextlib.suppress would cost the prompt hook its import)
            continue
    return found


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
            # a day named without its year: the nearest of its days around the memory's own
            years = [named.year] if named.year else [day.year - 1, day.year, day.year + 1]
            gaps = [abs((day - when).days) for when in _days(years, named.month, named.day)]
            if not gaps:
                continue
            gap = min(gaps)
            score = SAME_DAY if gap == 0 else SAME_WEEK if gap <= 7 else 0.0
        elif named.month == day.month and named.year in (None, day.year):
            score = SAME_MONTH
        else:
            score = 0.0
        best = max(best, score)
    return best
