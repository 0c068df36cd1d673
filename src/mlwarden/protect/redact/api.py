"""``redact`` and ``restore``: the public functions behind ``mlwarden redact``."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from mlwarden.atomic import atomic_output as atomic_output
from mlwarden.protect.redact import formats
from mlwarden.protect.redact.errors import RedactionError, UnsupportedInputError
from mlwarden.protect.redact.keys import RedactionKey
from mlwarden.protect.redact.methods import RedactionMethod
from mlwarden.protect.redact.plan import (
    ColumnRedaction,
    ColumnSurvey,
    RedactionPlan,
    decide_rules,
    resolve_columns,
    summarise,
)
from mlwarden.protect.redact.transform import RedactSpec, RestoreSpec, TransformSpec

#: Rows read to decide which columns hold personal data; ``plan_rows=None`` reads them all.
PLAN_ROWS = 100_000
#: Bytes of input per Dask partition.
BLOCKSIZE = 64 << 20
ENGINES = ("local", "dask")

PathLike = str | os.PathLike[str]


def redact(
    input: PathLike,
    output: PathLike,
    *,
    method: RedactionMethod | str = RedactionMethod.MASK,
    columns: Iterable[str] | None = None,
    entities: Iterable[str] | None = None,
    key: RedactionKey | bytes | str | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    plan_rows: int | None = PLAN_ROWS,
    blocksize: int = BLOCKSIZE,
) -> RedactionPlan:
    """Write a copy of a dataset with its personal data taken out; return what was done.

    ``input`` is a CSV/TSV, Parquet or JSON Lines file (told apart by content); ``output`` gets
    the same format, rows, columns, order and (as far as the method allows) types, with every
    unchanged cell byte-identical for text formats. ``method`` is ``mask``, ``hash``, ``fake``,
    ``encrypt`` or ``drop``; ``key`` (bytes, text or a :class:`RedactionKey`) is required for
    ``hash``, ``fake`` and ``encrypt``. ``columns`` names the columns to replace whole; otherwise
    every column that holds an entity is replaced, and free-text columns have only the
    entities inside them replaced. ``entities`` (``EMAIL``, ``PHONE``...) restricts either.
    Columns are judged from the first ``plan_rows`` rows. ``engine="dask"`` runs the rewrite
    over partitions on the Dask cluster at ``scheduler``; the output is the same file.

    The output is written atomically and never over the input; any refusal raises a
    :class:`RedactionError` before anything is written.
    """
    try:
        chosen = RedactionMethod.parse(method)
    except ValueError as exc:
        raise RedactionError(str(exc)) from None
    redaction_key = None if key is None else RedactionKey.of(key)
    if chosen.needs_key and redaction_key is None:
        from mlwarden.protect.redact.methods import make_redactor

        make_redactor(chosen, None)  # raises the KeyRequiredError with the advice
    source, target = check_paths(input, output)
    _check_engine(engine, scheduler)
    wanted = _entities(entities)
    fmt = formats.detect_format(source)
    layout = formats.read_layout(source, fmt, plan_rows)
    names = layout.columns
    indices = None if columns is None else resolve_columns(names, columns)
    survey = ColumnSurvey(names, wanted)
    formats.survey(source, layout, survey, plan_rows)
    rules = decide_rules(survey, columns=indices, entities=wanted)
    spec = RedactSpec(tuple(rules), chosen, redaction_key)
    changes = formats.type_changes(source, layout, spec)
    rows, changed = _run(source, target, layout, spec, engine, scheduler, blocksize)
    notes = [f"columns judged from the first {plan_rows} rows"] if plan_rows is not None else []
    return RedactionPlan(
        input=str(input),
        output=str(output),
        format=fmt.value,
        method=chosen.value,
        engine=engine,
        rows=rows,
        columns=summarise(rules, chosen, changed, changes),
        notes=tuple(notes),
    )


def restore(
    input: PathLike,
    output: PathLike,
    *,
    key: RedactionKey | bytes | str,
    columns: Iterable[str] | None = None,
    engine: str = "local",
    scheduler: str | None = None,
    blocksize: int = BLOCKSIZE,
) -> RedactionPlan:
    """Reverse ``encrypt``: write a copy of ``input`` with every token decrypted.

    Tokens are found in every text cell (or only in ``columns``), whole or inside free text.
    A token that does not decrypt with ``key`` (another key, or altered) raises
    :class:`~mlwarden.protect.redact.errors.DecryptionError` and nothing is written. Values
    are restored as text: a Parquet column whose type was changed to hold tokens stays text.
    """
    redaction_key = RedactionKey.of(key)
    source, target = check_paths(input, output)
    _check_engine(engine, scheduler)
    fmt = formats.detect_format(source)
    layout = formats.read_layout(source, fmt, None)
    indices = None if columns is None else resolve_columns(layout.columns, columns)
    spec = RestoreSpec(redaction_key, None if indices is None else tuple(indices))
    rows, changed = _run(source, target, layout, spec, engine, scheduler, blocksize)
    summary = tuple(
        ColumnRedaction(layout.columns[i], "cells", None, "decrypt", count)
        for i, count in sorted(changed.items())
        if count
    )
    return RedactionPlan(str(input), str(output), fmt.value, "decrypt", engine, rows, summary)


def _run(
    source: Path,
    target: Path,
    layout: formats.Layout,
    spec: TransformSpec,
    engine: str,
    scheduler: str | None,
    blocksize: int,
) -> tuple[int, Counter[int]]:
    with atomic_output(target, mode=source.stat().st_mode & 0o777) as temporary:
        if engine == "dask":
            from mlwarden.protect.redact.dask_engine import rewrite_on_cluster

            assert scheduler is not None
            return rewrite_on_cluster(source, layout, spec, temporary, scheduler, blocksize)
        return formats.rewrite(source, layout, spec, temporary)


def _check_engine(engine: str, scheduler: str | None) -> None:
    if engine not in ENGINES:
        raise RedactionError(f"unknown engine {engine!r}; choose local or dask")
    if engine == "dask" and not scheduler:
        raise RedactionError("the dask engine needs the address of a scheduler (--scheduler)")


def _entities(entities: Iterable[str] | None) -> frozenset[str] | None:
    if entities is None:
        return None
    from mlwarden.scanners.data.recognisers import all_recognisers

    known = {e for r in all_recognisers() for e in r.entities}
    wanted = frozenset(e.strip().upper() for e in entities if e.strip())
    unknown = sorted(wanted - known)
    if unknown:
        raise RedactionError(
            f"unknown entit{'ies' if len(unknown) > 1 else 'y'} {', '.join(unknown)}; "
            f"known: {', '.join(sorted(known))}"
        )
    return wanted


def check_paths(input: PathLike, output: PathLike) -> tuple[Path, Path]:
    """The input (an existing file) and the output (anywhere else): refused otherwise.

    The output may not be the input under another name: not the same path, not a symbolic
    link to it, not a hard link to it.
    """
    source = Path(input)
    target = Path(output)
    if not source.is_file():
        what = "does not exist" if not source.exists() else "is not a file"
        raise UnsupportedInputError(f"input {source} {what}")
    if target.exists() and target.is_dir():
        raise RedactionError(f"output {target} is a directory; give a file name")
    same = target.resolve() == source.resolve()
    if not same and target.exists():
        try:
            same = os.path.samefile(source, target)
        except OSError:
            same = False
    if same:
        raise RedactionError(
            f"output {target} is the input file; redaction never writes over its input"
        )
    if not target.resolve().parent.is_dir():
        raise RedactionError(f"the directory of output {target} does not exist")
    return source, target
