"""Forked worker processes that share a list of work units through pipes.

The scan of a tree of small files spends much of its time starting up; this pool starts in a
few milliseconds because it needs nothing beyond :func:`os.fork`, pipes and :mod:`pickle`
(:mod:`multiprocessing` alone takes longer to import than many scans take to run). Work units
are known before the workers start, so they are inherited, never sent: the parent only tells
a worker which unit to run next and reads back its pickled result.

A worker that dies (killed, or crashed in a C library) loses only the unit it was running; it
is replaced and the caller learns which unit was lost, so it can retry the unit's parts one by
one and pin the loss on the one that causes it.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import select
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

Unit = TypeVar("Unit")
Result = TypeVar("Result")

_INDEX_BYTES = 4
_LENGTH_BYTES = 8


# The classes here are plain rather than dataclasses: this module is loaded by every scan
# before any work starts, and generating a dataclass's methods costs more than the module.


class WorkerLost:
    """A unit whose worker ended before returning its result."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"WorkerLost({self.reason!r})"


class WorkerFailed:
    """A unit whose work raised an exception in the worker."""

    __slots__ = ("error",)

    def __init__(self, error: str) -> None:
        self.error = error

    def __repr__(self) -> str:
        return f"WorkerFailed({self.error!r})"


def can_fork() -> bool:
    """Whether this platform forks processes safely enough for :func:`run_forked`."""
    return hasattr(os, "fork") and sys.platform.startswith("linux")


class _Worker:
    """A forked worker, as its parent sees it."""

    __slots__ = ("early", "pid", "queued", "results", "tasks")

    def __init__(self, pid: int, tasks: int, results: int) -> None:
        self.pid = pid
        self.tasks = tasks  # write end: unit indexes to the worker
        self.results = results  # read end: pickled results from the worker
        self.queued: deque[int] = deque()  # sent, result not back yet, in order
        self.early = False  # forked before ``prepare`` ran


def run_forked(
    units: Sequence[Unit],
    work: Callable[[Unit], Result],
    processes: int,
    *,
    early: int = 0,
    prepare: Callable[[], None] | None = None,
) -> Iterator[tuple[int, Result | WorkerLost | WorkerFailed]]:
    """Run ``work(unit)`` for every unit in ``processes`` forked workers.

    Yields ``(index, result)`` as units finish, in completion order. Every index is yielded
    exactly once; its result is a :class:`WorkerLost` if the worker died while running it and
    a :class:`WorkerFailed` if ``work`` raised. Leaving the iteration early (an exception, a
    ``KeyboardInterrupt``) ends every worker.

    ``prepare`` runs in this process before the workers that share its effects (loaded
    modules) are forked. The first ``early`` units need none of that: one worker is forked
    for them at once and runs them while ``prepare`` runs here, then makes way for a worker
    forked after it.
    """
    pending = deque(range(len(units)))
    workers: dict[int, _Worker] = {}  # by result descriptor
    finished = False
    sys.stdout.flush()
    sys.stderr.flush()
    # Objects that exist now are left out of garbage collections in the workers: collecting
    # would write to every one of them, and each write copies a memory page into the worker.
    gc.freeze()

    def start(*, before_prepare: bool = False) -> _Worker:
        worker = _start(units, work, list(workers.values()))
        worker.early = before_prepare
        workers[worker.results] = worker
        return worker

    try:
        if early and prepare is not None and processes > 1 and len(units) > early:
            first = start(before_prepare=True)
            for _ in range(early):  # all at once: this process is busy preparing meanwhile
                _send(first, pending.popleft())
        if prepare is not None:
            prepare()
            gc.freeze()  # what it loaded, too, is shared with the workers forked next
        while pending and len(workers) < processes:
            _send(start(), pending.popleft())
        while any(w.queued for w in workers.values()):
            busy = [fd for fd, w in workers.items() if w.queued]
            ready, _, _ = select.select(busy, [], [])
            for fd in ready:
                worker = workers[fd]
                index = worker.queued.popleft()
                message = _read_message(fd)
                if message is None:
                    reason = _reap(worker)
                    del workers[fd]
                    pending.extendleft(reversed(worker.queued))  # sent, never started
                    worker.queued.clear()
                    if pending:
                        _send(start(), pending.popleft())
                    yield index, WorkerLost(reason)
                    continue
                if not worker.queued:
                    if pending and not worker.early:
                        _send(worker, pending.popleft())
                    else:
                        _finish(worker)
                        if worker.early and pending:
                            # Forked before ``prepare``: a worker forked now shares its effects.
                            _send(start(), pending.popleft())
                yield index, pickle.loads(message)
        finished = True
    finally:
        for worker in workers.values():
            _stop(worker, kill=not finished)
        gc.unfreeze()


def _start(
    units: Sequence[Unit], work: Callable[[Unit], Result], siblings: list[_Worker]
) -> _Worker:
    task_read, task_write = os.pipe()
    result_read, result_write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: never returns
        status = 1
        try:
            os.close(task_write)
            os.close(result_read)
            for sibling in siblings:  # the parent's ends for other workers are not ours
                for fd in (sibling.tasks, sibling.results):
                    if fd >= 0:
                        os.close(fd)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            _serve(units, work, task_read, result_write)
            status = 0
        finally:
            os._exit(status)
    os.close(task_read)
    os.close(result_write)
    return _Worker(pid, task_write, result_read)


def _serve(units: Sequence[Unit], work: Callable[[Unit], Result], tasks: int, results: int) -> None:
    while True:
        raw = _read_exactly(tasks, _INDEX_BYTES)
        if raw is None:
            return  # the parent has no more work
        index = int.from_bytes(raw, "little")
        result: object
        try:
            result = work(units[index])
        except Exception as exc:  # reported as this unit's failure; the worker goes on
            result = WorkerFailed(f"{type(exc).__name__}: {exc}")
        try:
            data = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            failed = WorkerFailed(f"the result could not be sent: {type(exc).__name__}: {exc}")
            data = pickle.dumps(failed)
        _write_all(results, len(data).to_bytes(_LENGTH_BYTES, "little") + data)


def _send(worker: _Worker, index: int) -> None:
    worker.queued.append(index)
    _write_all(worker.tasks, index.to_bytes(_INDEX_BYTES, "little"))


def _finish(worker: _Worker) -> None:
    """No more work for this worker: it sees end of file on its tasks and exits."""
    if worker.tasks >= 0:
        os.close(worker.tasks)
        worker.tasks = -1


def _stop(worker: _Worker, *, kill: bool) -> None:
    """Close a worker's pipes and wait for it; ``kill`` it first when work was cut short."""
    for fd in (worker.tasks, worker.results):
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
    try:
        if kill:
            os.kill(worker.pid, signal.SIGKILL)
        os.waitpid(worker.pid, 0)  # otherwise it sees end of file on its tasks and exits
    except (ChildProcessError, ProcessLookupError):
        pass


def _reap(worker: _Worker) -> str:
    """Wait for a worker whose results pipe ended, and say how it ended."""
    if worker.tasks >= 0:
        os.close(worker.tasks)
        worker.tasks = -1
    os.close(worker.results)
    worker.results = -1
    try:
        _, status = os.waitpid(worker.pid, 0)
    except ChildProcessError:
        return "the worker process ended unexpectedly"
    if os.WIFSIGNALED(status):
        name = signal.Signals(os.WTERMSIG(status)).name
        return f"the worker process was ended by signal {name}"
    return f"the worker process exited with status {os.WEXITSTATUS(status)}"


def _read_message(fd: int) -> bytes | None:
    header = _read_exactly(fd, _LENGTH_BYTES)
    if header is None:
        return None
    return _read_exactly(fd, int.from_bytes(header, "little"))


def _read_exactly(fd: int, count: int) -> bytes | None:
    """``count`` bytes from ``fd``; ``None`` if it ends first."""
    chunks: list[bytes] = []
    left = count
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
