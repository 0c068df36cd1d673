"""``mlwarden db update`` and ``mlwarden db status``: exit codes, messages, atomic updates."""

from __future__ import annotations

import io
import json
import sqlite3
import urllib.error
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mlwarden.cli import main
from mlwarden.scanners.deps.db.paths import default_database_path
from mlwarden.scanners.deps.db.update import OSV_PYPI_EXPORT

FIXTURES = Path(__file__).parent / "fixtures_osv"


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("MLWARDEN_CACHE_DIR", str(folder))
    return folder


def export_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for path in sorted(FIXTURES.glob("*.json")):
            zf.writestr(path.name, path.read_bytes())
    return buffer.getvalue()


def offline(*args: Any, **kwargs: Any) -> Any:
    raise urllib.error.URLError("Name or service not known")


def test_update_from_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "adv.db"
    assert main(["db", "update", "--from", str(FIXTURES), "--db", str(target)]) == 0
    out = capsys.readouterr().out
    assert "compiled 15 advisories for 11 packages (1 withdrawn)" in out
    assert "3 files skipped" in out
    assert main(["db", "status", "--db", str(target)]) == 0
    captured = capsys.readouterr()
    assert f"database: {target}" in captured.out
    assert "records:  15 advisories for 11 packages (1 withdrawn, never matched)" in captured.out
    assert captured.err == ""


def test_update_from_zip_into_the_default_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "all.zip"
    archive.write_bytes(export_zip())
    assert main(["db", "update", "--from", str(archive)]) == 0
    assert default_database_path().is_file()
    capsys.readouterr()
    assert main(["db", "status"]) == 0
    out = capsys.readouterr().out
    assert f"source:   {archive.resolve()}" in out


def test_download_when_online(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    requested: list[str] = []

    def fake_urlopen(request: Any, timeout: float) -> io.BytesIO:
        requested.append(request.full_url)
        return io.BytesIO(export_zip())

    monkeypatch.setattr("urllib.request.urlopen", fake_urlopen)
    assert main(["db", "update"]) == 0
    assert requested == [OSV_PYPI_EXPORT]
    assert OSV_PYPI_EXPORT in capsys.readouterr().out
    # The downloaded archive does not stay behind.
    assert sorted(p.name for p in default_database_path().parent.iterdir()) == ["advisories.db"]


@pytest.mark.parametrize("source", [None, "https://example.invalid/all.zip"])
def test_offline_update_fails_and_keeps_the_database(
    source: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    target = tmp_path / "adv.db"
    assert main(["db", "update", "--from", str(FIXTURES), "--db", str(target)]) == 0
    before = target.read_bytes()
    capsys.readouterr()
    monkeypatch.setattr("urllib.request.urlopen", offline)
    argv = ["db", "update", "--db", str(target)] + (["--from", source] if source else [])
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "cannot download" in err and "existing database is unchanged" in err
    assert "--from PATH" in err
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adv.db"]  # no download left


def test_update_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "update", "--from", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["db", "update", "--from", str(empty)]) == 2
    assert "no OSV records" in capsys.readouterr().err
    assert not default_database_path().exists()
    assert main(["db", "update", "--from", str(FIXTURES), "--db", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert main(["db"]) == 2


def test_status_warns_when_stale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "adv.db"
    assert main(["db", "update", "--from", str(FIXTURES), "--db", str(target)]) == 0
    old = (datetime.now(UTC) - timedelta(days=9)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with sqlite3.connect(target) as connection:
        connection.execute("UPDATE meta SET value = ? WHERE key = 'built_at'", (old,))
    capsys.readouterr()
    assert main(["db", "status", "--db", str(target)]) == 0
    captured = capsys.readouterr()
    assert "(9 days ago)" in captured.out
    assert "advisory database is 9 days old" in captured.err
    assert "mlwarden db update" in captured.err


def test_status_without_a_database_describes_the_curated_set(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["db", "status"]) == 0
    captured = capsys.readouterr()
    assert "source:   curated ML advisories shipped with mlwarden" in captured.out
    assert "no compiled database" in captured.err


def test_status_of_a_directory_compiles_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["db", "status", "--db", str(FIXTURES)]) == 0
    assert "records:  15 advisories" in capsys.readouterr().out


def test_status_of_missing_database_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "status", "--db", str(tmp_path / "none.db")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_curated_records_are_valid_osv() -> None:
    folder = Path(__file__).parents[2] / "src" / "mlwarden" / "scanners" / "deps" / "db" / "curated"
    files = sorted(folder.glob("*.json"))
    assert 15 <= len(files) <= 30
    for path in files:
        data = json.loads(path.read_text())
        assert data["id"].startswith("PYSEC-") and path.name.endswith(f"{data['id']}.json")
        assert any(a.startswith("CVE-") for a in data["aliases"]), path.name
        assert data["summary"] and data["references"]
        for affected in data["affected"]:
            assert affected["package"]["ecosystem"] == "PyPI"
            assert affected["ranges"][0]["type"] == "ECOSYSTEM"
