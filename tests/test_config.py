"""Configuration files: every key checked, typos and bad values are errors that say where."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from mlwarden.config import Config, ConfigError, Suppression, discover_config, load_config
from mlwarden.findings import Severity
from mlwarden.scanners.interface import Limits


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_full_mlwarden_toml(tmp_path: Path) -> None:
    path = write(
        tmp_path / "mlwarden.toml",
        """
fail-on = "medium"
exclude = ["build/*", "*.tmp"]

[limits]
max-archive-depth = 3
max_pickle_opcodes = 1000
seconds-per-file = 5

[[suppress]]
rule = "MW001"
path = "models/big/*"
reason = "large trusted checkpoints"
expires = 2030-01-31

[[suppress]]
rule = "*"
fingerprint = "abc"
reason = "reviewed"
expires = "2030-02-01"
""",
    )
    config = load_config(path)
    assert config.fail_on is Severity.MEDIUM
    assert config.exclude == ("build/*", "*.tmp")
    assert config.limits == Limits(
        max_archive_depth=3, max_pickle_opcodes=1000, seconds_per_file=5.0
    )
    assert config.suppressions == (
        Suppression(
            "MW001", "large trusted checkpoints", "models/big/*", None, dt.date(2030, 1, 31)
        ),
        Suppression("*", "reviewed", "*", "abc", dt.date(2030, 2, 1)),
    )
    assert config.source == path
    assert config.is_excluded("build/x.pkl") and config.is_excluded("deep/a.tmp")
    assert not config.is_excluded("models/x.pkl")


def test_every_limit_can_be_set(tmp_path: Path) -> None:
    import dataclasses

    names = [f.name for f in dataclasses.fields(Limits)]
    body = "\n".join(f"{n.replace('_', '-')} = 7" for n in names)
    config = load_config(write(tmp_path / "mlwarden.toml", f"[limits]\n{body}\n"))
    for name in names:
        assert getattr(config.limits, name) == 7


def test_pyproject_section(tmp_path: Path) -> None:
    path = write(
        tmp_path / "pyproject.toml",
        '[project]\nname = "x"\n\n[tool.mlwarden]\nfail-on = "never"\n',
    )
    assert load_config(path).fail_on is None
    assert discover_config(tmp_path) == path


def test_discovery_prefers_mlwarden_toml_and_ignores_plain_pyproject(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\n')
    assert discover_config(tmp_path) is None
    assert load_config(cwd=tmp_path) == Config()
    toml = write(tmp_path / "mlwarden.toml", 'fail-on = "low"\n')
    assert discover_config(tmp_path) == toml
    assert load_config(cwd=tmp_path).fail_on is Severity.LOW


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('fail_on = "high"\n', "unknown key 'fail_on'"),
        ("[limits]\nmax-archive-dept = 3\n", "unknown key 'max-archive-dept' in [limits]"),
        ('[[suppress]]\nrule = "MW001"\nreason = "r"\nexpire = 2030-01-01\n', "'expire'"),
        ('[[suppress]]\nrule = "MW001"\n', "'reason' is required"),
        ('[[suppress]]\nrule = "MW001"\nreason = "  "\n', "'reason' is required"),
        (
            '[[suppress]]\nrule = "MW001"\nreason = "r"\nexpires = "soon"\n',
            "'expires' must be a date",
        ),
        ('[[suppress]]\nrule = "MW001"\nreason = "r"\nexpires = "2030-13-01"\n', "'expires'"),
        ('[[suppress]]\nrule = "MW999"\nreason = "r"\n', "no rule MW999"),
        ('[[suppress]]\nrule = "pickle"\nreason = "r"\n', "'rule' must be a rule id"),
        ('fail-on = "severe"\n', "'fail-on'"),
        ("fail-on = 3\n", "'fail-on' must be a string"),
        ('exclude = "build"\n', "'exclude' must be an array"),
        (
            '[limits]\nmax-archive-depth = "3"\n',
            "limits.max-archive-depth must be a positive integer",
        ),
        ("[limits]\nmax-archive-depth = 0\n", "positive integer"),
        ("[limits]\nmax-compression-ratio = true\n", "positive number"),
        ("suppress = 1\n", "array of tables"),
        ("fail-on = \n", "not valid TOML"),
    ],
)
def test_errors_name_the_key_and_the_file(tmp_path: Path, text: str, expected: str) -> None:
    path = write(tmp_path / "mlwarden.toml", text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert expected in str(info.value)
    assert str(path) in str(info.value)


def test_unknown_key_in_pyproject_section(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", "[tool.mlwarden]\nfailon = 'high'\n")
    with pytest.raises(ConfigError, match="unknown key 'failon'"):
        load_config(path)


def test_pyproject_without_section_given_explicitly(tmp_path: Path) -> None:
    path = write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n")
    with pytest.raises(ConfigError, match=r"no \[tool.mlwarden\] table"):
        load_config(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")


def test_suppression_matching_and_expiry() -> None:
    sup = Suppression("MW001", "r", "models/*", expires=dt.date(2024, 6, 30))
    assert sup.matches("MW001", "models/a.pkl", "fp")
    assert sup.matches("MW001", "models\\a.pkl", "fp")
    assert not sup.matches("MW002", "models/a.pkl", "fp")
    assert not sup.matches("MW001", "other/a.pkl", "fp")
    assert not sup.expired(dt.date(2024, 6, 30))  # the expiry day itself still applies
    assert sup.expired(dt.date(2024, 7, 1))
    pinned = Suppression("*", "r", fingerprint="abc")
    assert pinned.matches("MW101", "x", "abc") and not pinned.matches("MW101", "x", "abd")


def test_the_readme_example_is_valid(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    block = "#" + readme.split("```toml\n# mlwarden.toml", 1)[1].split("```", 1)[0]
    config = load_config(write(tmp_path / "mlwarden.toml", block))
    assert config.limits == Limits()
    assert config.suppressions[0].reason.startswith("vendored checkpoint")


def test_suppression_globs_are_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    sup = Suppression("MW001", "r", "models/*.pkl")
    assert sup.matches("MW001", str(tmp_path / "models" / "a.pkl"), "fp")
    assert sup.matches("MW001", "./models/a.pkl", "fp")
    assert not sup.matches("MW001", "/elsewhere/models/a.pkl", "fp")
