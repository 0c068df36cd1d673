"""CVSS scoring: v3 computed by mlwarden, checked against known scores and the cvss package."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mlwarden.findings import Severity
from mlwarden.scanners.deps.cvss import (
    DEFAULT_SEVERITY,
    assess,
    cvss3_base_score,
    score_vector,
    severity_for_score,
)

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "advisory-database" / "vulns"


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:H/I:H/A:H", 9.6),  # changed scope
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4),  # PR:L weighs 0.68 when S:C
        ("CVSS:3.0/AV:N/AC:H/PR:N/UI:R/S:C/C:N/I:N/A:L", 3.4),
        ("CVSS:3.1/AV:P/AC:H/PR:H/UI:R/S:U/C:N/I:N/A:N", 0.0),  # no impact
    ],
)
def test_cvss3_known_scores(vector: str, score: float) -> None:
    assert cvss3_base_score(vector) == score


@pytest.mark.parametrize(
    "vector",
    [
        "CVSS:2.0/AV:N",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",  # A missing
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    ],
)
def test_cvss3_malformed(vector: str) -> None:
    with pytest.raises(ValueError):
        cvss3_base_score(vector)


def test_cvss3_agrees_with_the_cvss_package_on_real_vectors() -> None:
    cvss = pytest.importorskip("cvss")
    if not SHARED.is_dir():
        pytest.skip(f"shared advisory database not found at {SHARED}")
    vectors: set[str] = set()
    pattern = re.compile(r"CVSS:3\.[01]/[A-Z:/]+")
    for path in SHARED.glob("t*/*.yaml"):
        vectors.update(pattern.findall(path.read_text()))
    assert len(vectors) > 20
    for vector in sorted(vectors):
        assert cvss3_base_score(vector) == float(cvss.CVSS3(vector).base_score), vector


@pytest.mark.parametrize(
    ("score", "severity"),
    [
        (10.0, Severity.CRITICAL),
        (9.0, Severity.CRITICAL),
        (8.9, Severity.HIGH),
        (7.0, Severity.HIGH),
        (6.9, Severity.MEDIUM),
        (4.0, Severity.MEDIUM),
        (3.9, Severity.LOW),
        (0.1, Severity.LOW),
        (0.0, Severity.INFO),
    ],
)
def test_qualitative_scale(score: float, severity: Severity) -> None:
    assert severity_for_score(score) is severity


def test_v4_and_v2_through_the_cvss_package() -> None:
    v4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"
    assert score_vector("CVSS_V4", v4) == 9.3
    assert score_vector("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P") == 7.5
    with pytest.raises(ValueError):
        score_vector("CVSS_V4", "CVSS:4.0/AV:N")
    with pytest.raises(ValueError):
        score_vector("Ubuntu", "high")


def test_assess_takes_the_highest_usable_score() -> None:
    result = assess(
        [
            ("CVSS_V3", "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N"),
            ("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            ("CVSS_V3", "garbage"),
        ]
    )
    assert (result.severity, result.score) == (Severity.CRITICAL, 9.8)
    assert result.basis == "CVSS_V3 base score 9.8"


def test_assess_without_vectors_says_so() -> None:
    none = assess([])
    assert none.severity is DEFAULT_SEVERITY
    assert none.basis == f"no CVSS vector in the advisory; default {DEFAULT_SEVERITY}"
    unusable = assess([("CVSS_V3", "garbage")])
    assert unusable.basis.startswith("no usable CVSS vector")
