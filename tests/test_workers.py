"""Forked worker processes: every unit answered once, failures and lost workers reported."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import psutil
import pytest

import mlwarden.scanners as registry
import mlwarden.sharing as sharing
from mlwarden.engine import scan_paths
from mlwarden.findings import Finding, Severity
from mlwarden.scanners.interface import Artifact, ScanContext, Scanner
from mlwarden.sniff import Kind
from mlwarden.workers import WorkerFailed, WorkerLost, can_fork, run_forked

pytestmark = pytest.mark.skipif(not can_fork(), reason="forked workers are used on Linux only")


def _no_children_left() -> bool:
    """No child process of this one is left, running or unreaped."""
    return not psutil.Process().children()


def _square(n: int) -> int:
    if n == 13:
        raise ValueError("thirteen")
    if n == 21:
        os.kill(os.getpid(), signal.SIGKILL)
    return n * n


def test_every_unit_is_answered_once_in_any_order() -> None:
    units = list(range(40))
    results = dict(run_forked(units, _square, 3))
    assert sorted(results) == units
    assert isinstance(results[13], WorkerFailed) and "thirteen" in results[13].error
    assert isinstance(results[21], WorkerLost) and "SIGKILL" in results[21].reason
    # The worker that died was replaced: every later unit still ran.
    assert all(results[n] == n * n for n in units if n not in (13, 21))
    assert _no_children_left()


def test_more_processes_than_units_and_no_units() -> None:
    assert dict(run_forked([2, 3], _square, 8)) == {0: 4, 1: 9}
    assert list(run_forked([], _square, 2)) == []
    assert _no_children_left()


def test_leaving_early_ends_every_worker() -> None:
    for _index, _result in run_forked(list(range(100)), _square, 2):
        break
    assert _no_children_left()


def test_results_that_cannot_be_sent_are_failures() -> None:
    results = dict(run_forked([1], lambda n: lambda: n, 1))
    assert isinstance(results[0], WorkerFailed)
    assert "could not be sent" in results[0].error


class CrashProbe(Scanner):
    """Ends its own process on files that say so, as a crash in a C library would."""

    name = "test-crash-probe"
    kinds: ClassVar[frozenset[Kind]] = frozenset(Kind)

    def scan(self, artifact: Artifact, context: ScanContext) -> Iterator[Finding]:
        if artifact.read_at_most(16).startswith(b"crash"):
            os.kill(os.getpid(), signal.SIGKILL)
        yield self.finding(
            artifact, "MW002", "probe saw it", severity=Severity.INFO, key=artifact.path
        )


@pytest.fixture
def crash_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    registry.registered()
    monkeypatch.setattr(registry, "_REGISTRY", [CrashProbe])


def test_a_file_that_ends_its_worker_fails_closed_alone(tmp_path: Path, crash_probe: Any) -> None:
    for i in range(30):
        (tmp_path / f"f{i:02d}.bin").write_bytes(b"crash" if i == 7 else b"fine %d" % i)
    report = scan_paths([tmp_path], jobs=2)
    assert report.files == 30
    assert [e.path for e in report.errors] == [str(tmp_path / "f07.bin")]
    assert "SIGKILL" in report.errors[0].message
    lost = [f for f in report.findings if f.location.path.endswith("f07.bin")]
    assert [f.rule for f in lost] == ["MW002"] and "internal error" in lost[0].message
    # Every other file, including those that shared a unit of work with it, was scanned.
    seen = {f.location.path for f in report.findings if f.message == "probe saw it"}
    assert len(seen) == 29
    assert _no_children_left()


def test_the_process_pool_elsewhere_gives_the_same_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(20):
        (tmp_path / f"n{i:02d}.npy").write_bytes(b"\x93NUMPY\x01\x00" + bytes(10))
    forked = scan_paths([tmp_path], jobs=2)
    monkeypatch.setattr(sharing, "can_fork", lambda: False)
    pooled = scan_paths([tmp_path], jobs=2)
    assert [f.to_dict() for f in pooled.findings] == [f.to_dict() for f in forked.findings]
    assert pooled.files == forked.files == 20
