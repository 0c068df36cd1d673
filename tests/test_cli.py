"""``mlwarden scan``: exit codes, configuration, baselines, output files, error messages."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from mlwarden.cli import main
from mlwarden.commands.scan import progress_bar


class Payload:
    """Pickles to a call of os.system: it would create MARKER if it were ever unpickled."""

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.system, ("touch MARKER",))


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory (no configuration) with a models/ tree to scan."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    (tmp_path / "models").mkdir()
    return tmp_path


def evil_pickle(directory: Path) -> Path:
    path = directory / "evil.pkl"
    path.write_bytes(pickle.dumps(Payload()))
    return path


def run(*args: str | Path) -> int:
    return main(["scan", *(str(a) for a in args), "--no-progress"])


def scan_json(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, dict]:  # type: ignore[type-arg]
    capsys.readouterr()
    code = run(*args, "--format", "json")
    return code, json.loads(capsys.readouterr().out)


def no_marker(work: Path) -> None:
    assert not list(work.rglob("MARKER")), "the payload ran"


# --- exit codes -----------------------------------------------------------------------------


def test_payload_is_reported_and_never_runs(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    evil = evil_pickle(work / "models")
    code, data = scan_json(capsys, evil)
    assert code == 1
    [finding] = data["findings"]
    assert finding["rule"] == "MW100"
    assert finding["severity"] == "critical"
    assert finding["location"]["path"] == str(evil)
    no_marker(work)


@pytest.mark.parametrize(
    ("fail_on", "expected"),
    [
        ("critical", 0),
        ("high", 0),
        ("medium", 1),
        ("low", 1),
        ("info", 1),
        ("never", 0),
        ("MEDIUM", 1),
    ],
)
def test_fail_on_thresholds(work: Path, fail_on: str, expected: int) -> None:
    # One medium finding: an untrusted configuration in the scanned tree (MW003).
    (work / "models" / "mlwarden.toml").write_text("")
    assert run(work / "models", "--fail-on", fail_on) == expected


def test_default_threshold_is_high(work: Path) -> None:
    (work / "models" / "mlwarden.toml").write_text("")
    assert run(work / "models") == 0
    evil_pickle(work / "models")
    assert run(work / "models") == 1
    assert run(work / "models", "--fail-on", "critical") == 1
    assert run(work / "models", "--fail-on", "never") == 0
    no_marker(work)


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "html"])
def test_exit_status_never_depends_on_format(work: Path, fmt: str) -> None:
    evil_pickle(work / "models")
    assert run(work / "models", "--format", fmt) == 1
    assert run(work / "models", "--format", fmt, "--fail-on", "never") == 0


def test_clean_tree_exits_zero(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "models" / "config.json").write_text('{"hidden_size": 8}')
    assert run(work / "models") == 0
    assert "0 findings in 1 file" in capsys.readouterr().out


def test_bad_fail_on_is_a_usage_error(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        run(work / "models", "--fail-on", "severe")
    assert info.value.code == 2
    assert "unknown severity 'severe'" in capsys.readouterr().err


def test_missing_path(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(work / "nope") == 2
    assert "no such file or directory" in capsys.readouterr().err


def test_missing_db(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(work / "models", "--db", work / "osv") == 2
    assert "vulnerability database" in capsys.readouterr().err


def test_bad_jobs(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(work / "models", "--jobs", "0") == 2
    assert "--jobs" in capsys.readouterr().err


# --- configuration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('fail_on = "low"\n', "unknown key 'fail_on'"),
        ('[[suppress]]\nrule = "MW100"\n', "'reason' is required"),
        ('[[suppress]]\nrule = "MW100"\nreason = "r"\nexpires = "31/12/2030"\n', "'expires'"),
    ],
)
def test_bad_config_exits_2(
    work: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    config = work / "custom.toml"
    config.write_text(text)
    evil_pickle(work / "models")
    output = work / "report.json"
    output.write_text("previous")
    assert run(work / "models", "--config", config, "--output", output) == 2
    err = capsys.readouterr().err
    assert message in err and str(config) in err
    assert output.read_text() == "previous"
    # The same file discovered in the working directory is checked the same way.
    (work / "cwd" / "mlwarden.toml").write_text(text)
    assert run(work / "models") == 2


def test_missing_config_file(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(work / "models", "--config", work / "none.toml") == 2
    assert "does not exist" in capsys.readouterr().err


def test_config_in_working_directory_applies(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evil_pickle(work / "models")
    (work / "cwd" / "pyproject.toml").write_text(
        '[tool.mlwarden]\nfail-on = "never"\n\n'
        '[[tool.mlwarden.suppress]]\nrule = "MW100"\npath = "*/evil.pkl"\n'
        'reason = "fixture for the test-suite"\n'
    )
    code, data = scan_json(capsys, work / "models")
    assert code == 0
    assert data["findings"] == []
    [hidden] = data["suppressed"]
    assert (hidden["rule"], hidden["reason"]) == ("MW100", "fixture for the test-suite")


def test_cli_fail_on_overrides_config(work: Path) -> None:
    evil_pickle(work / "models")
    (work / "cwd" / "mlwarden.toml").write_text('fail-on = "never"\n')
    assert run(work / "models") == 0
    assert run(work / "models", "--fail-on", "high") == 1


def test_expired_suppression(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    evil_pickle(work / "models")
    (work / "cwd" / "mlwarden.toml").write_text(
        '[[suppress]]\nrule = "MW100"\nreason = "old"\nexpires = 2000-01-01\n'
    )
    code, data = scan_json(capsys, work / "models")
    assert code == 1
    assert sorted(f["rule"] for f in data["findings"]) == ["MW004", "MW100"]
    assert any("expired on 2000-01-01" in w for w in data["warnings"])
    assert data["suppressed"] == []


def test_untrusted_config_in_scanned_tree_is_not_applied(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = work / "models"
    evil_pickle(repo)
    (repo / "mlwarden.toml").write_text(
        'fail-on = "never"\n[[suppress]]\nrule = "*"\nreason = "nothing to see here"\n'
    )
    code, data = scan_json(capsys, repo)
    assert code == 1
    rules = {(f["rule"], Path(f["location"]["path"]).name) for f in data["findings"]}
    assert rules == {("MW100", "evil.pkl"), ("MW003", "mlwarden.toml")}
    assert data["suppressed"] == []
    no_marker(work)


def test_config_in_use_inside_the_tree_is_not_untrusted(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (work / "cwd" / "mlwarden.toml").write_text('exclude = ["*.tmp"]\n')
    code, data = scan_json(capsys, ".")
    assert code == 0
    assert data["findings"] == []


# --- baseline -------------------------------------------------------------------------------


def test_baseline_round_trip(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    evil_pickle(work / "models")
    baseline = work / "baseline.json"
    assert run(work / "models", "--format", "json", "--output", baseline) == 1
    code, data = scan_json(capsys, work / "models", "--baseline", baseline)
    assert code == 0
    assert data["findings"] == []
    [hidden] = data["suppressed"]
    assert (hidden["rule"], hidden["source"]) == ("MW100", "baseline")
    # A new finding is still reported.
    second = work / "models" / "second.pkl"
    second.write_bytes(pickle.dumps(Payload(), protocol=2))
    code, data = scan_json(capsys, work / "models", "--baseline", baseline)
    assert code == 1
    assert [Path(f["location"]["path"]).name for f in data["findings"]] == ["second.pkl"]
    no_marker(work)


def test_bad_baseline(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (work / "b.json").write_text("[]")
    assert run(work / "models", "--baseline", work / "b.json") == 2
    assert "no 'findings' list" in capsys.readouterr().err
    assert run(work / "models", "--baseline", work / "missing.json") == 2


# --- output ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "html"])
def test_output_file_is_written(work: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    evil_pickle(work / "models")
    output = work / f"report.{fmt}"
    output.write_text("previous")
    assert run(work / "models", "--format", fmt, "--output", output) == 1
    assert capsys.readouterr().out == ""
    text = output.read_text()
    assert "MW100" in text and "previous" not in text
    assert "\x1b[" not in text
    assert [p.name for p in work.iterdir() if p.name.startswith(".report")] == []


def test_output_never_replaces_a_scanned_file(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = evil_pickle(work / "models")
    before = evil.read_bytes()
    assert run(evil, "--output", evil) == 2
    assert "refusing to write the report over" in capsys.readouterr().err
    assert evil.read_bytes() == before
    assert run(work / "models", "--format", "json", "--output", evil) == 2
    assert evil.read_bytes() == before


def test_output_inside_the_scanned_tree(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    evil_pickle(work / "models")
    output = work / "models" / "report.json"
    # A new file is fine; once it exists it is part of the tree and is not written over.
    assert run(work / "models", "--format", "json", "--output", output) == 1
    assert run(work / "models", "--format", "json", "--output", output) == 2
    assert "scanned tree" in capsys.readouterr().err
    (work / "cwd" / "mlwarden.toml").write_text('exclude = ["report.json"]\n')
    assert run(work / "models", "--format", "json", "--output", output) == 1


def test_unwritable_output(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(work / "models", "--output", work / "no" / "dir" / "r.json") == 2
    assert "does not exist" in capsys.readouterr().err
    assert run(work / "models", "--output", work / "models") == 2
    assert "is a directory" in capsys.readouterr().err


def test_unreadable_input_is_exit_2_with_report(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root, who reads every file: the engine's unreadable-file error is simulated.
    import mlwarden.commands.scan as command
    from mlwarden.findings import Report, ScanError

    def scan(paths: list[str], **_: object) -> Report:
        return Report(targets=tuple(paths), errors=(ScanError("models/x.pkl", "cannot read"),))

    monkeypatch.setattr(command, "scan", scan)
    assert run(work / "models", "--format", "json", "--fail-on", "never") == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["errors"] == [{"path": "models/x.pkl", "message": "cannot read"}]
    assert "could not be scanned completely" in err


# --- progress and the real process ----------------------------------------------------------


def test_progress_callback() -> None:
    with progress_bar(enabled=False) as callback:
        assert callback is None
    with progress_bar(enabled=True) as callback:
        assert callback is not None
        for done in range(1, 21):
            callback(done, 20, f"models/{done}.pkl")


def test_subprocess_exit_code_and_stderr(work: Path) -> None:
    evil_pickle(work / "models")
    done = subprocess.run(
        [sys.executable, "-m", "mlwarden.cli", "scan", str(work / "models"), "--format", "sarif"],
        capture_output=True,
        text=True,
        check=False,
        cwd=work / "cwd",
    )
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["runs"][0]["results"][0]["ruleId"] == "MW100"
    done = subprocess.run(
        [sys.executable, "-m", "mlwarden.cli", "scan", str(work / "nope")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("mlwarden: error: no such file or directory")
    no_marker(work)


def test_pre_commit_hook() -> None:
    import re

    yaml = pytest.importorskip("yaml")
    root = Path(__file__).resolve().parents[1]
    [hook] = yaml.safe_load((root / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert (hook["id"], hook["language"], hook["entry"]) == ("mlwarden", "python", "mlwarden scan")
    files = re.compile(hook["files"])
    for name in ("model.pkl", "W.PT", "m.pth", "x.joblib", "a.npy", "k.keras", "m.onnx", "g.gguf"):
        assert files.search(name), name
    for name in ("train.py", "README.md", "data.csv"):
        assert not files.search(name), name


def test_python_dash_m_mlwarden_writes_a_large_report_whole(work: Path) -> None:
    # The program ends without interpreter teardown: everything printed must still arrive.
    models = work / "models"
    for i in range(40):
        (models / f"copy{i}").mkdir(parents=True)
        evil_pickle(models / f"copy{i}")
    done = subprocess.run(
        [sys.executable, "-m", "mlwarden", "scan", str(models), "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=work / "cwd",
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert len([f for f in report["findings"] if f["rule"] == "MW100"]) == 40
    no_marker(work)


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        main(["--help"])
    assert ended.value.code == 0
    listed = capsys.readouterr().out
    assert all(f"    {name} " in listed for name in ("scan", "convert", "redact", "db"))


def test_each_command_parses_with_its_own_parser(capsys: pytest.CaptureFixture[str]) -> None:
    # A run that names its command builds only that command's parser; each must still work.
    for command in (["convert", "--help"], ["redact", "--help"], ["db", "status", "--help"]):
        with pytest.raises(SystemExit) as ended:
            main(command)
        assert ended.value.code == 0
        assert capsys.readouterr().out.startswith(f"usage: mlwarden {' '.join(command[:-1])}")
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().err
    with pytest.raises(SystemExit) as ended:
        main(["bogus"])
    assert ended.value.code == 2
    assert "invalid choice: 'bogus'" in capsys.readouterr().err
