"""The example project: its artifacts are built by code, and the scan finds every seeded problem.

The project's committed files are copied to a temporary folder and the build script runs in
its own process, as ``make demo`` runs it, into that copy: models (every payload in them would
create a marker file if it ever ran), the notebook with a pasted token, the customer table.
The scan then covers the whole project, as ``make demo`` scans it: models, code, notebook,
serving configuration, dependencies and datasets.
"""

from __future__ import annotations

import csv
import json
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from mlwarden.api import scan
from mlwarden.findings import Finding, Report, Severity
from mlwarden.protect.redact import redact

ROOT = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = ROOT / "examples" / "build_artifacts.py"
PROJECT = ROOT / "examples" / "project"
#: What the build writes into the project; a checkout that ran ``make demo`` has them already.
GENERATED = ("models", "explore.ipynb", "customers.csv", "__pycache__")


@dataclass(frozen=True)
class Built:
    project: Path
    marker: Path
    output: str

    @property
    def models(self) -> Path:
        return self.project / "models"

    @property
    def notebook(self) -> Path:
        return self.project / "notebooks" / "explore.ipynb"

    @property
    def customers(self) -> Path:
        return self.project / "data" / "customers.csv"

    @cached_property
    def customer_rows(self) -> list[dict[str, str]]:
        with self.customers.open(newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))

    @cached_property
    def token(self) -> str:
        """The token the build pasted into the notebook (random on every build)."""
        document = json.loads(self.notebook.read_text(encoding="utf-8"))
        echoed = "".join(document["cells"][3]["outputs"][0]["data"]["text/plain"])
        return echoed.strip("'")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("demo")
    project, marker = root / "project", root / "pwned"
    shutil.copytree(PROJECT, project, ignore=shutil.ignore_patterns(*GENERATED))
    done = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--project", str(project), "--marker", str(marker)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert not marker.exists(), "building the artifacts ran a payload"
    return Built(project, marker, done.stdout)


@pytest.fixture(scope="module")
def report(built: Built) -> Report:
    result = scan(built.project, jobs=1)
    assert not built.marker.exists(), "scanning ran a payload"
    return result


@pytest.fixture(scope="module")
def report_json(report: Report) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False)


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


@pytest.fixture(scope="module")
def command_line_scan(built: Built) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mlwarden.cli", "scan", str(built.project), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_command_line_scan_exits_1_and_runs_nothing(
    built: Built, command_line_scan: subprocess.CompletedProcess[str]
) -> None:
    assert command_line_scan.returncode == 1, command_line_scan.stderr
    data = json.loads(command_line_scan.stdout)
    expected = {rule for relative, rule, _ in EXPECTED if (built.models / relative).exists()}
    assert {f["rule"] for f in data["findings"]} >= expected
    assert {f["rule"][:3] for f in data["findings"]} >= {"MW1", "MW2", "MW3", "MW4", "MW5", "MW6"}
    assert data["errors"] == []
    assert not built.marker.exists()


def _line_of(path: Path, text: str) -> int:
    """The 1-based number of the only line of ``path`` that contains ``text``."""
    numbers = [
        n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in line
    ]
    assert len(numbers) == 1, (path, text, numbers)
    return numbers[0]


def _rules_by_line(report: Report, path: Path) -> set[tuple[str, int | None]]:
    return {(f.rule, f.location.line) for f in report.findings if f.location.path == str(path)}


#: Seeded problems in the project's code and serving configuration: file, the text of the line,
#: and exactly the rules that fire there. Every other line of these files must stay silent.
LINE_EXPECTED: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "serve.py": [
        ("tokenizer = AutoTokenizer.from_pretrained(ENCODER)", ("MW312",)),
        ("encoder = AutoModelForSequenceClassification", ("MW310", "MW312")),
        ("checkpoint = torch.load(HEAD", ("MW304",)),
        ("return eval(answer)", ("MW320",)),
        ("demo.launch(share=True)", ("MW332",)),
        ('app.run(host="0.0.0.0"', ("MW331",)),
    ],
    "predict.py": [("pipeline = joblib.load(MODEL)", ("MW301",))],
    "evaluate.py": [],
    "deploy/config.properties": [
        ("inference_address=", ("MW505",)),
        ("management_address=", ("MW500",)),
        ("allowed_urls=", ("MW501",)),
    ],
    "deploy/Dockerfile": [('CMD ["jupyter", "lab"', ("MW510",))],
    "deploy/docker-compose.yml": [
        ("command: mlflow server --host 0.0.0.0", ("MW518",)),
        ('- "5000:5000"', ("MW522",)),
        ("command: ray start --head --dashboard-host=0.0.0.0", ("MW521",)),
        ('- "8265:8265"', ("MW522",)),
    ],
}


@pytest.mark.parametrize("relative", sorted(LINE_EXPECTED))
def test_code_and_serving_findings_sit_on_the_seeded_lines(
    built: Built, report: Report, relative: str
) -> None:
    path = built.project / relative
    expected = {
        (rule, _line_of(path, text)) for text, rules in LINE_EXPECTED[relative] for rule in rules
    }
    assert _rules_by_line(report, path) == expected


def test_safe_forms_in_evaluate_py_stay_silent(built: Built, report: Report) -> None:
    # The same calls as serve.py, written safely: weights_only, a pinned revision, json.loads.
    path = built.project / "evaluate.py"
    assert "weights_only=True" in path.read_text(encoding="utf-8")
    assert _rules_by_line(report, path) == set()


def test_notebook_findings_name_cell_and_line(built: Built, report: Report) -> None:
    found = [f for f in report.findings if f.location.path == str(built.notebook)]
    assert {(f.rule, f.location.cell, f.location.line) for f in found} == {
        ("MW341", 2, 1),  # !curl ... | bash
        ("MW400", 3, 3),  # the token pasted into os.environ
        ("MW340", 3, None),  # ... and echoed into the cell's stored output
        ("MW304", 4, 2),  # torch.load under %%time; cell 5 passes weights_only=True
    }
    echoed = next(f for f in found if f.rule == "MW340")
    assert echoed.evidence["secret_rule"] == "MW400"
    assert echoed.evidence["mime"] == "text/plain"


def test_secrets_are_redacted_in_every_report(
    built: Built, report_json: str, command_line_scan: subprocess.CompletedProcess[str]
) -> None:
    assert built.token.startswith("hf_") and len(built.token) == 37
    secret_findings = [
        f for f in json.loads(report_json)["findings"] if f["rule"] in {"MW340", "MW400"}
    ]
    assert len(secret_findings) == 2
    for finding in secret_findings:
        assert finding["evidence"]["redacted"].startswith("hf_")
        assert "(37 chars)" in finding["evidence"]["redacted"]
    assert built.token not in report_json
    assert built.token not in command_line_scan.stdout
    assert built.token[3:20] not in command_line_scan.stdout


#: Columns of the customer table and the rule each must raise (whole-column detection).
PERSONAL_COLUMNS = {
    "name": "MW607",
    "email": "MW605",
    "phone": "MW606",
    "iban": "MW601",
    "card_number": "MW600",
}
RAW_COLUMNS = tuple(PERSONAL_COLUMNS)

#: Pseudonyms of ``--method hash`` name the entity they stand for.
PSEUDONYM_PREFIX = {
    "name": "PERSON_",
    "email": "EMAIL_",
    "phone": "PHONE_",
    "iban": "IBAN_",
    "card_number": "CREDIT_CARD_",
}


def _data_findings(report: Report, built: Built) -> list[Finding]:
    return [f for f in report.findings if f.location.path == str(built.customers)]


def test_personal_data_is_reported_per_column(built: Built, report: Report) -> None:
    found = _data_findings(report, built)
    by_column = {(f.evidence["column"], f.rule) for f in found}
    assert by_column >= set(PERSONAL_COLUMNS.items())
    for column, rule in PERSONAL_COLUMNS.items():
        (finding,) = [f for f in found if f.evidence["column"] == column and f.rule == rule]
        assert finding.evidence["detection"] == "column"
        assert finding.evidence["share"] >= 0.8
        assert finding.evidence["rows_scanned"] == len(built.customer_rows)
    # Contact details repeated in the support notes are found cell by cell.
    in_notes = {f.rule for f in found if f.evidence["column"] == "notes"}
    assert {"MW605", "MW601"} <= in_notes
    assert all(f.evidence["detection"] == "cells" for f in found if f.evidence["column"] == "notes")
    quiet = {"customer_id", "country", "orders"}
    assert not [f for f in found if f.evidence["column"] in quiet]
    reviews = built.project / "data" / "reviews.csv"
    assert not [f for f in report.findings if f.location.path == str(reviews)]


def test_personal_data_evidence_is_masked(
    built: Built,
    report: Report,
    report_json: str,
    command_line_scan: subprocess.CompletedProcess[str],
) -> None:
    examples = [e for f in _data_findings(report, built) for e in f.evidence["examples"]]
    assert examples and all("*" in example for example in examples)
    raw = {row[column] for row in built.customer_rows for column in RAW_COLUMNS}
    for text in (report_json, command_line_scan.stdout):
        leaked = sorted(value for value in raw if value in text)
        assert leaked == []


def _read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def _redact_with_command_line(built: Built, tmp_path: Path, *args: str) -> Path:
    key = tmp_path / "demo-key"
    key.write_text(secrets.token_hex(32) + "\n", encoding="utf-8")
    output = tmp_path / "redacted" / "customers.csv"
    output.parent.mkdir()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlwarden.cli",
            "redact",
            str(built.customers),
            "--output",
            str(output),
            "--method",
            "hash",
            "--key-file",
            str(key),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return output


def test_demo_redaction_keeps_the_shape_and_replaces_the_values(
    built: Built, tmp_path: Path
) -> None:
    output = _redact_with_command_line(built, tmp_path)
    header, before = _read_csv(built.customers)
    out_header, after = _read_csv(output)
    assert out_header == header
    assert len(after) == len(before) == 500
    for old, new in zip(before, after, strict=True):
        for column in ("customer_id", "country", "orders"):
            assert new[column] == old[column]
        for column in RAW_COLUMNS:
            assert new[column] != old[column]
            assert new[column].startswith(PSEUDONYM_PREFIX[column])
        if old["email"] in old["notes"] or old["iban"] in old["notes"]:
            assert old["email"] not in new["notes"]
            assert old["iban"] not in new["notes"]
        elif not any(old[column] in old["notes"] for column in ("phone", "card_number")):
            assert new["notes"] == old["notes"]  # nothing personal in it: the same text


def test_redaction_api_gives_stable_pseudonyms(built: Built, tmp_path: Path) -> None:
    key = secrets.token_bytes(32)
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    plan = redact(built.customers, first, method="hash", key=key)
    redact(built.customers, second, method="hash", key=key)
    assert first.read_bytes() == second.read_bytes()
    assert plan.rows == 500
    changed: dict[str, Any] = {c.column: c for c in plan.columns}
    assert set(changed) == {*RAW_COLUMNS, "notes"}
    assert all(changed[column].cells_changed == 500 for column in RAW_COLUMNS)
    assert 0 < changed["notes"].cells_changed < 500
