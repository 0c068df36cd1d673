"""Atomic writes keep the usual file mode and leave nothing behind on failure."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from mlwarden.atomic import atomic_output, usual_mode
from mlwarden.cli import main


def test_a_report_written_with_output_gets_the_usual_mode(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "m.pkl").write_bytes(pickle.dumps({"a": 1}))
    report = tmp_path / "report.json"
    assert main(["scan", str(tmp_path / "in"), "--format", "json", "-o", str(report)]) == 0
    assert report.stat().st_mode & 0o777 == usual_mode()


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_output(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("stop")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]
