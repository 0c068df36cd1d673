"""What every scan of damaged input must satisfy, and the settings the fuzz tests share.

A scan of any bytes returns findings whose rules exist in the catalogue; it never raises, and
it ends within its time limit (CPU time is measured, so a busy machine does not fail a
sound scan; a watchdog turns a hang into a failure instead of a stuck run).
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from hypothesis import HealthCheck, settings

from mlwarden.engine import scan_bytes, scan_file
from mlwarden.findings import Finding, Severity
from mlwarden.rules import get_rule
from mlwarden.scanners.interface import Limits

#: Tight limits, so that a parser that loops or over-reads meets them quickly.
FUZZ_LIMITS = Limits(
    max_metadata_bytes=4 * 1024 * 1024,
    max_archive_depth=4,
    max_archive_members=2_000,
    max_uncompressed_bytes=64 * 1024 * 1024,
    max_pickle_opcodes=200_000,
    max_pickles_per_file=16,
    seconds_per_file=1.5,
)

#: A scan may overrun its time limit by one unchecked step, not by more than this in total.
#: Measured as CPU time of this process, so other work on a busy machine does not count.
MAX_SECONDS = 5.0

#: Past this the scan is interrupted and reported as a hang.
WATCHDOG_SECONDS = 20.0

FUZZ = settings(
    max_examples=int(os.environ.get("MLWARDEN_FUZZ_EXAMPLES", "120")),
    deadline=None,  # time is measured per scan below, against the scan's own limit
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.filter_too_much,
    ],
    print_blob=True,
)


class ScanHung(AssertionError):
    """The scan did not end within :data:`WATCHDOG_SECONDS`."""


@contextmanager
def _watchdog(seconds: float) -> Iterator[None]:
    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise ScanHung(f"scan still running after {seconds:g}s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_findings(findings: object, path: str) -> list[Finding]:
    """Every item is a Finding about ``path``, of a catalogued rule, with a real severity."""
    assert isinstance(findings, list), type(findings)
    for finding in findings:
        assert isinstance(finding, Finding), finding
        get_rule(finding.rule)  # KeyError: a rule missing from the catalogue
        assert isinstance(finding.severity, Severity)
        assert finding.location.path == path, finding.location
        finding.to_dict()  # the report must be able to render it
    return findings


def scan_soundly(data: bytes, name: str) -> list[Finding]:
    """Scan in-memory bytes and check the oracle; exceptions propagate with their traceback."""
    started = time.process_time()
    with _watchdog(WATCHDOG_SECONDS):
        findings = scan_bytes(data, name=name, limits=FUZZ_LIMITS)
    elapsed = time.process_time() - started
    assert elapsed < MAX_SECONDS, (
        f"scan took {elapsed:.1f}s (limit {FUZZ_LIMITS.seconds_per_file}s)"
    )
    return check_findings(findings, name)


_FILES = Path(tempfile.mkdtemp(prefix="mlwarden-fuzz-"))


def scan_file_soundly(data: bytes, name: str) -> list[Finding]:
    """Scan the bytes as a file on disk, for formats whose readers need one (HDF5)."""
    path = _FILES / name
    path.write_bytes(data)
    started = time.process_time()
    with _watchdog(WATCHDOG_SECONDS):
        result = scan_file(name, path, FUZZ_LIMITS)
    elapsed = time.process_time() - started
    assert elapsed < MAX_SECONDS, f"scan took {elapsed:.1f}s of CPU time"
    internal = [e.message for e in result.errors if e.message.startswith("internal error")]
    assert not internal, internal
    return check_findings(result.findings, name)
