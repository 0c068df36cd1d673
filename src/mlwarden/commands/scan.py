"""``mlwarden scan``: check arguments, load the configuration, scan, render, pick the exit status.

Every problem with the arguments or the configuration is found before anything is scanned or
written, and ends in exit status 2 with a message on stderr. The report is written atomically
and never over a file that is being scanned.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from mlwarden.api import scan
from mlwarden.cli import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, UsageError, write_atomic
from mlwarden.config import Config, ConfigError, load_config
from mlwarden.engine import ProgressCallback
from mlwarden.findings import Report, Severity
from mlwarden.policy import load_baseline
from mlwarden.report import render

#: A progress bar is only worth drawing for scans of at least this many files.
PROGRESS_MIN_FILES = 8


def run_scan(args: argparse.Namespace) -> int:
    """Run ``mlwarden scan`` from parsed arguments; returns the exit status."""
    paths: list[str] = [str(p) for p in args.paths]
    if not paths and args.python is None:
        raise UsageError("nothing to scan: give at least one PATH, or --python")
    check_targets(paths)
    config = resolve_config(args)
    fail_on: Severity | None = args.fail_on if "fail_on" in args else config.fail_on
    if args.output is not None:
        check_output(args.output, paths, config)
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {args.jobs}")
    if args.db is not None:
        if not Path(args.db).exists():
            raise UsageError(f"vulnerability database {args.db} does not exist")
        config = dataclasses.replace(config, db=Path(args.db))
    if args.python is not None:
        config = dataclasses.replace(config, python=args.python)
    if args.engine == "dask":
        if not args.scheduler:
            raise UsageError("--engine dask needs --scheduler ADDRESS (a Dask scheduler)")
        config = dataclasses.replace(config, scheduler=args.scheduler)
    elif args.scheduler:
        raise UsageError("--scheduler is used only with --engine dask")
    if args.sample is not None:
        if args.sample < 1:
            raise UsageError(f"--sample must be at least 1, got {args.sample}")
        config = dataclasses.replace(config, sample=args.sample)
    try:
        with progress_bar(enabled=not args.no_progress and sys.stderr.isatty()) as progress:
            report = scan(paths, config=config, jobs=args.jobs, progress=progress)
    except _input_errors() as exc:  # evaluated only when an exception is raised
        raise UsageError(str(exc)) from None
    to_terminal = args.output is None and args.format == "text"
    color = to_terminal and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    text = render(report, args.format, color=color)
    if args.output is not None:
        try:
            write_atomic(args.output, text)
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    return exit_status(report, fail_on)


def _input_errors() -> tuple[type[Exception], ...]:
    """Errors in what the user gave (configuration, database, environment, cluster)."""
    from mlwarden.distributed import ClusterError
    from mlwarden.scanners.deps.errors import DatabaseError
    from mlwarden.scanners.deps.model import EnvironmentProbeError

    return (ConfigError, DatabaseError, EnvironmentProbeError, ClusterError)


def exit_status(report: Report, fail_on: Severity | None) -> int:
    """0, 1 or 2 as CONTRACT.md says; never depends on the output format.

    Input that could not be read is exit 2 whatever the findings, since the scan is incomplete;
    the report (with its errors) is still written, so that it says which files.
    """
    if report.errors:
        count = len(report.errors)
        print(
            f"mlwarden: error: {count} file{'s' if count != 1 else ''} could not be scanned "
            "completely; see the errors in the report",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return EXIT_FINDINGS if report.failed(fail_on) else EXIT_OK


def check_targets(paths: Sequence[str]) -> None:
    """Every target exists and can be read."""
    for path in paths:
        target = Path(path)
        if not target.exists():
            raise UsageError(f"no such file or directory: {path}")
        if not os.access(target, os.R_OK) or (target.is_dir() and not os.access(target, os.X_OK)):
            raise UsageError(f"cannot read {path}: permission denied")


def resolve_config(args: argparse.Namespace) -> Config:
    """The configuration in use: ``--config`` or the working directory's, plus ``--baseline``."""
    try:
        config = load_config(args.config)
        if args.baseline is not None:
            load_baseline(args.baseline)  # fail before scanning, not after
            config = dataclasses.replace(config, baseline=args.baseline)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    return config


def check_output(output: Path, paths: Sequence[str], config: Config) -> None:
    """The report can be written to ``output`` and would not replace a scanned file."""
    if output.is_dir():
        raise UsageError(f"cannot write {output}: it is a directory")
    parent = output.resolve().parent
    if not parent.is_dir():
        raise UsageError(f"cannot write {output}: directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise UsageError(f"cannot write {output}: directory {parent} is not writable")
    if not output.exists():
        return
    resolved = output.resolve()
    for path in paths:
        target = Path(path).resolve()
        if resolved == target:
            raise UsageError(f"refusing to write the report over {output}, which is scanned")
        if target.is_dir() and resolved.is_relative_to(target):
            display = str(Path(path) / resolved.relative_to(target))
            if not config.is_excluded(display) and not config.is_excluded(str(output)):
                raise UsageError(
                    f"refusing to write the report over {output}, which is in the scanned "
                    f"tree {path}; write it elsewhere or add it to 'exclude'"
                )


@contextmanager
def progress_bar(*, enabled: bool) -> Iterator[ProgressCallback | None]:
    """A progress callback drawing a rich bar on stderr, shown once a scan has many files."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("scanning"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.description}", markup=False),
        console=Console(stderr=True),
        transient=True,
    )
    task: list[TaskID] = []

    def advance(done: int, total: int, path: str) -> None:
        if total < PROGRESS_MIN_FILES:
            return
        if not task:
            bar.start()
            task.append(bar.add_task("", total=total))
        bar.update(task[0], completed=done, description=_tail(path))

    try:
        yield advance
    finally:
        if task:
            bar.stop()


def _tail(path: str, width: int = 40) -> str:
    return path if len(path) <= width else "..." + path[-(width - 3) :]
