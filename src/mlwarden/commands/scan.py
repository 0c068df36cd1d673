"""``mlwarden scan``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mlwarden.api import scan
from mlwarden.cli import EXIT_FINDINGS, EXIT_OK, UsageError, write_atomic
from mlwarden.config import Config, ConfigError
from mlwarden.report import render


def run_scan(args: argparse.Namespace) -> int:
    for path in args.paths:
        if not Path(path).exists():
            raise UsageError(f"no such file or directory: {path}")
    try:
        config = Config()
        if args.baseline is not None:
            import dataclasses

            config = dataclasses.replace(config, baseline=args.baseline)
        fail_on = args.fail_on if "fail_on" in args else config.fail_on
        report = scan(args.paths, config=config, jobs=args.jobs)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    to_terminal = args.output is None and args.format == "text"
    text = render(report, args.format, color=to_terminal and sys.stdout.isatty())
    if args.output is not None:
        try:
            write_atomic(args.output, text)
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)
    return EXIT_FINDINGS if report.failed(fail_on) else EXIT_OK
