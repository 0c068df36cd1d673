"""Offsets in a text as the 1-based lines and columns that findings report."""

from __future__ import annotations

import re
from bisect import bisect_right


class LineIndex:
    """Maps character offsets of a text to 1-based (line, column) pairs, and lines to offsets."""

    def __init__(self, text: str) -> None:
        self._starts = [0]
        self._starts.extend(m.end() for m in re.finditer("\n", text))

    def at(self, offset: int) -> tuple[int, int]:
        """The 1-based line and column of ``offset`` (a negative offset is the first)."""
        line = bisect_right(self._starts, max(offset, 0))
        return line, offset - self._starts[line - 1] + 1

    def line_start(self, line: int) -> int:
        """The offset where a 1-based line starts; a line past the end is the last one."""
        return self._starts[min(line, len(self._starts)) - 1]
