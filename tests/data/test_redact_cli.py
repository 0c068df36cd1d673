"""``mlwarden redact``: exit status, messages, keys, the JSON summary, --decrypt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from redact_builders import KEY, OTHER_KEY, people, write_csv

from mlwarden.cli import main


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    source = tmp_path / "people.csv"
    write_csv(source, people(12))
    key = tmp_path / "redact.key"
    key.write_text(KEY + "\n")
    return source, key


def test_redact_writes_the_output_and_a_summary(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, key = files
    out = tmp_path / "out.csv"
    args = [str(source), "--output", str(out), "--method", "hash", "--key-file", str(key)]
    assert main(["redact", *args]) == 0
    text = capsys.readouterr().out
    assert "redacted (hash)" in text and "email: EMAIL, whole cells, 12 cells changed" in text
    assert "user1@example.com" not in out.read_text()
    assert "user1@example.com" not in text  # the summary never shows values


def test_json_summary_and_columns(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, _ = files
    out = tmp_path / "out.csv"
    args = [str(source), "-o", str(out), "--columns", "name, email", "--format", "json"]
    assert main(["redact", *args]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["method"] == "mask" and summary["rows"] == 12
    assert [c["column"] for c in summary["columns"]] == ["name", "email"]


def test_decrypt_reverses_encrypt_with_the_key_from_the_environment(
    files: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source, _ = files
    monkeypatch.setenv("MLWARDEN_TEST_KEY", KEY)
    encrypted, back = tmp_path / "enc.csv", tmp_path / "back.csv"
    common = ["--key-env", "MLWARDEN_TEST_KEY"]
    assert main(["redact", str(source), "-o", str(encrypted), "--method", "encrypt", *common]) == 0
    assert main(["redact", str(encrypted), "-o", str(back), "--decrypt", *common]) == 0
    assert back.read_bytes() == source.read_bytes()
    monkeypatch.setenv("MLWARDEN_TEST_KEY", OTHER_KEY)
    capsys.readouterr()
    wrong = tmp_path / "wrong.csv"
    assert main(["redact", str(encrypted), "-o", str(wrong), "--decrypt", *common]) == 2
    assert "does not decrypt with this key" in capsys.readouterr().err
    assert not wrong.exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--method", "hash"], "needs a secret key"),
        (["--method", "fake"], "needs a secret key"),
        (["--columns", "nope"], "no column named 'nope'"),
        (["--entities", "SHOE_SIZE"], "unknown entity"),
        (["--engine", "dask"], "needs the address of a scheduler"),
        (["--decrypt"], "--decrypt needs the key"),
        (["--plan-rows", "0"], "--plan-rows must be at least 1"),
        (["--key-file", "/nonexistent/key", "--method", "hash"], "cannot read key file"),
    ],
)
def test_usage_errors_exit_2_with_a_message_and_write_nothing(
    files: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    source, _ = files
    out = tmp_path / "out.csv"
    assert main(["redact", str(source), "-o", str(out), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_bad_inputs_exit_2(
    files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source, _ = files
    assert main(["redact", str(source), "-o", str(source)]) == 2
    assert "never writes over its input" in capsys.readouterr().err
    assert main(["redact", str(tmp_path / "missing.csv"), "-o", str(tmp_path / "o")]) == 2
    assert "does not exist" in capsys.readouterr().err
    binary = tmp_path / "model.bin"
    binary.write_bytes(b"\x00\x01\x02\x03" * 100)
    assert main(["redact", str(binary), "-o", str(tmp_path / "o")]) == 2
    assert "not a dataset" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_output_is_required(files: tuple[Path, Path]) -> None:
    source, _ = files
    with pytest.raises(SystemExit) as exit_info:
        main(["redact", str(source)])
    assert exit_info.value.code == 2
