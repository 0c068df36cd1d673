"""Entities in free text: every recogniser's matches, overlaps resolved."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence

from mlwarden.scanners.data.recognisers.base import ADDRESS, CELL_BARRIER, PERSON, EntityMatch
from mlwarden.scanners.data.recognisers.registry import recognisers_for


def _rank(match: EntityMatch) -> tuple[float, bool, int, int]:
    return (-match.score, not match.validated, match.start - match.end, match.start)


def resolve_overlaps(matches: Iterable[EntityMatch]) -> list[EntityMatch]:
    """Non-overlapping matches in order of position; of two overlapping, the higher score
    (then the validated, then the longer) wins."""
    ordered = sorted(matches, key=lambda m: (m.start, m.end))
    kept: list[EntityMatch] = []
    cluster: list[EntityMatch] = []
    cluster_end = -1
    # Sweep clusters of mutually reachable overlaps; only within one is the ranking needed.
    for match in [*ordered, None]:
        if match is not None and match.start < cluster_end:
            cluster.append(match)
            cluster_end = max(cluster_end, match.end)
            continue
        chosen: list[EntityMatch] = []
        # A street named after a person ("Kurt-Zahn-Gasse 8") is an address, not a name.
        addresses = [m for m in cluster if m.entity == ADDRESS]
        if addresses:
            cluster = [
                m
                for m in cluster
                if m.entity != PERSON
                or not any(a.start <= m.start and m.end <= a.end for a in addresses)
            ]
        for candidate in sorted(cluster, key=_rank):
            if all(candidate.end <= k.start or candidate.start >= k.end for k in chosen):
                chosen.append(candidate)
        kept.extend(sorted(chosen, key=lambda m: (m.start, m.end)))
        if match is not None:
            cluster, cluster_end = [match], match.end
    return kept


def find_entities(
    text: str,
    *,
    context: str = "",
    entities: frozenset[str] | None = None,
    min_score: float = 0.0,
) -> list[EntityMatch]:
    """Every entity in ``text``, in order of position, without overlaps.

    ``context`` is a column name or label the text sits under (``"passport_no"``); it lets
    context-dependent entities fire. ``entities`` restricts the search; ``min_score`` drops
    weaker matches.
    """
    found: list[EntityMatch] = []
    for recogniser in recognisers_for(entities):
        found.extend(
            m
            for m in recogniser.find(text, context)
            if m.score >= min_score and (entities is None or m.entity in entities)
        )
    return resolve_overlaps(found)


def find_entities_in_cells(
    texts: Sequence[str | None],
    *,
    context: str = "",
    entities: frozenset[str] | None = None,
    min_score: float = 0.0,
) -> list[list[EntityMatch]]:
    """:func:`find_entities` for every cell of a free-text column, searched as one string.

    Offsets in each result are relative to its own cell. Joining the cells lets every pattern
    run once per column instead of once per cell; context windows stop at cell boundaries.
    """
    # Repeated cells (templates, boilerplate) are searched once.
    distinct: dict[str, int] = {}
    slots = [
        distinct.setdefault("" if t is None else t.replace("\x1e", " "), len(distinct))
        for t in texts
    ]
    cells = list(distinct)
    joined = CELL_BARRIER.join(cells)
    starts: list[int] = []
    offset = 0
    for cell in cells:
        starts.append(offset)
        offset += len(cell) + len(CELL_BARRIER)
    per_cell: list[list[EntityMatch]] = [[] for _ in cells]
    for match in find_entities(joined, context=context, entities=entities, min_score=min_score):
        row = bisect.bisect_right(starts, match.start) - 1
        base = starts[row]
        if match.end > base + len(cells[row]):
            continue  # a match across a cell boundary is an artefact of joining
        per_cell[row].append(
            EntityMatch(match.entity, match.start - base, match.end - base, match.score,
                        match.validated)
        )  # fmt: skip
    return [list(per_cell[slot]) for slot in slots]
