"""Run one command and measure it: wall time and peak memory of its whole process tree."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
from processes import SAMPLE_S, tree_rss

#: A run whose process tree grows past this is ended: the machine is shared.
MEMORY_CAP_MB = 8192


@dataclass
class Measured:
    """What one process run cost and said."""

    command: list[str]
    returncode: int | None  # None: ended by the runner (see ``killed``)
    wall_s: float
    peak_mb: float
    output: str  # stdout and stderr together
    killed: str | None = None  # "time" or "memory" when the runner ended it

    @property
    def timed_out(self) -> bool:
        """Whether the runner ended the run (time limit or memory cap)."""
        return self.returncode is None


#: Outputs are read back up to this size: a tool that dumps a blob must not bloat the runner
#: (a forked child's ru_maxrss starts at its parent's high-water mark).
OUTPUT_LIMIT = 16 << 20
TIME = Path("/usr/bin/time")


def run_measured(
    command: list[str],
    cwd: Path,
    env: dict[str, str],
    timeout_s: float,
    log: Path,
    memory_cap_mb: float = MEMORY_CAP_MB,
) -> Measured:
    """Run ``command``; peak memory is the larger of the polled tree RSS and max RSS.

    Polling sums the RSS of the process and all its descendants (worker pools count).
    The max RSS comes from ``/usr/bin/time``, which forks the tool from a tiny process, so
    it is the tool's own high-water mark; it catches a short peak that polling misses.
    """
    rss_file = log.with_suffix(".maxrss")
    rss_file.unlink(missing_ok=True)
    wrapped = TIME.exists()
    argv = [str(TIME), "-f", "%M", "-o", str(rss_file), *command] if wrapped else command
    with log.open("wb") as sink:
        started = time.perf_counter()
        proc = subprocess.Popen(
            argv, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
        watched = psutil.Process(proc.pid)
        # A thread waits for the exit, so the end time is exact and not rounded up to the
        # polling interval of the memory readings below.
        ended: dict[str, Any] = {}
        exited = threading.Event()

        def wait_for_exit() -> None:
            _, wait_status, usage = os.wait4(proc.pid, 0)
            ended.update(status=wait_status, usage=usage, at=time.perf_counter())
            exited.set()

        threading.Thread(target=wait_for_exit, daemon=True).start()
        peak = 0
        killed: str | None = None
        while not exited.wait(SAMPLE_S):
            peak = max(peak, tree_rss(watched, include_root=not wrapped))
            if time.perf_counter() - started > timeout_s:
                killed = "time"
            elif peak > memory_cap_mb * (1 << 20):
                killed = "memory"
            if killed:
                os.killpg(proc.pid, signal.SIGKILL)
                exited.wait()
                break
        status: int | None = None if killed else ended["status"]
        rusage = ended["usage"]
        wall = ended["at"] - started
    proc.returncode = -1  # reaped above with wait4; keep Popen from waiting again
    maxrss = 0
    if wrapped and killed is None:
        try:
            maxrss = int(rss_file.read_text().split()[-1]) * 1024
        except (OSError, ValueError, IndexError):
            maxrss = 0
    elif rusage is not None and not wrapped:
        maxrss = rusage.ru_maxrss * 1024
    code = os.waitstatus_to_exitcode(status) if status is not None else None
    return Measured(
        command=command,
        returncode=code,
        wall_s=wall,
        peak_mb=max(peak, maxrss) / (1 << 20),
        output=read_limited(log),
        killed=killed,
    )


def read_limited(path: Path, limit: int = OUTPUT_LIMIT) -> str:
    """The first ``limit`` bytes of a file as text."""
    with path.open("rb") as handle:
        return handle.read(limit).decode("utf-8", errors="replace")
