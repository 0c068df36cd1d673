"""The input formats redaction reads and writes, and one pass over a whole file."""

from __future__ import annotations

import enum
from collections import Counter
from pathlib import Path
from typing import Any

from mlwarden.protect.redact import csv_format, jsonl_format, parquet_format
from mlwarden.protect.redact.errors import UnsupportedInputError
from mlwarden.protect.redact.methods import RedactionMethod
from mlwarden.protect.redact.plan import ColumnSurvey
from mlwarden.protect.redact.transform import RedactSpec, TableTransform, TransformSpec

Layout = csv_format.CsvLayout | jsonl_format.JsonlLayout | parquet_format.ParquetLayout


class InputFormat(enum.StrEnum):
    """Formats that can be redacted (the output always has the input's format)."""

    CSV = "csv"
    JSONL = "jsonl"
    PARQUET = "parquet"


def detect_format(path: Path) -> InputFormat:
    """The format of ``path`` from its content (a name only tells delimited text apart)."""
    from mlwarden.sniff import HEAD_BYTES, Kind, sniff

    try:
        with path.open("rb") as stream:
            head = stream.read(HEAD_BYTES)
    except OSError as exc:
        raise UnsupportedInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    kind = sniff(head, path.name)
    if kind is Kind.CSV:
        return InputFormat.CSV
    if kind is Kind.JSONL:
        return InputFormat.JSONL
    if kind is Kind.PARQUET:
        return InputFormat.PARQUET
    raise UnsupportedInputError(
        f"{path} is {kind.value}, not a dataset that can be redacted "
        "(CSV/TSV, Parquet or JSON Lines)"
    )


def read_layout(path: Path, fmt: InputFormat, plan_rows: int | None) -> Layout:
    """Columns and structure of the input."""
    if fmt is InputFormat.CSV:
        return csv_format.read_layout(path)
    if fmt is InputFormat.JSONL:
        return jsonl_format.read_layout(path, plan_rows)
    return parquet_format.read_layout(path)


def survey(path: Path, layout: Layout, columns: ColumnSurvey, rows: int | None) -> int:
    """Judge the columns over the first ``rows`` rows; returns rows read."""
    if isinstance(layout, csv_format.CsvLayout):
        return csv_format.survey_rows(path, layout, columns, rows)
    if isinstance(layout, jsonl_format.JsonlLayout):
        return jsonl_format.survey_rows(path, layout, columns, rows)
    return parquet_format.survey_rows(path, layout, columns, rows)


def type_changes(path: Path, layout: Layout, spec: TransformSpec) -> dict[int, str]:
    """Columns whose type the output changes (only Parquet has types to change)."""
    if not isinstance(layout, parquet_format.ParquetLayout) or not isinstance(spec, RedactSpec):
        return {}
    return parquet_format.output_schema(path, spec.rules, spec.method is RedactionMethod.DROP)[1]


def rewrite(
    path: Path, layout: Layout, spec: TransformSpec, output: Path
) -> tuple[int, Counter[int]]:
    """Write the transformed copy of ``path`` to ``output`` in one pass; rows and counts."""
    transform = spec.build()
    if isinstance(layout, parquet_format.ParquetLayout):
        rows = rewrite_parquet(path, layout, spec, transform, output, 0, layout.row_groups)
        return rows, transform.changed
    with output.open("wb") as sink:
        if isinstance(layout, csv_format.CsvLayout):
            rows, _ = csv_format.rewrite_range(
                path, layout, transform, sink, start=layout.data_start, end=None, header=True
            )
        else:
            rows, _ = jsonl_format.rewrite_range(path, layout, transform, sink, start=0, end=None)
    return rows, transform.changed


def rewrite_parquet(
    path: Path,
    layout: parquet_format.ParquetLayout,
    spec: TransformSpec,
    transform: TableTransform,
    output: Path,
    start: int,
    end: int,
) -> int:
    """Write row groups ``[start, end)`` of ``path``, transformed, to the Parquet ``output``."""
    schema = parquet_schema(path, spec)
    writer = parquet_format.make_writer(str(output), schema, layout)
    try:
        return parquet_format.rewrite_row_groups(
            path, schema, transform, writer, start=start, end=end
        )
    finally:
        writer.close()


def parquet_schema(path: Path, spec: TransformSpec) -> Any:
    """The Parquet schema the output gets (the input's, with any type a method changes)."""
    if isinstance(spec, RedactSpec):
        return parquet_format.output_schema(path, spec.rules, spec.method is RedactionMethod.DROP)[
            0
        ]
    return parquet_format.open_parquet(path).schema_arrow
