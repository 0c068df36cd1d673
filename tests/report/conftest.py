"""Reports built from findings constructed directly, so renderers are tested on their own."""

from __future__ import annotations

import pytest

from mlwarden.findings import Finding, Location, Report, ScanError, Severity, Suppressed

SCRIPT = "<script>alert('x')</script>"


@pytest.fixture
def sample_report() -> Report:
    """Findings in two files (one inside an archive member), an error, a warning, a suppression."""
    critical = Finding(
        "MW002",
        Severity.CRITICAL,
        f"could not be read completely {SCRIPT}",
        Location("models/evil.pt", member="archive/data.pkl"),
        evidence={"format": "pytorch-zip", "reason": SCRIPT},
        key="a",
    )
    high = Finding(
        "MW001",
        Severity.HIGH,
        "scan limit reached",
        Location("models/evil.pt", line=3, column=7),
        evidence={"limit": "max_pickle_opcodes", "format": "pickle"},
        key="b",
    )
    medium = Finding(
        "MW003",
        Severity.MEDIUM,
        "an mlwarden configuration is in the scanned tree",
        Location("vendor/mlwarden.toml"),
        evidence={"file": "mlwarden.toml"},
    )
    low = Finding(
        "MW002",
        Severity.LOW,
        "truncated text",
        Location("models/evil.pt", cell=2, line=1),
        key="c",
    )
    hidden = Finding("MW001", Severity.HIGH, "accepted", Location("models/big.pkl"), key="d")
    return Report(
        targets=("models", "vendor"),
        findings=(medium, low, high, critical),
        errors=(ScanError("models/locked.pkl", "cannot read: Permission denied"),),
        suppressed=(Suppressed(hidden, "reviewed by the security team", "config"),),
        files=4,
        bytes=3 * 1024 * 1024,
        seconds=1.25,
        warnings=("suppression of MW001 at old/* expired on 2020-01-01",),
    )
