"""``mlwarden db update`` and ``mlwarden db status``: the vulnerability database."""

from __future__ import annotations

import argparse
import sys

from mlwarden.cli import EXIT_OK, UsageError
from mlwarden.scanners.deps.db import AdvisoryDatabase, DatabaseError, default_database_path
from mlwarden.scanners.deps.db.status import STALE_AFTER
from mlwarden.scanners.deps.db.update import update_database


def run_db(args: argparse.Namespace) -> int:
    """Dispatch ``db update`` / ``db status``; every failure is a usage error (exit 2)."""
    if args.db_command == "update":
        return _update(args)
    if args.db_command == "status":
        return _status(args)
    raise UsageError("say what to do with the database: `mlwarden db update` or `db status`")


def _update(args: argparse.Namespace) -> int:
    target = args.db if args.db is not None else default_database_path()
    try:
        summary = update_database(args.source, target)
    except DatabaseError as exc:
        raise UsageError(str(exc)) from None
    skipped = f"; {len(summary.skipped)} files skipped" if summary.skipped else ""
    notes = f"; {len(summary.warnings)} notes on records" if summary.warnings else ""
    print(
        f"compiled {summary.records} advisories for {summary.packages} packages "
        f"({summary.withdrawn} withdrawn) from {summary.source} into {target} "
        f"in {summary.seconds:.1f} s{skipped}{notes}"
    )
    return EXIT_OK


def _status(args: argparse.Namespace) -> int:
    try:
        database = AdvisoryDatabase.open(args.db)
    except DatabaseError as exc:
        raise UsageError(str(exc)) from None
    with database:
        info = database.info()
        for line in info.lines():
            print(line)
        if info.curated:
            print(
                f"mlwarden: warning: no compiled database at {default_database_path()}; "
                f"{info.warning()}",
                file=sys.stderr,
            )
        elif info.stale:
            print(
                f"mlwarden: warning: {info.warning()} (data older than {STALE_AFTER.days} days "
                "misses recent advisories)",
                file=sys.stderr,
            )
    return EXIT_OK
