"""Whole-process measurements shared by the benchmarks: wall time and peak memory of a command.

Wall time runs from spawn to exit and is taken by a blocking wait, so no polling interval is
in it. Peak memory is the larger of the resident-set sum over the process tree (worker
processes count), sampled by a thread every :data:`SAMPLE_S`, and the largest single process
``wait4`` reports, which catches a short peak between two samples.
"""

from __future__ import annotations

import contextlib
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


def tree_rss(root: psutil.Process, include_root: bool = True) -> int:
    """Resident bytes of ``root``'s descendants, and of ``root`` itself if asked."""
    try:
        children = root.children(recursive=True)
    except psutil.Error:
        return 0
    total = 0
    for process in [root, *children] if include_root else children:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue
    return total


@dataclass
class Run:
    """One run of a command: exit status, wall seconds, peak RSS of its tree, its outputs."""

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
    stderr: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 900.0,
    sample_memory: bool = True,
) -> Run:
    """Run ``argv`` to its end (or ``timeout``, then its process group is killed).

    Output goes to the file ``stdout``, and errors to ``stderr`` (``None``: into ``stdout``).
    ``env`` is added to this process's environment. ``sample_memory=False`` leaves the tree
    unsampled (the peak is then the largest single process), for runs timed with nothing else
    busy on the machine.
    """
    full_env = dict(os.environ)
    full_env.update(env or {})
    stdout.parent.mkdir(parents=True, exist_ok=True)
    peak = 0
    done = threading.Event()
    expired = threading.Event()
    with contextlib.ExitStack() as files:
        out = files.enter_context(stdout.open("wb"))
        err = files.enter_context(stderr.open("wb")) if stderr else subprocess.STDOUT
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
                peak = max(peak, tree_rss(root))
                done.wait(SAMPLE_S)

        def kill() -> None:
            expired.set()
            os.killpg(process.pid, signal.SIGKILL)

        sampler = threading.Thread(target=sample, daemon=True)
        if sample_memory:
            sampler.start()
        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            _pid, status, usage = os.wait4(process.pid, 0)
        finally:
            timer.cancel()
            done.set()
        seconds = time.perf_counter() - start
        if sample_memory:
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
        stdout=str(stdout),
        stderr=str(stderr or stdout),
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
