"""The command line: parsing and printing only. Every verb calls a public function."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TypeAlias

from mlwarden import __version__
from mlwarden.atomic import write_text_atomic
from mlwarden.findings import Severity

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments, unreadable input or bad configuration: exit status 2."""


def write_atomic(path: Path, text: str) -> None:
    """Write a file so that readers see the old content or the new, never a partial one."""
    write_text_atomic(path, text)


def _fail_on(text: str) -> Severity | None:
    if text.lower() == "never":
        return None
    try:
        return Severity.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every command, or of ``command`` alone.

    A run that names its command needs only that command's parser; building the others
    (argparse looks up message translations for each option) would only slow every run.
    """
    parser = argparse.ArgumentParser(
        prog="mlwarden",
        description="Security for machine-learning projects. Nothing scanned is ever executed.",
    )
    parser.add_argument("--version", action="version", version=f"mlwarden {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, add in _COMMANDS.items():
        if command is None or command == name:
            add(sub)
    return parser


def _add_scan(sub: Subparsers) -> None:
    scan = sub.add_parser("scan", help="scan files and directories for security problems")
    scan.add_argument("paths", nargs="*", metavar="PATH")
    scan.add_argument("--format", choices=["text", "json", "sarif", "html"], default="text")
    scan.add_argument("--output", "-o", type=Path, help="write the report to FILE")
    scan.add_argument(
        "--fail-on",
        type=_fail_on,
        default=argparse.SUPPRESS,
        metavar="SEVERITY",
        help="exit 1 when a finding is at or above: critical|high|medium|low|info|never "
        "(default: high)",
    )
    scan.add_argument("--config", type=Path, help="configuration file (mlwarden.toml)")
    scan.add_argument("--baseline", type=Path, help="hide findings recorded in this JSON report")
    scan.add_argument("--db", type=Path, help="vulnerability database (OSV directory or zip)")
    scan.add_argument(
        "--python",
        metavar="PATH",
        help="also check the packages installed for this Python interpreter",
    )
    scan.add_argument("--jobs", "-j", type=int, help="worker processes (default: CPU count)")
    scan.add_argument(
        "--sample",
        type=int,
        metavar="N",
        help="read only the first N rows of each dataset, for a quick look",
    )
    scan.add_argument(
        "--engine",
        choices=["local", "dask"],
        default="local",
        help="where datasets are scanned: this machine, or a Dask cluster (--scheduler)",
    )
    scan.add_argument("--scheduler", metavar="ADDRESS", help="the Dask scheduler for --engine dask")
    scan.add_argument("--no-progress", action="store_true", help="never show a progress bar")


def _add_convert(sub: Subparsers) -> None:
    convert = sub.add_parser("convert", help="convert a pickle checkpoint to safetensors")
    convert.add_argument("checkpoint", type=Path)
    convert.add_argument("--to", choices=["safetensors"], default="safetensors")
    convert.add_argument("output", type=Path)
    convert.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="MODULE.NAME",
        help="also admit this global (repeatable)",
    )


def _add_redact(sub: Subparsers) -> None:
    from mlwarden.commands.redact import add_parser

    add_parser(sub)


def _add_db(sub: Subparsers) -> None:
    db = sub.add_parser("db", help="manage the vulnerability database (OSV advisories)")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    db_update = db_sub.add_parser(
        "update", help="download OSV's PyPI advisories, or import a local copy, and compile them"
    )
    db_update.add_argument(
        "--from",
        dest="source",
        metavar="PATH_OR_URL",
        help="an OSV all.zip or a directory of OSV records (default: download OSV's PyPI export)",
    )
    db_update.add_argument("--db", type=Path, help="compiled database to write (default: cache)")
    db_status = db_sub.add_parser("status", help="show what the vulnerability database holds")
    db_status.add_argument(
        "--db", type=Path, help="database to describe: compiled file, OSV directory or zip"
    )


#: Each command's parser, in the order ``mlwarden --help`` lists them.
_COMMANDS: dict[str, Callable[[Subparsers], None]] = {
    "scan": _add_scan,
    "convert": _add_convert,
    "redact": _add_redact,
    "db": _add_db,
}


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    named = arguments[0] if arguments and arguments[0] in _COMMANDS else None
    parser = build_parser(named)
    args = parser.parse_args(arguments)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "scan":
            from mlwarden.commands.scan import run_scan

            return run_scan(args)
        if args.command == "convert":
            from mlwarden.commands.convert import run_convert

            return run_convert(args)
        if args.command == "redact":
            from mlwarden.commands.redact import run_redact

            return run_redact(args)
        if args.command == "db":
            from mlwarden.commands.db import run_db

            return run_db(args)
    except UsageError as exc:
        print(f"mlwarden: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("mlwarden: interrupted", file=sys.stderr)
        return 130
    parser.error(f"unknown command {args.command}")
    return EXIT_USAGE  # pragma: no cover


def run() -> NoReturn:
    """The ``mlwarden`` program: run :func:`main`, flush the output and end the process.

    A finished command leaves nothing to clean up (reports are written and closed, worker
    processes joined), so the process ends without the interpreter's teardown, which frees
    every module and object one by one and costs tens of milliseconds per run.
    """
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:  # a closed pipe: nothing more can be said
        code = code or EXIT_USAGE
    os._exit(code)


if __name__ == "__main__":
    # Run as ``python -m mlwarden.cli``: call the program of the imported module, so that the
    # command modules (which import ``mlwarden.cli``) and this one share UsageError.
    from mlwarden.cli import run as cli_run

    cli_run()
