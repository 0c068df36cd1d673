"""The dependency scanner end to end: files found in a tree, matched, reported with the fix."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from osv_reference import SHARED, osv_is_vulnerable, reading

import mlwarden
from mlwarden.cli import main
from mlwarden.config import Config
from mlwarden.findings import Severity

#: Pins of ML packages at versions with and without advisories.
PINS = {
    "torch": "2.1.0",
    "keras": "3.6.0",
    "transformers": "4.30.0",
    "mlflow": "2.8.0",
    "ray": "2.6.0",
    "gradio": "3.34.0",
    "jupyter-server": "2.7.0",
    "protobuf": "3.20.1",
    "numpy": "1.21.0",
    "pillow": "9.0.0",
    "requests": "2.31.0",
    "scikit-learn": "0.24.0",
    "onnx": "1.15.0",
    "tensorflow": "2.11.0",
    "langchain": "0.0.150",
    "aiohttp": "3.8.4",
    "jinja2": "3.1.2",
    "pyyaml": "5.3",
    "safetensors": "0.4.1",
    "notebook": "6.4.0",
}


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # Never touch the user's compiled database.
    monkeypatch.setenv("MLWARDEN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "cache"))


def scan_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["scan", *args, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def expected_records(package: str, version: str) -> set[str]:
    records = [
        yaml.load(p.read_bytes(), Loader=yaml.CBaseLoader)
        for p in sorted((SHARED / package).glob("*.yaml"))
    ]
    parsed = reading(version)
    assert parsed is not None
    return {r["id"] for r in records if osv_is_vulnerable(r, package, parsed)}


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"shared advisory database not at {SHARED}")
def test_exact_set_of_vulnerabilities_over_the_shared_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("".join(f"{name}=={version}\n" for name, version in PINS.items()))
    code, report = scan_json(capsys, str(requirements), "--db", str(SHARED))
    found: dict[tuple[str, str], set[str]] = {}
    for finding in report["findings"]:
        assert finding["rule"] == "MW200", finding
        evidence = finding["evidence"]
        for key in ("package", "version", "id", "aliases", "fixed_in", "source"):
            assert key in evidence, key
        assert evidence["source"] == str(requirements)
        assert finding["location"]["line"] == list(PINS).index(evidence["package"]) + 1
        records = found.setdefault((evidence["package"], evidence["version"]), set())
        assert not records & set(evidence["records"]), "one vulnerability reported twice"
        records.update(evidence["records"])
    expected = {
        (name, version): expected_records(name, version)
        for name, version in PINS.items()
        if expected_records(name, version)
    }
    assert found == expected
    assert len(expected) >= 10
    assert code == 1
    upgrades = {u["package"]: u for u in report["upgrades"]}
    assert upgrades["torch"]["current"] == "2.1.0"
    # A package with any vulnerability that no release fixes has no target.
    for upgrade in upgrades.values():
        unfixed = [
            f
            for f in report["findings"]
            if f["evidence"]["package"] == upgrade["package"] and not f["evidence"]["fix"]
        ]
        assert (upgrade["target"] is None) == bool(unfixed), upgrade
    assert any(u["target"] for u in upgrades.values())


def test_files_in_a_tree_are_found_and_reported_with_the_fix(tmp_path: Path) -> None:
    # The curated ML advisories ship with mlwarden: this works offline with no database.
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "environment.yml").write_text(
        "name: train\nchannels: [conda-forge]\ndependencies:\n"
        "  - python=3.11\n  - pytorch==2.1.0\n  - pip\n  - pip:\n      - keras==3.6.0\n"
    )
    (tmp_path / "requirements.txt").write_text(
        'torch==2.1.0+cu118 ; sys_platform == "linux"\n-r extra.txt\n'
        "git+https://github.com/example/tool.git#egg=tool\n"
    )
    (tmp_path / "extra.txt").write_text("transformers>=4.0\n")
    report = mlwarden.scan(tmp_path, config=Config())
    by_rule: dict[str, list[mlwarden.Finding]] = {}
    for finding in report.findings:
        by_rule.setdefault(finding.rule, []).append(finding)

    torch_pins = [f for f in by_rule["MW200"] if f.evidence["package"] == "torch"]
    conda = [f for f in torch_pins if f.location.path.endswith("environment.yml")]
    pip = [f for f in torch_pins if f.location.path.endswith("requirements.txt")]
    assert conda and pip
    assert pip[0].evidence["marker"] == 'sys_platform == "linux"'
    assert pip[0].evidence["version"] == "2.1.0+cu118"
    assert any("CVE-2025-32434" in f.evidence["aliases"] for f in pip)
    assert all(f.evidence["fix"] for f in pip)
    assert any(f.evidence["package"] == "keras" for f in by_rule["MW200"])

    # The range in the included file is reported once, in the file that declares it, though
    # that file is both included and found on its own.
    ranges = by_rule["MW201"]
    assert len(ranges) == 1
    assert ranges[0].location.path.endswith("extra.txt")
    assert ranges[0].severity is Severity.MEDIUM
    assert ranges[0].evidence["admitted"]

    unverifiable = by_rule["MW202"]
    assert unverifiable[0].location.line == 3
    assert any("curated" in w for w in report.warnings)


def test_a_missing_database_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "requirements.txt").write_text("torch==2.1.0\n")
    code = main(["scan", str(tmp_path), "--db", str(tmp_path / "nowhere")])
    assert code == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_bad_database_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "requirements.txt").write_text("torch==2.1.0\n")
    bad = tmp_path / "db.bin"
    bad.write_bytes(b"\x00not a database")
    code = main(["scan", str(tmp_path / "requirements.txt"), "--db", str(bad)])
    assert code == 2
    assert "mlwarden: error:" in capsys.readouterr().err


def test_text_and_html_reports_show_the_upgrades(tmp_path: Path) -> None:
    from mlwarden.report import render

    (tmp_path / "requirements.txt").write_text("torch==2.1.0\nkeras==3.6.0\n")
    report = mlwarden.scan(tmp_path)
    text = render(report, "text")
    assert "Upgrades that clear the dependency findings:" in text
    assert "torch 2.1.0 -> " in text
    html = render(report, "html")
    assert 'id="dependencies"' in html
    assert "<code>torch</code>" in html


def test_installed_environment_is_checked_with_python(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A stand-in interpreter: it only prints its sys.path, as the real probe asks; the
    # distribution metadata on that path is read from disk.
    site = tmp_path / "site-packages"
    for name, version in (("keras", "3.6.0"), ("numpy", "2.1.0")):
        info = site / f"{name}-{version}.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    python = tmp_path / "python"
    python.write_text(f"#!/bin/sh\necho '{json.dumps([str(site)])}'\n")
    python.chmod(0o755)
    code, report = scan_json(capsys, "--python", str(python))
    assert code == 1
    assert report["targets"] == [f"python:{python}"]
    packages = {(f["evidence"]["package"], f["evidence"]["version"]) for f in report["findings"]}
    assert packages == {("keras", "3.6.0")}
    assert all(f["location"]["path"] == str(python) for f in report["findings"])


def test_nothing_to_scan_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan"]) == 2
    assert "nothing to scan" in capsys.readouterr().err
