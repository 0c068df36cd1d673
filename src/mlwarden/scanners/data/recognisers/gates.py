"""Cheap gates that keep slow patterns off most of a text.

A whole free-text column is searched as one long string, and a regular expression that must
try every position of it costs tens of milliseconds however few matches it finds. The gates
here find, with ``str.find`` (a C loop over the bytes), the places where a pattern can match
at all: a context word (``SSN``, ``born``), an ``@``, a ``://``. The exact pattern then runs
only in the regions around them, and yields the same matches it would over the whole text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Sequence

#: Characters that ``re.IGNORECASE`` matches to an ASCII letter but ``str.lower`` does not
#: map to it (dotless i, dotted capital I, long s): with any of them a lower-cased copy is not
#: a faithful gate, and callers search the whole text instead.
_FOLDING_TRAPS = ("\u0131", "\u0130", "\u017f")


@functools.lru_cache(maxsize=4)
def lowered(text: str) -> str | None:
    """``text`` lower-cased with every offset unchanged, or None when that is not possible.

    Cached: the recognisers of one column share it (a string's hash is computed once).
    """
    if any(trap in text for trap in _FOLDING_TRAPS):
        return None
    low = text.lower()
    return low if len(low) == len(text) else None


def literal_positions(haystack: str, literals: Iterable[str]) -> list[int]:
    """Every offset of every literal in ``haystack`` (overlapping ones too), sorted."""
    found: list[int] = []
    for literal in literals:
        position = haystack.find(literal)
        while position >= 0:
            found.append(position)
            position = haystack.find(literal, position + 1)
    found.sort()
    return found


def merged_regions(
    positions: Iterable[int], before: int, after: int, length: int
) -> list[tuple[int, int]]:
    """``[p - before, p + after)`` around every sorted position, clipped and merged."""
    regions: list[tuple[int, int]] = []
    for position in positions:
        low, high = max(0, position - before), min(length, position + after)
        if regions and low <= regions[-1][1]:
            if high > regions[-1][1]:
                regions[-1] = (regions[-1][0], high)
        else:
            regions.append((low, high))
    return regions


def matches_in_regions(
    pattern: re.Pattern[str], text: str, regions: Iterable[tuple[int, int]], margin: int
) -> Iterator[re.Match[str]]:
    """Matches of ``pattern`` that start inside one of ``regions``.

    The search of a region reads ``margin`` characters past its end, so that a match that
    starts inside (at most ``margin`` long, look-ahead included) sees the text that follows
    it exactly as a search of the whole text would. Callers choose regions so that no match of
    the whole text can start before a region and run into it.
    """
    for low, high in regions:
        for m in pattern.finditer(text, low, min(len(text), high + margin)):
            if m.start() >= high:
                break
            yield m


def token_regions(text: str, marker: str) -> list[tuple[int, int]]:
    """Regions around every occurrence of ``marker`` that run from a space or line break
    before it to the next one after it (or the ends of ``text``), merged.

    For an entity that never contains white space (an e-mail address, a URL) these hold every
    place it can be; a search that starts just after white space is in step with a search of
    the whole text (no earlier match can reach past white space), and one that stops at white
    space sees the same end as it would.
    """
    regions: list[tuple[int, int]] = []
    end = len(text)
    position = text.find(marker)
    while position >= 0:
        low = max(text.rfind(" ", 0, position), text.rfind("\n", 0, position)) + 1
        high = min(
            _found_or(text.find(" ", position), end), _found_or(text.find("\n", position), end)
        )
        if regions and low <= regions[-1][1]:
            regions[-1] = (regions[-1][0], max(high, regions[-1][1]))
        else:
            regions.append((low, high))
        position = text.find(marker, max(high, position + 1))
    return regions


def _found_or(position: int, default: int) -> int:
    return default if position < 0 else position


def lower_case_words(alternatives: Sequence[str]) -> re.Pattern[str]:
    r"""``\b(?:alt1|alt2|...)\b`` for a lower-cased text, fast to search.

    Every alternative starts with a plain letter. They are grouped by that letter, each group
    checking the word boundary only after its letter: the engine then skips straight to the
    letters that can start a word, where a leading ``\b`` would have it stop at every
    position. Alternatives with the same first letter keep their order, so the leftmost match
    is the one ``\b(?:alt1|alt2|...)\b`` finds.
    """
    groups: dict[str, list[str]] = {}
    for alternative in alternatives:
        groups.setdefault(alternative[0], []).append(alternative[1:])
    branches = [
        f"{re.escape(first)}(?<!\\w.)(?:{'|'.join(tails)})" for first, tails in groups.items()
    ]
    return re.compile(f"(?:{'|'.join(branches)})\\b")
