"""Compiling OSV records into the database: sources, skipped files, atomicity, the cache."""

from __future__ import annotations

import json
import os
import sqlite3
import zipfile
from pathlib import Path

import pytest

from mlwarden.scanners.deps.db import AdvisoryDatabase, DatabaseError
from mlwarden.scanners.deps.db.compile import CompileError, compile_database
from mlwarden.scanners.deps.db.paths import compiled_path_for, default_database_path

FIXTURES = Path(__file__).parent / "fixtures_osv"


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("MLWARDEN_CACHE_DIR", str(folder))
    return folder


def record(identifier: str, package: str, fixed: str) -> dict[str, object]:
    return {
        "id": identifier,
        "modified": "2025-01-01T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": package},
                "ranges": [
                    {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}
                ],
            }
        ],
    }


def test_compile_directory_at_any_depth(tmp_path: Path) -> None:
    target = tmp_path / "out.db"
    summary = compile_database(FIXTURES, target, workers=1)
    assert (summary.files, summary.records, summary.withdrawn) == (19, 15, 1)
    reasons = {Path(name).name: reason for name, reason in summary.skipped}
    assert reasons["not_a_record.txt"] == "not a .json, .yaml or .yml file"
    assert reasons["broken.json"].startswith("not valid JSON")
    assert "names no PyPI package" in reasons["other_ecosystem.json"]
    with AdvisoryDatabase.open(target) as db:
        assert db.vulnerabilities("yaml-pkg", "1.0")  # found in the yaml/ sub-folder
        info = db.info()
        assert (info.records, info.skipped, info.withdrawn) == (15, 3, 1)
        assert info.source == str(FIXTURES.resolve())
        assert info.built_at is not None and not info.stale


def test_compile_zip_like_the_osv_export(tmp_path: Path) -> None:
    archive = tmp_path / "all.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for n in range(3):
            zf.writestr(
                f"PYSEC-2099-{n}.json", json.dumps(record(f"PYSEC-2099-{n}", "zpkg", "2.0"))
            )
        zf.writestr("README.txt", "not a record")
    with AdvisoryDatabase.open(archive) as db:
        assert len(db.records("zpkg")) == 3
        assert db.info().skipped == 1
        assert [v.id for v in db.vulnerabilities("zpkg", "1.0")] == [
            "PYSEC-2099-0",
            "PYSEC-2099-1",
            "PYSEC-2099-2",
        ]


def test_parallel_compilation_gives_the_same_database(tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(250):  # above the threshold for a worker pool
        path = folder / f"pkg{n % 7}" / f"PYSEC-2099-{n}.json"
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(record(f"PYSEC-2099-{n}", f"pkg{n % 7}", f"{n}.0")))
    one = compile_database(folder, tmp_path / "one.db", workers=1)
    two = compile_database(folder, tmp_path / "two.db", workers=2)
    assert (one.records, one.packages) == (two.records, two.packages) == (250, 7)
    with (
        AdvisoryDatabase.open(tmp_path / "one.db") as a,
        AdvisoryDatabase.open(tmp_path / "two.db") as b,
    ):
        assert a.record_ids() == b.record_ids()
        assert a.vulnerabilities("pkg3", "100") == b.vulnerabilities("pkg3", "100")


def test_later_modified_record_wins_for_one_id(tmp_path: Path) -> None:
    folder = tmp_path / "dup"
    folder.mkdir()
    old = record("PYSEC-2099-1", "dpkg", "1.0")
    new = record("PYSEC-2099-1", "dpkg", "2.0") | {"modified": "2025-06-01T00:00:00Z"}
    (folder / "a.json").write_text(json.dumps(new))
    (folder / "b.json").write_text(json.dumps(old))
    with AdvisoryDatabase.open(folder) as db:
        (vuln,) = db.vulnerabilities("dpkg", "1.5")
        assert vuln.fixed_in == ("2.0",)


def test_nothing_usable_is_an_error_and_leaves_the_target(tmp_path: Path) -> None:
    target = tmp_path / "out.db"
    target.write_bytes(b"previous database")
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("nothing here")
    with pytest.raises(CompileError, match="no OSV records of PyPI packages"):
        compile_database(empty, target)
    assert target.read_bytes() == b"previous database"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.db")] == []
    with pytest.raises(DatabaseError):
        AdvisoryDatabase.open(empty)


def test_write_is_atomic_when_interrupted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.db"
    compile_database(FIXTURES, target, workers=1)
    before = target.read_bytes()

    def fail(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("mlwarden.scanners.deps.db.compile.fill_database", fail)
    with pytest.raises(KeyboardInterrupt):
        compile_database(FIXTURES, target, workers=1)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.db"]


def test_cache_is_reused_then_rebuilt_when_the_source_changes(tmp_path: Path) -> None:
    folder = tmp_path / "records"
    folder.mkdir()
    (folder / "a.json").write_text(json.dumps(record("PYSEC-2099-1", "cpkg", "1.0")))
    with AdvisoryDatabase.open(folder) as db:
        first = db.info().built_at
        assert db.info().path == compiled_path_for(folder)
    compiled = compiled_path_for(folder)
    stamp = compiled.stat().st_mtime_ns
    with AdvisoryDatabase.open(folder) as db:
        assert db.info().built_at == first
    assert compiled.stat().st_mtime_ns == stamp  # warm: not compiled again
    (folder / "b.json").write_text(json.dumps(record("PYSEC-2099-2", "cpkg", "2.0")))
    with AdvisoryDatabase.open(folder) as db:
        assert len(db.records("cpkg")) == 2


def test_open_default_falls_back_to_curated(cache: Path) -> None:
    assert not default_database_path().exists()
    with AdvisoryDatabase.open(None) as db:
        info = db.info()
        assert info.curated and info.path is None
        assert 15 <= info.records <= 30
        assert "curated" in (info.warning() or "")
        (torch,) = db.vulnerabilities("torch", "2.5.1")
        assert torch.id == "GHSA-53q9-r3pm-6pq6" and "CVE-2025-32434" in torch.aliases
        assert db.fix("torch", "2.5.1", [torch]) == "2.6.0"


def test_open_default_uses_the_compiled_database(cache: Path) -> None:
    compile_database(FIXTURES, default_database_path(), workers=1)
    with AdvisoryDatabase.open(None) as db:
        assert not db.info().curated
        assert db.info().path == default_database_path()


def test_open_rejects_missing_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(DatabaseError, match="does not exist"):
        AdvisoryDatabase.open(tmp_path / "nope.db")
    foreign = tmp_path / "foreign.db"
    sqlite3.connect(foreign).execute("CREATE TABLE t(x)").connection.commit()
    with pytest.raises(DatabaseError, match="not an mlwarden advisory database"):
        AdvisoryDatabase.open(foreign)
    other = tmp_path / "plain.bin"
    other.write_bytes(os.urandom(64))
    with pytest.raises(DatabaseError, match="neither a directory"):
        AdvisoryDatabase.open(other)
