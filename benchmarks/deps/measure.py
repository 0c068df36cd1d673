"""Whole-process measurements: wall time and peak resident memory of one command."""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass
class Run:
    """One run of a command: its status, wall seconds, peak RSS and where its output went."""

    argv: list[str]
    returncode: int
    seconds: float
    peak_mb: float
    timed_out: bool
    stdout: str
    stderr: str

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return asdict(self)


def run(
    argv: Sequence[str],
    *,
    stdout: Path,
    stderr: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 600.0,
) -> Run:
    """Run ``argv`` to its end (or ``timeout``), output to files; time it and read its peak RSS.

    The peak is the child's ``ru_maxrss`` from ``wait4``: the largest resident set the process
    reached (the commands measured here run in one process).
    """
    full_env = dict(os.environ)
    full_env.update(env or {})
    stdout.parent.mkdir(parents=True, exist_ok=True)
    with stdout.open("wb") as out, stderr.open("wb") as err:
        start = time.perf_counter()
        process = subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env=full_env,
            cwd=cwd,
            start_new_session=True,
        )
        expired = threading.Event()

        def kill() -> None:
            expired.set()
            os.killpg(process.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _pid, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    process.returncode = code  # reaped by wait4: keep Popen from waiting again
    return Run(
        argv=list(argv),
        returncode=code,
        seconds=round(seconds, 4),
        peak_mb=round(usage.ru_maxrss / 1024, 1),
        timed_out=expired.is_set(),
        stdout=str(stdout),
        stderr=str(stderr),
    )


def summary(runs: Sequence[Run]) -> dict[str, Any]:
    """Median wall time, every time, the largest peak and the exit statuses of repeated runs."""
    return {
        "median_s": round(statistics.median(r.seconds for r in runs), 4),
        "runs_s": [round(r.seconds, 3) for r in runs],
        "peak_mb": max(r.peak_mb for r in runs),
        "returncodes": sorted({r.returncode for r in runs}),
        "timed_out": any(r.timed_out for r in runs),
    }
