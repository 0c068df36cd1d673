"""The Dask engine gives what one machine gives: the same redacted bytes, the same findings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redact_builders import KEY, people, write_csv, write_jsonl, write_parquet

from mlwarden.protect.redact import RedactionError, redact

distributed = pytest.importorskip("distributed")
pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A small in-process cluster: two workers of one thread each."""
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    ) as cluster:
        yield cluster.scheduler_address


@pytest.mark.parametrize("method", ["hash", "encrypt", "mask"])
def test_csv_redaction_on_the_cluster_is_byte_identical(
    scheduler: str, tmp_path: Path, method: str
) -> None:
    source = tmp_path / "people.csv"
    write_csv(source, people(600))
    local, remote = tmp_path / "local.csv", tmp_path / "remote.csv"
    plan_local = redact(source, local, method=method, key=KEY)
    # Small partitions: many boundaries, some next to multi-line quoted notes.
    plan_remote = redact(
        source, remote, method=method, key=KEY, engine="dask", scheduler=scheduler,
        blocksize=7000,
    )  # fmt: skip
    assert remote.read_bytes() == local.read_bytes()
    assert plan_remote.columns == plan_local.columns and plan_remote.rows == 600
    assert plan_remote.engine == "dask"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["local.csv", "people.csv", "remote.csv"]


def test_jsonl_redaction_on_the_cluster_is_byte_identical(scheduler: str, tmp_path: Path) -> None:
    source = tmp_path / "people.jsonl"
    write_jsonl(source, people(300))
    local, remote = tmp_path / "local.jsonl", tmp_path / "remote.jsonl"
    redact(source, local, method="fake", key=KEY)
    redact(
        source, remote, method="fake", key=KEY, engine="dask", scheduler=scheduler, blocksize=5000
    )
    assert remote.read_bytes() == local.read_bytes()


def test_parquet_redaction_on_the_cluster_gives_the_same_table(
    scheduler: str, tmp_path: Path
) -> None:
    source = tmp_path / "people.parquet"
    write_parquet(source, people(400), row_group_size=50)
    local, remote = tmp_path / "local.parquet", tmp_path / "remote.parquet"
    redact(source, local, method="hash", key=KEY)
    redact(source, remote, method="hash", key=KEY, engine="dask", scheduler=scheduler, blocksize=1)
    a, b = pq.ParquetFile(local), pq.ParquetFile(remote)
    assert a.schema_arrow == b.schema_arrow
    assert b.metadata.num_row_groups == a.metadata.num_row_groups == 8
    assert a.read().to_pylist() == b.read().to_pylist()


def test_a_csv_that_cannot_be_split_is_refused_not_corrupted(
    scheduler: str, tmp_path: Path
) -> None:
    # A quote character inside an unquoted field (5'3") flips the quote parity, so that the
    # line breaks inside the quoted notes that follow look like record ends. The engine
    # notices that a range ran past its end and refuses, instead of writing a wrong file.
    source = tmp_path / "odd.csv"
    rows = ["0,user0@example.com,5'3\" tall"]
    rows += [f'{i},user{i}@example.com,"first line\nsecond line {i}"' for i in range(1, 300)]
    source.write_text("id,email,notes\n" + "\n".join(rows) + "\n")
    remote = tmp_path / "remote.csv"
    with pytest.raises(RedactionError, match="could not be split on record boundaries"):
        redact(source, remote, method="mask", columns=["email"], engine="dask",
               scheduler=scheduler, blocksize=2000)  # fmt: skip
    assert not remote.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd.csv"]
    # The local engine reads it as the csv module does.
    redact(source, tmp_path / "local.csv", method="mask", columns=["email"])


def test_an_unreachable_scheduler_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlwarden.distributed

    monkeypatch.setattr(mlwarden.distributed, "CONNECT_TIMEOUT", "1s")
    source = tmp_path / "people.csv"
    write_csv(source, people(5))
    with pytest.raises(RedactionError, match="cannot reach the Dask scheduler"):
        redact(source, tmp_path / "out.csv", engine="dask", scheduler="tcp://127.0.0.1:9")
    assert not (tmp_path / "out.csv").exists()


def findings_as_dicts(findings: Any) -> list[dict[str, Any]]:
    return [f.to_dict() for f in findings if f.rule.startswith("MW6")]


def test_scan_on_the_cluster_reports_the_local_findings(
    scheduler: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlwarden import scan
    from mlwarden.distributed import scan_dataset_on_cluster
    from mlwarden.scanners.data import tables

    # Small blocks: many batches, so that verdicts are summed across workers.
    monkeypatch.setattr(tables, "CSV_BLOCK_BYTES", 16 << 10)
    source = tmp_path / "people.csv"
    write_csv(source, people(900))
    local = findings_as_dicts(scan([source], jobs=1).findings)
    assert {f["evidence"]["entity"] for f in local} >= {"EMAIL", "PHONE"}
    remote = findings_as_dicts(scan_dataset_on_cluster(source, scheduler, display=str(source)))
    assert remote == local


def test_scan_command_with_the_dask_engine_equals_the_local_scan(
    scheduler: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from mlwarden.cli import main

    source = tmp_path / "people.csv"
    write_csv(source, people(300))
    (tmp_path / "model.pkl").write_bytes(b"\x80\x04N.")  # other files are scanned locally
    main(["scan", str(tmp_path), "--format", "json", "--jobs", "1"])
    local = json.loads(capsys.readouterr().out)
    code = main(
        ["scan", str(tmp_path), "--format", "json", "--engine", "dask", "--scheduler", scheduler]
    )
    remote = json.loads(capsys.readouterr().out)
    assert remote["findings"] == local["findings"]
    assert any(f["rule"].startswith("MW6") for f in remote["findings"])
    assert code in (0, 1)


def test_scan_command_refuses_an_unreachable_scheduler(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlwarden.cli import main

    write_csv(tmp_path / "people.csv", people(10))
    code = main(["scan", str(tmp_path), "--engine", "dask", "--scheduler", "tcp://127.0.0.1:9"])
    assert code == 2
    assert "Dask scheduler" in capsys.readouterr().err
    assert main(["scan", str(tmp_path), "--engine", "dask"]) == 2
