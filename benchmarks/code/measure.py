"""Whole-process measurements: wall time and peak resident memory of a process tree.

mlwarden scans with worker processes, so the peak is sampled over the whole tree (the sum of
the RSS of the process and its descendants, every 20 ms) and compared with the largest single
process that ``wait4`` reports; the larger of the two is kept.
"""

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

import psutil

SAMPLE_S = 0.02


@dataclass
class Run:
    """One run of a command: exit status, wall seconds, peak RSS of its tree."""

    argv: list[str]
    returncode: int
    seconds: float
    peak_mb: float
    timed_out: bool

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return asdict(self)


def _tree_rss(root: psutil.Process) -> int:
    total = 0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue
    return total


def run(
    argv: Sequence[str],
    *,
    stdout: Path,
    stderr: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 900.0,
) -> Run:
    """Run ``argv`` to its end (or ``timeout``) with output to files; time it, watch its RSS."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    stdout.parent.mkdir(parents=True, exist_ok=True)
    peak = 0
    done = threading.Event()
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
        root = psutil.Process(process.pid)

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss(root))
                done.wait(SAMPLE_S)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
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
            done.set()
        seconds = time.perf_counter() - start
        sampler.join()
    code = os.waitstatus_to_exitcode(status)
    process.returncode = code  # reaped by wait4: keep Popen from waiting again
    largest_single = usage.ru_maxrss * 1024  # kilobytes on Linux
    return Run(
        argv=list(argv),
        returncode=code,
        seconds=round(seconds, 4),
        peak_mb=round(max(peak, largest_single) / 2**20, 1),
        timed_out=expired.is_set(),
    )


def summary(runs: list[Run]) -> dict[str, Any]:
    """Median wall time, all runs, and the largest peak of a list of runs of one command."""
    return {
        "median_s": round(statistics.median(r.seconds for r in runs), 3),
        "runs_s": [r.seconds for r in runs],
        "peak_mb": max(r.peak_mb for r in runs),
        "returncodes": [r.returncode for r in runs],
        "timed_out": any(r.timed_out for r in runs),
    }


def python_lines(tree: Path) -> dict[str, int]:
    """Files, lines and bytes of Python source (``*.py``) under ``tree``: the speed unit."""
    files = lines = size = 0
    for path in tree.rglob("*.py"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        files += 1
        size += len(data)
        lines += data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
    return {"files": files, "lines": lines, "bytes": size}


def all_files(tree: Path) -> dict[str, int]:
    """Every regular file under ``tree`` (what a scanner that reads everything walks)."""
    files = size = 0
    for path in tree.rglob("*"):
        if path.is_file() and not path.is_symlink():
            files += 1
            size += path.stat().st_size
    return {"files": files, "bytes": size}
