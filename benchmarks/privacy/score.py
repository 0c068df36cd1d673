"""Precision, recall and F1 per entity: detections against the labelled spans.

Matching rule (the same for every tool):

1. A tool's entity names are mapped onto this table's (``MAPS``); names with no counterpart
   (Presidio's URL or US_DRIVER_LICENSE, scrubadub's url) are left out of the scores and
   counted apart as "other" detections. mlwarden's own names are used as they are.
2. Within one cell, a tool's detections of the same entity that overlap each other are
   merged into one span (Presidio may return several overlapping results for one value).
3. A detection matches a labelled span when both are in the same cell, have the same entity
   and share at least one character; each side matches at most once (largest overlap first).
   Matched: true positive. A label left over: false negative. A detection left over is a
   false positive, unless it overlaps a label of its entity that another detection already
   matched (a fragment: a name found as two pieces counts once, and is not also an error).
   ``strict`` also counts true positives whose boundaries are exact (ignoring surrounding
   spaces and final punctuation).

A score threshold can be applied first (``min_score``): Presidio reports many results at
0.01-0.4, and its users may filter them.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

PRESIDIO = {
    "EMAIL_ADDRESS": "EMAIL", "PHONE_NUMBER": "PHONE", "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN", "US_SSN": "US_SSN", "UK_NINO": "UK_NINO", "IP_ADDRESS": "IP_ADDRESS",
    "PERSON": "PERSON", "LOCATION": "ADDRESS", "DATE_TIME": "DATE_OF_BIRTH",
    "IT_FISCAL_CODE": "IT_FISCAL_CODE", "ES_NIF": "ES_NIF", "ES_NIE": "ES_NIE",
    "DE_TAX_ID": "DE_TAX_ID", "CRYPTO": "CRYPTO_WALLET", "MAC_ADDRESS": "MAC_ADDRESS",
}  # fmt: skip
SCRUBADUB = {
    "email": "EMAIL", "phone": "PHONE", "credit_card": "CREDIT_CARD",
    "social_security_number": "US_SSN", "national_insurance_number": "UK_NINO",
    "date_of_birth": "DATE_OF_BIRTH", "name": "PERSON",
}  # fmt: skip
MAPS: dict[str, dict[str, str] | None] = {
    "mlwarden": None,
    "presidio-patterns": PRESIDIO,
    "presidio-spacy": PRESIDIO,
    "scrubadub": SCRUBADUB,
}
_PATTERN_ENTITIES = {
    "EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "UK_NINO", "IP_ADDRESS",
    "IT_FISCAL_CODE", "ES_NIF", "ES_NIE", "DE_TAX_ID", "DATE_OF_BIRTH",
}  # fmt: skip
#: Entities of this table each peer has a recogniser for (as configured in cells.py).
SUPPORTS = {
    "presidio-patterns": frozenset(_PATTERN_ENTITIES),
    "presidio-spacy": frozenset(_PATTERN_ENTITIES | {"PERSON", "ADDRESS"}),
    "scrubadub": frozenset({"EMAIL", "PHONE", "CREDIT_CARD", "US_SSN", "UK_NINO",
                            "DATE_OF_BIRTH"}),
}  # fmt: skip
#: Peer entities whose meaning differs from ours: Presidio's DATE_TIME is any date or time
#: (ours: a date of birth), its LOCATION any place name from NER (ours: a postal address).
APPROXIMATE = {("presidio-patterns", "DATE_OF_BIRTH"), ("presidio-spacy", "DATE_OF_BIRTH"),
               ("presidio-spacy", "ADDRESS")}  # fmt: skip
EXAMPLES = 6
TRIM = " \t.,;:)("


def _jsonl(path: Path, limit: int) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for index, line in enumerate(handle):
            if limit and index >= limit:
                return
            yield json.loads(line)


def _merge(spans: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    merged: list[tuple[int, int, float]] = []
    for start, end, score in sorted(spans):
        if merged and start < merged[-1][1]:
            s, e, sc = merged[-1]
            merged[-1] = (s, max(e, end), max(sc, score))
        else:
            merged.append((start, end, score))
    return merged


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in TRIM:
        start += 1
    while end > start and text[end - 1] in TRIM:
        end -= 1
    return start, end


def _match(
    truth: list[tuple[int, int]], found: list[tuple[int, int, float]]
) -> tuple[list[tuple[int, int, int, int]], list[int], list[int]]:
    """Pairs (truth span, detection), unmatched truth indexes, unmatched detection indexes."""
    candidates = []
    for i, (ts, te) in enumerate(truth):
        for j, (fs, fe, _) in enumerate(found):
            overlap = min(te, fe) - max(ts, fs)
            if overlap > 0:
                candidates.append((overlap, i, j))
    used_t: set[int] = set()
    used_f: set[int] = set()
    pairs = []
    for _, i, j in sorted(candidates, reverse=True):
        if i in used_t or j in used_f:
            continue
        used_t.add(i)
        used_f.add(j)
        pairs.append((*truth[i], found[j][0], found[j][1]))
    return (
        pairs,
        [i for i in range(len(truth)) if i not in used_t],
        [j for j in range(len(found)) if j not in used_f],
    )


def _example(text: str, column: str, start: int, end: int, entity: str) -> dict[str, Any]:
    left = max(0, start - 30)
    return {
        "column": column,
        "entity": entity,
        "value": text[start:end],
        "context": text[left : end + 30] if column == "notes" else text,
    }


def score(
    tool: str,
    table_cells: list[dict[str, str]],
    labels: Path,
    detections: Path,
    *,
    rows: int = 0,
    min_score: float = 0.0,
) -> dict[str, Any]:
    """Scores of ``tool`` over the first ``rows`` rows (0: every row both files have)."""
    mapping = MAPS[tool]
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    other: Counter[str] = Counter()
    misses: dict[str, list[dict[str, Any]]] = defaultdict(list)
    false_pos: dict[str, list[dict[str, Any]]] = defaultdict(list)
    fp_columns: dict[str, Counter[str]] = defaultdict(Counter)
    fn_columns: dict[str, Counter[str]] = defaultdict(Counter)
    scored_rows = 0
    for label, found in zip(_jsonl(labels, rows), _jsonl(detections, rows), strict=False):
        assert label["row"] == found["row"]
        scored_rows += 1
        cells = table_cells[label["row"]]
        for column, text in cells.items():
            truth: dict[str, list[tuple[int, int]]] = defaultdict(list)
            for entity, start, end in label["spans"].get(column, []):
                truth[entity].append((start, end))
            predicted: dict[str, list[tuple[int, int, float]]] = defaultdict(list)
            for entity, start, end, value in found["found"].get(column, []):
                if value < min_score:
                    continue
                ours = entity if mapping is None else mapping.get(entity)
                if ours is None:
                    other[entity] += 1
                    continue
                predicted[ours].append((start, end, value))
            for entity in set(truth) | set(predicted):
                spans = truth.get(entity, [])
                hits = _merge(predicted.get(entity, []))
                pairs, lost, extra = _match(spans, hits)
                tally = counts[entity]
                tally["tp"] += len(pairs)
                tally["fn"] += len(lost)
                fragments = [
                    j for j in extra
                    if any(min(te, hits[j][1]) > max(ts, hits[j][0]) for ts, te in spans)
                ]  # fmt: skip
                extra = [j for j in extra if j not in fragments]
                tally["fp"] += len(extra)
                tally["fragments"] += len(fragments)
                tally["strict"] += sum(
                    _trimmed(text, ts, te) == _trimmed(text, fs, fe) for ts, te, fs, fe in pairs
                )
                for i in lost:
                    fn_columns[entity][column] += 1
                    if len(misses[entity]) < EXAMPLES * 4:
                        misses[entity].append(_example(text, column, *spans[i], entity))
                for j in extra:
                    fp_columns[entity][column] += 1
                    if len(false_pos[entity]) < EXAMPLES * 4:
                        false_pos[entity].append(_example(text, column, *hits[j][:2], entity))
    entities = {}
    for entity, tally in sorted(counts.items()):
        tp, fp, fn = tally["tp"], tally["fp"], tally["fn"]
        precision = tp / (tp + fp) if tp + fp else None
        recall = tp / (tp + fn) if tp + fn else None
        f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        entities[entity] = {
            "support": tp + fn, "tp": tp, "fp": fp, "fn": fn, "strict_tp": tally["strict"],
            "fragments": tally["fragments"],
            "precision": precision, "recall": recall, "f1": f1,
            "fp_columns": dict(fp_columns[entity].most_common()),
            "fn_columns": dict(fn_columns[entity].most_common()),
            "misses": _spread(misses[entity]), "false_positives": _spread(false_pos[entity]),
        }  # fmt: skip
    return {
        "tool": tool,
        "rows": scored_rows,
        "min_score": min_score,
        "entities": entities,
        "other": dict(other.most_common()),
    }


def _spread(examples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Up to EXAMPLES examples, one per column first, so one column does not fill the list."""
    chosen: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in examples:
        if item["column"] not in seen:
            seen.add(item["column"])
            chosen.append(item)
    for item in examples:
        if len(chosen) >= EXAMPLES:
            break
        if item not in chosen:
            chosen.append(item)
    return chosen[:EXAMPLES]


def read_cells(table: Path) -> list[dict[str, str]]:
    """Every row of the table as ``{column: text}`` (empty cells left out)."""
    import csv
    import sys

    csv.field_size_limit(sys.maxsize)
    with table.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        return [{c: t for c, t in zip(header, row, strict=True) if t} for row in reader]
