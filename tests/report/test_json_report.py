"""The JSON report has exactly the CONTRACT.md shape."""

from __future__ import annotations

import json

from mlwarden import __version__
from mlwarden.findings import Report
from mlwarden.report import Format, render
from mlwarden.report.json_report import dumps

FINDING_KEYS = {
    "fingerprint",
    "rule",
    "severity",
    "category",
    "title",
    "message",
    "location",
    "evidence",
    "remediation",
    "references",
}
LOCATION_KEYS = {"path", "member", "line", "column", "cell"}


def test_every_contract_key_is_present(sample_report: Report) -> None:
    data = json.loads(render(sample_report, Format.JSON))
    assert data["schema"] == 1
    assert data["tool"] == {"name": "mlwarden", "version": __version__}
    assert data["targets"] == ["models", "vendor"]
    assert {"findings", "errors", "summary", "suppressed", "warnings"} <= set(data)
    assert len(data["findings"]) == 4
    for finding in data["findings"]:
        assert set(finding) == FINDING_KEYS
        assert set(finding["location"]) == LOCATION_KEYS
        assert finding["severity"] in {"critical", "high", "medium", "low", "info"}
        assert isinstance(finding["evidence"], dict)
        assert isinstance(finding["references"], list)
        assert len(finding["fingerprint"]) == 32
    assert data["errors"] == [
        {"path": "models/locked.pkl", "message": "cannot read: Permission denied"}
    ]
    assert data["summary"] == {
        "files": 4,
        "bytes": 3 * 1024 * 1024,
        "seconds": 1.25,
        "by_severity": {"critical": 1, "high": 1, "medium": 1, "low": 1},
    }


def test_location_of_an_archive_member_and_a_cell(sample_report: Report) -> None:
    data = json.loads(render(sample_report, "json"))
    by_key = {(f["rule"], f["severity"]): f for f in data["findings"]}
    member = by_key[("MW002", "critical")]["location"]
    assert member == {
        "path": "models/evil.pt",
        "member": "archive/data.pkl",
        "line": None,
        "column": None,
        "cell": None,
    }
    cell = by_key[("MW002", "low")]["location"]
    assert (cell["cell"], cell["line"]) == (2, 1)


def test_suppressed_findings_are_listed_with_their_reason(sample_report: Report) -> None:
    data = json.loads(render(sample_report, "json"))
    [hidden] = data["suppressed"]
    assert hidden["rule"] == "MW001"
    assert hidden["reason"] == "reviewed by the security team"
    assert hidden["source"] == "config"
    assert hidden["location"]["path"] == "models/big.pkl"
    assert len(hidden["fingerprint"]) == 32


def test_rule_prose_is_one_line_per_paragraph(sample_report: Report) -> None:
    data = json.loads(render(sample_report, "json"))
    for finding in data["findings"]:
        assert "\n " not in finding["remediation"]


def test_one_finding_per_line_and_the_same_data_as_plain_json(sample_report: Report) -> None:
    text = render(sample_report, Format.JSON)
    data = json.loads(text)
    lines = text.splitlines()
    assert lines[0] == "{" and lines[-1] == "}"
    start = lines.index('  "findings": [') + 1
    finding_lines = lines[start : lines.index("  ],", start)]
    assert len(finding_lines) == len(data["findings"]) > 1
    assert [json.loads(line.strip().rstrip(",")) for line in finding_lines] == data["findings"]
    assert dumps({}) == "{\n}\n"
    assert json.loads(dumps({"a": [], "b": [1, "é"], "c": {"d": None}})) == {
        "a": [],
        "b": [1, "é"],
        "c": {"d": None},
    }
