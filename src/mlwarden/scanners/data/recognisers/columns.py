"""Column verdicts: which entity a table column holds, from its name and its values.

The whole column is searched at once: its non-empty values are joined into one string and
each recogniser's cell shape runs over it as a single anchored pattern, so only candidate
cells ever reach Python-level validation. Validation is cached per distinct value and capped
per recogniser (``max_validate``); past the cap the count is extrapolated from the validated
share of the candidates checked.
"""

from __future__ import annotations

import bisect
import functools
import re
from collections.abc import Sequence

from mlwarden.scanners.data.recognisers.base import ColumnVerdict, Recogniser
from mlwarden.scanners.data.recognisers.masking import mask_value
from mlwarden.scanners.data.recognisers.registry import recognisers_for

#: Share of non-empty values that must validate for a verdict without a suggestive name.
THRESHOLD = 0.3
#: Share that suffices when the column name suggests the entity.
HINTED_THRESHOLD = 0.1
#: Mean length and mean word count past which a column is free text, searched cell by cell.
FREE_TEXT_LENGTH = 40
FREE_TEXT_WORDS = 6
EXAMPLES = 3
#: Values looked at first to shortlist the recognisers worth running over the whole column.
SAMPLE = 256
#: Sample share (of candidates that validate) below which a recogniser is not run in full.
SHORTLIST_SHARE = 0.02


@functools.lru_cache(maxsize=256)
def _anchored(shape: re.Pattern[str]) -> re.Pattern[str]:
    return re.compile(rf"^[ \t]*(?:{shape.pattern})[ \t]*$", shape.flags | re.M)


def _is_free_text(values: Sequence[str]) -> bool:
    if not values:
        return False
    sample = values[:: max(1, len(values) // 200)]
    mean_length = sum(len(v) for v in sample) / len(sample)
    mean_words = sum(v.count(" ") + 1 for v in sample) / len(sample)
    return mean_length >= FREE_TEXT_LENGTH and mean_words >= FREE_TEXT_WORDS


def _column_context(recogniser: Recogniser, name: str, candidates: Sequence[str]) -> str:
    prepare = getattr(recogniser, "column_context", None)
    return str(prepare(name, candidates)) if prepare is not None else name


def _shortlist(name: str, cells: list[str], entities: frozenset[str] | None) -> list[Recogniser]:
    # A spread sample tells which recognisers can matter; only those see the whole column.
    step = max(1, len(cells) // SAMPLE)
    sample = cells[::step][:SAMPLE]
    chosen: list[Recogniser] = []
    for recogniser in recognisers_for(entities):
        hint = recogniser.column_hint is not None and recogniser.column_hint.search(name)
        if recogniser.needs_context and not hint:
            continue
        shape = _anchored(recogniser.cell_shape)
        candidates = [c for c in sample if shape.match(c)]
        if not candidates:
            continue
        context = _column_context(recogniser, name, candidates)
        valid = sum(1 for c in candidates if recogniser.validate(c, context) is not None)
        if valid and valid >= SHORTLIST_SHARE * len(sample):
            chosen.append(recogniser)
    return chosen


def classify_column(
    name: str,
    values: Sequence[str | None],
    *,
    entities: frozenset[str] | None = None,
    threshold: float = THRESHOLD,
    max_validate: int | None = 1000,
) -> ColumnVerdict:
    """The entity column ``name`` holds, with the share of its non-empty values that validate.

    A verdict needs ``threshold`` of the non-empty values to validate, or
    :data:`HINTED_THRESHOLD` when the name suggests the entity; recognisers that need context
    (passports, bare national numbers with weak checksums) count only under such a name.
    Long many-word values make the column ``free_text`` (no verdict; search each cell).
    """
    rows = [i for i, v in enumerate(values) if v is not None and v.strip()]
    cells = [values[i].strip().replace("\n", " ") for i in rows]  # type: ignore[union-attr]
    if not cells:
        return ColumnVerdict(name, None, 0.0, 0.0, 0, 0)
    if _is_free_text(cells):
        return ColumnVerdict(name, None, 0.0, 0.0, 0, len(cells), free_text=True)
    joined = "\n".join(cells)
    starts: list[int] = []
    offset = 0
    for cell in cells:
        starts.append(offset)
        offset += len(cell) + 1

    counts: dict[str, float] = {}
    firsts: dict[str, int] = {}
    examples: dict[str, list[str]] = {}
    hinted: set[str] = set()
    for recogniser in _shortlist(name, cells, entities):
        hint = recogniser.column_hint is not None and recogniser.column_hint.search(name)
        candidates = [
            (bisect.bisect_right(starts, m.start()) - 1, m.group().strip())
            for m in _anchored(recogniser.cell_shape).finditer(joined)
        ]
        if not candidates:
            continue
        if hint:
            hinted.update(recogniser.entities)
        context = _column_context(recogniser, name, [c for _, c in candidates[:200]])
        checked = candidates if max_validate is None else candidates[:max_validate]
        verdicts: dict[str, str | None] = {}
        local: dict[str, int] = {}
        for row, cell in checked:
            if cell not in verdicts:
                verdicts[cell] = recogniser.validate(cell, context)
            entity = verdicts[cell]
            if entity is None or (entities is not None and entity not in entities):
                continue
            local[entity] = local.get(entity, 0) + 1
            firsts.setdefault(entity, rows[row])
            shown = examples.setdefault(entity, [])
            if len(shown) < EXAMPLES:
                masked = mask_value(entity, cell)
                if masked not in shown:
                    shown.append(masked)
        scale = len(candidates) / len(checked)
        for entity, count in local.items():
            counts[entity] = counts.get(entity, 0.0) + count * scale

    total = len(cells)
    scores = {e: min(1.0, c / total) for e, c in counts.items()}
    if not scores:
        return ColumnVerdict(name, None, 0.0, 0.0, 0, total)
    best = max(scores, key=lambda e: (scores[e], e in hinted))
    share = scores[best]
    needed = HINTED_THRESHOLD if best in hinted else threshold
    if share < needed:
        return ColumnVerdict(name, None, share, 0.0, 0, total, scores=scores)
    confidence = min(1.0, share + (0.3 if best in hinted else 0.0))
    return ColumnVerdict(
        name,
        best,
        share,
        round(confidence, 3),
        round(counts[best]),
        total,
        tuple(examples.get(best, ())),
        first_row=firsts.get(best),
        scores=scores,
    )
