"""The example project: its artifacts are built by code, and the scan finds every seeded problem.

The build script runs in its own process, as ``make demo`` runs it, into a temporary folder;
every payload in it would create a marker file if it ever ran.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlwarden.api import scan
from mlwarden.findings import Finding, Report, Severity

ROOT = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = ROOT / "examples" / "build_artifacts.py"


@dataclass(frozen=True)
class Built:
    models: Path
    marker: Path
    output: str


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("demo")
    models, marker = root / "models", root / "pwned"
    done = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--out", str(models), "--marker", str(marker)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not marker.exists(), "building the artifacts ran a payload"
    return Built(models, marker, done.stdout)


@pytest.fixture(scope="module")
def report(built: Built) -> Report:
    result = scan(built.models, jobs=1)
    assert not built.marker.exists(), "scanning ran a payload"
    return result


def _findings_in(report: Report, relative: str, built: Built) -> list[Finding]:
    path = str(built.models / relative)
    return [f for f in report.findings if f.location.path == path]


#: The seeded problems: file, the rule that must fire on it, and a global it must name.
EXPECTED = [
    ("unsafe/finetuned_head.pt", "MW100", "system"),
    ("unsafe/pytorch_model.bin", "MW100", "subprocess.call"),
    ("unsafe/sentiment_v2.joblib", "MW100", "builtins.eval"),
    ("unsafe/embeddings.npy", "MW100", "builtins.exec"),
    ("unsafe/embeddings.npy", "MW104", None),
    ("unsafe/notes.txt", "MW100", "os.popen"),
    ("unsafe/review_scorer.keras", "MW160", None),
    ("unsafe/review-chat.gguf", "MW170", None),
    ("unsafe/review_scorer.onnx", "MW140", None),
    ("unsafe/remote-code/config.json", "MW190", None),
]

SAFE = ["safe/sentiment.joblib", "safe/sentiment_head.pt", "safe/sentiment_head.safetensors"]


def test_build_prints_what_it_built(built: Built) -> None:
    for relative in SAFE:
        assert f"safe    {built.models / relative}" in built.output
    assert "UNSAFE" in built.output
    assert "built " in built.output.splitlines()[-1]


@pytest.mark.parametrize(("relative", "rule", "global_name"), EXPECTED)
def test_seeded_problem_is_found(
    built: Built, report: Report, relative: str, rule: str, global_name: str | None
) -> None:
    if not (built.models / relative).exists():
        pytest.skip(f"{relative} was not built (optional library missing)")
    findings = [f for f in _findings_in(report, relative, built) if f.rule == rule]
    assert findings, f"{rule} not reported on {relative}: {_findings_in(report, relative, built)}"
    assert all(f.severity >= Severity.MEDIUM for f in findings)
    if global_name is not None:
        names = [g for f in findings for g in f.evidence.get("globals", [])]
        assert any(global_name in g for g in names), names


@pytest.mark.parametrize("relative", SAFE)
def test_safe_artifact_has_nothing_high(built: Built, report: Report, relative: str) -> None:
    assert (built.models / relative).exists()
    serious = [
        (f.rule, f.message)
        for f in _findings_in(report, relative, built)
        if f.severity >= Severity.HIGH
    ]
    assert serious == []


def test_every_unsafe_file_fails_the_default_threshold(built: Built, report: Report) -> None:
    unsafe = sorted(p for p in (built.models / "unsafe").rglob("*") if p.is_file())
    flagged = {f.location.path for f in report.findings if f.severity >= Severity.HIGH}
    unflagged = [str(p.relative_to(built.models)) for p in unsafe if str(p) not in flagged]
    # Remote code in a config is a review item (medium), not a failure by itself.
    assert unflagged in ([], ["unsafe/remote-code/config.json"])
    assert report.errors == ()


def test_command_line_scan_exits_1_and_runs_nothing(built: Built, report: Report) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mlwarden.cli", "scan", str(built.models), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    expected = {rule for relative, rule, _ in EXPECTED if (built.models / relative).exists()}
    assert {f["rule"] for f in data["findings"]} >= expected
    assert not built.marker.exists()
