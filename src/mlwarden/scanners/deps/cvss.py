"""Severity of a vulnerability from its CVSS vectors.

CVSS v3.0 and v3.1 base scores are computed here from the formula of the FIRST specification
(section 7 of CVSS v3.1): it is short, and compiling a whole advisory database scores thousands
of vectors. CVSS v4.0 and v2 scores come from the ``cvss`` package, which carries the lookup
tables the v4.0 specification defines.

Scores map to mlwarden severities with the qualitative scale of the specification: 0.0 none
(``info``), 0.1-3.9 ``low``, 4.0-6.9 ``medium``, 7.0-8.9 ``high``, 9.0-10.0 ``critical``.
An advisory without a usable vector gets :data:`DEFAULT_SEVERITY` (``medium``), and its
:class:`SeverityAssessment` says so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from mlwarden.findings import Severity

#: Severity of a vulnerability whose advisory carries no usable CVSS vector. Medium, because a
#: known vulnerability is worth fixing, but without a score it must not fail a build that only
#: fails on ``high``.
DEFAULT_SEVERITY = Severity.MEDIUM

_V3_WEIGHTS: dict[str, dict[str, float]] = {
    "AV": {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2},
    "AC": {"L": 0.77, "H": 0.44},
    "UI": {"N": 0.85, "R": 0.62},
    "C": {"H": 0.56, "L": 0.22, "N": 0.0},
    "I": {"H": 0.56, "L": 0.22, "N": 0.0},
    "A": {"H": 0.56, "L": 0.22, "N": 0.0},
}
# Privileges Required weighs more when the scope changes.
_V3_PRIVILEGES = {"U": {"N": 0.85, "L": 0.62, "H": 0.27}, "C": {"N": 0.85, "L": 0.68, "H": 0.5}}
_V3_BASE_METRICS = ("AV", "AC", "PR", "UI", "S", "C", "I", "A")


@dataclass(frozen=True, slots=True)
class SeverityAssessment:
    """The severity given to a vulnerability and what it rests on.

    ``score`` and ``vector`` are ``None`` when no usable CVSS vector was found; ``basis`` says in
    words where the severity comes from (for evidence and reports).
    """

    severity: Severity
    score: float | None
    vector: str | None
    basis: str


def _roundup_v31(value: float) -> float:
    # The v3.1 Roundup works on integers so that 4.000000001 does not become 4.1.
    as_int = round(value * 100_000)
    if as_int % 10_000 == 0:
        return as_int / 100_000
    return (math.floor(as_int / 10_000) + 1) / 10.0


def _roundup_v30(value: float) -> float:
    return math.ceil(value * 10) / 10


def cvss3_base_score(vector: str) -> float:
    """The base score of a CVSS v3.0 or v3.1 vector; ``ValueError`` if it is not one."""
    parts = vector.strip().split("/")
    version = parts[0]
    if version not in ("CVSS:3.0", "CVSS:3.1"):
        raise ValueError(f"not a CVSS v3 vector: {vector!r}")
    metrics: dict[str, str] = {}
    for part in parts[1:]:
        name, sep, value = part.partition(":")
        if not sep or name in metrics:
            raise ValueError(f"malformed CVSS v3 vector: {vector!r}")
        metrics[name] = value
    missing = [m for m in _V3_BASE_METRICS if m not in metrics]
    if missing:
        raise ValueError(f"CVSS v3 vector {vector!r} lacks {', '.join(missing)}")
    scope = metrics["S"]
    try:
        privileges = _V3_PRIVILEGES[scope][metrics["PR"]]
        av, ac, ui, c, i, a = (
            _V3_WEIGHTS[m][metrics[m]] for m in ("AV", "AC", "UI", "C", "I", "A")
        )
    except KeyError:
        raise ValueError(f"CVSS v3 vector {vector!r} has an unknown metric value") from None
    iss = 1 - (1 - c) * (1 - i) * (1 - a)
    # A changed scope weighs the impact sub-score differently (v3.1 section 7.1).
    changed = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15
    impact = 6.42 * iss if scope == "U" else changed
    exploitability = 8.22 * av * ac * privileges * ui
    if impact <= 0:
        return 0.0
    roundup = _roundup_v31 if version == "CVSS:3.1" else _roundup_v30
    total = impact + exploitability if scope == "U" else 1.08 * (impact + exploitability)
    return roundup(min(total, 10.0))


def score_vector(kind: str, vector: str) -> float:
    """The base score of an OSV ``severity`` entry (``CVSS_V2``, ``CVSS_V3``, ``CVSS_V4``).

    ``ValueError`` for an unknown type or a vector that does not parse.
    """
    if kind == "CVSS_V3":
        return cvss3_base_score(vector)
    if kind in ("CVSS_V4", "CVSS_V2"):
        import cvss  # imported lazily: only databases with such vectors need it

        try:
            if kind == "CVSS_V4":
                return float(cvss.CVSS4(vector).base_score)
            return float(cvss.CVSS2(vector).scores()[0])
        except cvss.CVSSError as exc:
            raise ValueError(f"malformed {kind} vector {vector!r}: {exc}") from None
    raise ValueError(f"unknown severity type {kind!r}")


def severity_for_score(score: float) -> Severity:
    """The mlwarden severity of a CVSS base score (the specification's qualitative scale)."""
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.INFO


_KIND_ORDER = {"CVSS_V4": 3, "CVSS_V3": 2, "CVSS_V2": 1}


def assess(vectors: Iterable[tuple[str, str]]) -> SeverityAssessment:
    """The severity of a vulnerability from its ``(type, vector)`` entries.

    The highest base score among the usable vectors wins (the newer CVSS version on a tie), so
    that two records of one vulnerability that score it differently never understate it.
    """
    best: tuple[float, int, str, str] | None = None
    unusable: list[str] = []
    for kind, vector in vectors:
        try:
            score = score_vector(kind, vector)
        except ValueError:
            unusable.append(f"{kind} {vector}")
            continue
        candidate = (score, _KIND_ORDER.get(kind, 0), kind, vector)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    if best is None:
        why = "no usable CVSS vector" if unusable else "no CVSS vector"
        return SeverityAssessment(
            DEFAULT_SEVERITY, None, None, f"{why} in the advisory; default {DEFAULT_SEVERITY}"
        )
    score, _, kind, vector = best
    return SeverityAssessment(
        severity_for_score(score), score, vector, f"{kind} base score {score:.1f}"
    )
