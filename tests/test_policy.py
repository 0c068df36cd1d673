"""Policy: suppressions (reason, expiry), baselines, configuration files in scanned trees."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from mlwarden.config import Config, ConfigError, Suppression
from mlwarden.findings import Finding, Location, Report, Severity, Suppressed
from mlwarden.policy import apply_policy, load_baseline, untrusted_configs

TODAY = dt.date(2025, 6, 1)


def finding(rule: str = "MW001", path: str = "models/a.pkl", key: str = "k") -> Finding:
    return Finding(rule, Severity.HIGH, f"{rule} here", Location(path), key=key)


def report(*findings: Finding) -> Report:
    # Targets that do not exist: the untrusted-configuration walk has nothing to look at.
    return Report(targets=("does-not-exist",), findings=findings, files=len(findings))


def test_a_suppression_moves_findings_to_suppressed() -> None:
    config = Config(suppressions=(Suppression("MW001", "trusted", "models/*"),))
    result = apply_policy(report(finding(), finding("MW002")), config, TODAY)
    assert [f.rule for f in result.findings] == ["MW002"]
    assert result.suppressed == (Suppressed(finding(), "trusted", "config"),)
    assert result.warnings == ()


def test_an_expired_suppression_stops_applying_and_says_so() -> None:
    sup = Suppression("MW001", "until the retrain", "models/*", expires=dt.date(2025, 5, 31))
    result = apply_policy(report(finding()), Config(suppressions=(sup,)), TODAY)
    assert sorted(f.rule for f in result.findings) == ["MW001", "MW004"]
    assert result.suppressed == ()
    [warning] = result.warnings
    assert "MW001 at models/*" in warning and "expired on 2025-05-31" in warning
    assert "1 finding(s) it covered are reported again" in warning
    [expired] = [f for f in result.findings if f.rule == "MW004"]
    assert expired.severity is Severity.LOW
    assert expired.evidence["expires"] == "2025-05-31"
    assert expired.evidence["reason"] == "until the retrain"


def test_the_expiry_day_still_applies() -> None:
    sup = Suppression("MW001", "r", expires=TODAY)
    result = apply_policy(report(finding()), Config(suppressions=(sup,)), TODAY)
    assert result.findings == () and len(result.suppressed) == 1


def test_expired_suppression_that_matches_nothing_is_still_reported() -> None:
    sup = Suppression("MW002", "r", "old/*", expires=dt.date(2020, 1, 1))
    source = Path("mlwarden.toml")
    result = apply_policy(report(), Config(suppressions=(sup,), source=source), TODAY)
    [expired] = result.findings
    assert (expired.rule, expired.location.path) == ("MW004", "mlwarden.toml")
    assert "reported again" not in result.warnings[0]


def test_baseline_hides_known_findings(tmp_path: Path) -> None:
    known, new = finding(key="old"), finding(key="new")
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(report(known).to_dict()))
    result = apply_policy(report(known, new), Config(baseline=baseline), TODAY)
    assert result.findings == (new,)
    [hidden] = result.suppressed
    assert (hidden.finding, hidden.source) == (known, "baseline")


def test_a_report_written_with_a_baseline_serves_as_the_next_one(tmp_path: Path) -> None:
    known = finding(key="old")
    first = tmp_path / "first.json"
    first.write_text(json.dumps(report(known).to_dict()))
    second = apply_policy(report(known), Config(baseline=first), TODAY)
    assert second.findings == ()
    path = tmp_path / "second.json"
    path.write_text(json.dumps(second.to_dict()))
    assert load_baseline(path) == {known.fingerprint}


def test_config_suppressions_do_not_become_baseline_entries(tmp_path: Path) -> None:
    hidden = finding()
    written = Report(targets=(), suppressed=(Suppressed(hidden, "r", "config"),))
    path = tmp_path / "b.json"
    path.write_text(json.dumps(written.to_dict()))
    assert load_baseline(path) == set()


@pytest.mark.parametrize(
    ("content", "message"),
    [("{", "not valid JSON"), ('{"schema": 1}', "no 'findings' list"), (None, "cannot read")],
)
def test_bad_baselines(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "b.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        load_baseline(path)


def test_untrusted_configuration_in_scanned_tree(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "sub").mkdir(parents=True)
    (repo / "mlwarden.toml").write_text('[[suppress]]\nrule = "*"\nreason = "nothing to see"\n')
    (repo / "sub" / "pyproject.toml").write_text("[tool.mlwarden]\nfail-on = 'never'\n")
    (repo / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (repo / ".git").mkdir()
    (repo / ".git" / "mlwarden.toml").write_text("")
    found = list(untrusted_configs([str(repo)], Config()))
    assert sorted((f.rule, f.location.path) for f in found) == [
        ("MW003", str(repo / "mlwarden.toml")),
        ("MW003", str(repo / "sub" / "pyproject.toml")),
    ]
    assert all(f.severity is Severity.MEDIUM for f in found)


def test_the_configuration_in_use_is_not_reported(tmp_path: Path) -> None:
    (tmp_path / "mlwarden.toml").write_text("")
    config = Config(source=tmp_path / "mlwarden.toml")
    assert list(untrusted_configs([str(tmp_path)], config)) == []
    assert list(untrusted_configs([str(tmp_path)], Config(exclude=("mlwarden.toml",)))) == []


def test_broken_pyproject_with_a_mlwarden_table_is_still_reported(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.mlwarden]\nfail-on = \n")
    [found] = untrusted_configs([str(tmp_path)], Config())
    assert found.location.path.endswith("pyproject.toml")


def test_apply_policy_adds_untrusted_configuration_findings(tmp_path: Path) -> None:
    (tmp_path / "mlwarden.toml").write_text('[[suppress]]\nrule = "*"\nreason = "x"\n')
    scanned = Report(targets=(str(tmp_path),), findings=(finding(path=str(tmp_path / "a")),))
    result = apply_policy(scanned, Config(), TODAY)
    assert sorted(f.rule for f in result.findings) == ["MW001", "MW003"]
