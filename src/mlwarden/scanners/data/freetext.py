"""Personal data in free text: notebook outputs, free-text columns, plain-text corpora.

:func:`scan_text_for_pii` is the one entry point for any text (the notebook scanner uses it);
:func:`credible` is the bar a match in free text must clear to be reported, since free text
has no column name to vouch for what a value is. :func:`masked_name` keeps personal values
out of column names shown in a report.

Plain-text files (``Kind.TEXT``) are searched only when they look like a corpus rather than
documentation: a ``.txt`` file under a data-like directory (``data/``, ``corpus/``,
``train/``...). READMEs, licences, configuration and notes name their authors and
maintainers by design; reporting those would bury the findings that matter.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlwarden.scanners.data.recognisers import EntityMatch
    from mlwarden.scanners.interface import Artifact

#: A match in free text counts when a validator confirmed it, or when it scores this high.
MIN_FREE_TEXT_SCORE = 0.6
#: Directory names that mark a plain-text file as data rather than documentation.
DATA_DIRECTORIES = frozenset(
    {
        "data",
        "dataset",
        "datasets",
        "corpus",
        "corpora",
        "raw",
        "processed",
        "train",
        "training",
        "valid",
        "validation",
        "dev",
        "test",
        "eval",
        "evaluation",
        "samples",
        "transcripts",
    }
)
#: Suffixes of plain-text corpora.
CORPUS_SUFFIXES = (".txt", ".text")
#: Lines of a plain-text file searched at once.
TEXT_BATCH_LINES = 8_192
TEXT_BATCH_BYTES = 4 << 20


def credible(match: EntityMatch) -> bool:
    """Whether a match in free text is strong enough to report."""
    return match.validated or match.score >= MIN_FREE_TEXT_SCORE


def scan_text_for_pii(text: str, *, context: str = "") -> list[EntityMatch]:
    """The personal data in ``text`` worth reporting, in order of position, without overlaps.

    ``context`` is a label the text sits under (an output name, a column name). Offsets index
    ``text``; callers show values only through
    :func:`~mlwarden.scanners.data.recognisers.mask_value`.
    """
    from mlwarden.scanners.data.recognisers import find_entities

    return [m for m in find_entities(text, context=context) if credible(m)]


def cells_for_pii(cells: list[str | None], *, context: str = "") -> list[list[EntityMatch]]:
    """:func:`scan_text_for_pii` for every cell of a free-text column, in one pass."""
    from mlwarden.scanners.data.recognisers import find_entities_in_cells

    found = find_entities_in_cells(cells, context=context)
    return [[m for m in matches if credible(m)] for matches in found]


def is_personal_value(text: str) -> bool:
    """Whether a short text (a header cell) is itself a personal value, not a name."""
    if len(text) > 256:
        return False
    return any(m.end - m.start >= 0.6 * len(text) for m in scan_text_for_pii(text, context=""))


@functools.lru_cache(maxsize=4096)
def masked_name(name: str) -> str:
    """A column name with any personal value in it masked (JSON keys can be data too)."""
    from mlwarden.scanners.data.recognisers import mask_value

    matches = scan_text_for_pii(name)
    if not matches:
        return name
    parts: list[str] = []
    last = 0
    for match in matches:
        parts += [name[last : match.start], mask_value(match.entity, name[match.start : match.end])]
        last = match.end
    parts.append(name[last:])
    return "".join(parts)


def is_corpus_text(artifact: Artifact) -> bool:
    """Whether a plain-text artifact is a corpus to search (see the module's docstring)."""
    full = (artifact.path + "/" + (artifact.member or "")).replace("\\", "/").replace("!", "/")
    parts = [p.lower() for p in re.split(r"/+", full) if p]
    if not parts or not parts[-1].endswith(CORPUS_SUFFIXES):
        return False
    return any(p in DATA_DIRECTORIES for p in parts[:-1])


def text_batches(artifact: Artifact, max_line: int) -> Iterator[tuple[list[int], list[str | None]]]:
    """A text file's lines in bounded batches: their 1-based line numbers, and their text.

    A line longer than ``max_line`` bytes is searched in pieces of that size, each under the
    line's number.
    """
    line_number = 1
    with artifact.open() as stream:
        numbers: list[int] = []
        lines: list[str | None] = []
        size = 0
        while raw := stream.readline(max_line):
            numbers.append(line_number)
            lines.append(raw.decode("utf-8", errors="replace").rstrip("\r\n"))
            size += len(raw)
            if raw.endswith(b"\n"):
                line_number += 1
            if len(lines) >= TEXT_BATCH_LINES or size >= TEXT_BATCH_BYTES:
                yield numbers, lines
                numbers, lines, size = [], [], 0
        if lines:
            yield numbers, lines


__all__ = [
    "cells_for_pii",
    "credible",
    "is_corpus_text",
    "is_personal_value",
    "masked_name",
    "scan_text_for_pii",
    "text_batches",
]
