"""Scoring each tool's hits against the corpus annotations, per rule family.

- mlwarden: exact ``(file, cell, line, rule)`` comparison, both directions, active and
  inline-suppressed findings separately (the same comparison as the tests' harness).
- Peers (their own rule ids): an expectation is a true positive when the peer reports anything
  whose line range covers the expected line; a peer finding is a false positive when its range
  covers no annotated line (annotated ``# ok`` or not annotated at all). Lines annotated
  ``# suppressed`` are left out for peers (the code there is unsafe; mlwarden was told to hide
  it), and peers read no notebooks, so notebook expectations are their misses.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from corpus import FAMILIES, Expectation, FixtureFile, family_of, file_family
from tools import Hit, ToolRun


def _empty() -> dict[str, Any]:
    return {"expected": 0, "tp": 0, "fp": 0, "fn": 0, "rules": Counter(), "fp_rules": Counter()}


def _expectation_json(e: Expectation) -> dict[str, Any]:
    return {"path": e.path, "cell": e.cell, "line": e.line, "rule": e.rule}


def _hit_json(h: Hit) -> dict[str, Any]:
    return {"path": h.path, "cell": h.cell, "line": h.start, "rule": h.rule, "message": h.message}


def _finalise(families: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out = {}
    for name in FAMILIES:
        if name in families:
            row = families[name]
            row["rules"] = dict(row["rules"].most_common())
            row["fp_rules"] = dict(row["fp_rules"].most_common())
            out[name] = row
    return out


def score_mlwarden(files: list[FixtureFile], run: ToolRun) -> dict[str, Any]:
    """Exact comparison of mlwarden's findings with the annotations."""
    families: dict[str, dict[str, Any]] = defaultdict(_empty)
    corpus = {f.path for f in files}
    want = {
        (e.path, e.cell, e.line, e.rule, e.suppressed): e for f in files for e in f.expectations
    }
    got: dict[tuple[str, int | None, int, str, bool], Hit] = {}
    for hit in run.hits:
        got.setdefault((hit.path, hit.cell, hit.start, hit.rule, hit.suppressed), hit)
    missed, extra = [], []
    suppressed_expected = suppressed_found = 0
    for key, e in sorted(want.items(), key=lambda item: item[1]):
        row = families[family_of(e.rule)]
        if e.suppressed:
            suppressed_expected += 1
            suppressed_found += key in got
            if key not in got:
                missed.append({**_expectation_json(e), "suppressed": True})
            continue
        row["expected"] += 1
        if key in got:
            row["tp"] += 1
            row["rules"][e.rule] += 1
        else:
            row["fn"] += 1
            missed.append(_expectation_json(e))
    for key, hit in sorted(
        got.items(), key=lambda item: (item[0][0], item[0][1] or -1, item[0][2])
    ):
        if key in want:
            continue
        row = families[family_of(hit.rule)]
        row["fp"] += 1
        row["fp_rules"][hit.rule] += 1
        extra.append(
            {**_hit_json(hit), "suppressed": hit.suppressed, "in_corpus": hit.path in corpus}
        )
    return {
        "families": _finalise(families),
        "missed": missed,
        "false_positives": extra,
        "suppressed": {"expected": suppressed_expected, "found": suppressed_found},
    }


def _covers(hit: Hit, cell: int | None, line: int) -> bool:
    return hit.cell == cell and hit.start <= line <= hit.end


def score_peer(files: list[FixtureFile], run: ToolRun) -> dict[str, Any]:
    """Line-level comparison of a peer's findings with the annotations."""
    families: dict[str, dict[str, Any]] = defaultdict(_empty)
    by_path: dict[str, list[Hit]] = defaultdict(list)
    for hit in run.hits:
        by_path[hit.path].append(hit)
    fixtures = {f.path: f for f in files}
    missed_by_kind: Counter[str] = Counter()
    for fixture in files:
        hits = by_path.get(fixture.path, [])
        for e in fixture.expectations:
            if e.suppressed:
                continue
            row = families[family_of(e.rule)]
            row["expected"] += 1
            matched = [h for h in hits if _covers(h, e.cell, e.line)]
            if matched:
                row["tp"] += 1
                row["rules"].update({h.rule for h in matched})
            else:
                row["fn"] += 1
                missed_by_kind[fixture.kind] += 1
    false_positives = []
    on_ok = 0
    for path, hits in by_path.items():
        found = fixtures.get(path)
        for hit in hits:
            annotated = found is not None and any(
                e.cell == hit.cell and hit.start <= e.line <= hit.end for e in found.expectations
            )
            if annotated:
                continue
            family = file_family(found) if found else "other"
            families[family]["fp"] += 1
            families[family]["fp_rules"][hit.rule] += 1
            ok = found is not None and any(
                (hit.cell, n) in found.ok_lines for n in range(hit.start, hit.end + 1)
            )
            on_ok += ok
            false_positives.append({**_hit_json(hit), "on_ok_line": ok})
    return {
        "families": _finalise(families),
        "false_positives": false_positives,
        "false_positives_on_ok_lines": on_ok,
        "missed_by_kind": dict(missed_by_kind),
    }


def totals(families: dict[str, Any]) -> dict[str, int]:
    """Sums over the families."""
    return {k: sum(row[k] for row in families.values()) for k in ("expected", "tp", "fp", "fn")}
