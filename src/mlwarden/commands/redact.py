"""``mlwarden redact``: a copy of a dataset with its personal data taken out (or put back)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from mlwarden.cli import EXIT_OK, UsageError

if TYPE_CHECKING:
    from mlwarden.protect.redact import RedactionPlan


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise UsageError("give at least one name, separated by commas")
    return names


def run_redact(args: argparse.Namespace) -> int:
    """Run ``mlwarden redact`` from parsed arguments; every refusal is exit status 2."""
    from mlwarden.protect.redact import RedactionError, load_key, redact, restore

    if args.plan_rows is not None and args.plan_rows < 1:
        raise UsageError(f"--plan-rows must be at least 1, got {args.plan_rows}")
    columns = _names(args.columns)
    entities = _names(args.entities)
    try:
        key = None
        if args.key_file is not None or args.key_env is not None:
            key = load_key(key_file=args.key_file, key_env=args.key_env)
        if args.decrypt:
            if key is None:
                raise UsageError("--decrypt needs the key (--key-file FILE or --key-env VAR)")
            plan = restore(
                args.input,
                args.output,
                key=key,
                columns=columns,
                engine=args.engine,
                scheduler=args.scheduler,
            )
        else:
            plan = redact(
                args.input,
                args.output,
                method=args.method,
                columns=columns,
                entities=entities,
                key=key,
                engine=args.engine,
                scheduler=args.scheduler,
                plan_rows=args.plan_rows,
            )
    except (RedactionError, OSError) as exc:
        raise UsageError(str(exc)) from None
    except UsageError:
        raise
    except Exception as exc:
        # A library failing on odd input is still a refused redaction, never a traceback.
        raise UsageError(f"cannot redact {args.input}: {type(exc).__name__}: {exc}") from None
    if args.format == "json":
        sys.stdout.write(json.dumps(plan.to_dict(), indent=2) + "\n")
    else:
        sys.stdout.write(describe(plan))
    return EXIT_OK


def describe(plan: RedactionPlan) -> str:
    """The summary as lines of text (counts and column names only, never values)."""
    verb = "decrypted" if plan.method == "decrypt" else f"redacted ({plan.method})"
    lines = [
        f"{verb} {plan.input} -> {plan.output}: {plan.format}, {plan.rows} rows, "
        f"{plan.cells_changed} cells changed"
    ]
    if not plan.columns:
        lines.append("  no column needed changing")
    for column in plan.columns:
        what = column.entity or ("free text" if column.scope == "spans" else "named column")
        scope = "entities in text" if column.scope == "spans" else "whole cells"
        if plan.method == "decrypt":
            what, scope = "encrypted values", "tokens decrypted"
        extra = f"; type {column.type_changed}" if column.type_changed else ""
        lines.append(
            f"  {column.column}: {what}, {scope}, {column.cells_changed} cells changed{extra}"
        )
    return "\n".join(lines) + "\n"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Declare ``mlwarden redact`` and its options (cheap: nothing heavy is imported)."""
    parser = sub.add_parser(
        "redact",
        help="write a copy of a dataset with its personal data masked, pseudonymised, "
        "faked, encrypted or dropped",
    )
    parser.add_argument("input", metavar="INPUT", help="CSV/TSV, Parquet or JSON Lines file")
    parser.add_argument("--output", "-o", required=True, metavar="OUTPUT", help="file to write")
    parser.add_argument(
        "--method",
        choices=["mask", "hash", "fake", "encrypt", "drop"],
        default="mask",
        help="how values are taken out (default: mask); hash, fake and encrypt need a key",
    )
    parser.add_argument("--columns", metavar="C,...", help="replace these columns whole")
    parser.add_argument("--entities", metavar="E,...", help="only these entities (EMAIL,PHONE,...)")
    keys = parser.add_mutually_exclusive_group()
    keys.add_argument("--key-file", metavar="FILE", help="secret key for hash, fake, encrypt")
    keys.add_argument("--key-env", metavar="VAR", help="environment variable holding the key")
    parser.add_argument(
        "--decrypt",
        action="store_true",
        help="reverse an encrypt redaction: decrypt every token in INPUT with the key",
    )
    parser.add_argument("--engine", choices=["local", "dask"], default="local")
    parser.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler (--engine dask)")
    parser.add_argument(
        "--plan-rows",
        type=int,
        default=100_000,
        metavar="N",
        help="rows read to decide which columns hold personal data (default: 100000)",
    )
    parser.add_argument(
        "--format", choices=["text", "json"], default="text", help="how the summary is printed"
    )
