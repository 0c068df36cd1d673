"""Parquet, rewritten row group by row group with the schema kept.

The output has the input's schema (field order, types, nullability, key-value metadata), its
row-group boundaries and its compression codec. Text columns stay text; a dictionary-encoded
text column stays dictionary-encoded. ``drop`` turns cells into nulls in a column of any type.
The other methods write text, so a non-text column they apply to (a phone number stored as an
integer) becomes a string column: the summary names every such change, decided before the
first row group so that every row group (and every worker) writes the same schema. Columns
that are neither text nor flat scalars (lists, structs, binary) are never surveyed.

Memory is bounded by one row group, the unit Parquet writers and readers work in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlwarden.protect.redact.errors import UnsupportedInputError
from mlwarden.protect.redact.plan import ColumnRule, ColumnSurvey
from mlwarden.protect.redact.transform import TableTransform

BATCH_ROWS = 10_000


@dataclass(frozen=True)
class ParquetLayout:
    """Column names, row groups and the writer settings read from the input's metadata."""

    columns: tuple[str, ...]
    row_groups: int
    rows: int
    compression: str
    version: str


def open_parquet(path: Path) -> Any:
    """The input as a ``pyarrow.parquet.ParquetFile``; unreadable files are refused."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as exc:
        raise UnsupportedInputError(f"{path} is not a readable Parquet file: {exc}") from None


def read_layout(path: Path) -> ParquetLayout:
    """Read the footer: schema, row groups, codec and format version."""
    parquet = open_parquet(path)
    metadata = parquet.metadata
    compression = "snappy"
    if metadata.num_row_groups and metadata.num_columns:
        codec = str(metadata.row_group(0).column(0).compression).lower()
        compression = codec if codec in {"snappy", "gzip", "brotli", "zstd", "lz4"} else "none"
    version = metadata.format_version if metadata.format_version in ("1.0", "2.4", "2.6") else "2.6"
    return ParquetLayout(
        tuple(parquet.schema_arrow.names),
        metadata.num_row_groups,
        metadata.num_rows,
        compression,
        version,
    )


def _is_text(data_type: Any) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(data_type):
        return _is_text(data_type.value_type)
    return bool(pa.types.is_string(data_type) or pa.types.is_large_string(data_type))


def _is_surveyed(data_type: Any) -> bool:
    import pyarrow as pa

    return _is_text(data_type) or bool(
        pa.types.is_integer(data_type) or pa.types.is_date(data_type)
    )


def survey_rows(path: Path, layout: ParquetLayout, survey: ColumnSurvey, rows: int | None) -> int:
    """Feed the first ``rows`` rows of text, integer and date columns to ``survey``."""
    parquet = open_parquet(path)
    schema = parquet.schema_arrow
    names = [n for n in schema.names if _is_surveyed(schema.field(n).type)]
    index = {n: i for i, n in enumerate(layout.columns)}
    seen = 0
    if not names:
        return 0
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS, columns=names, use_threads=False):
        if rows is not None and seen + batch.num_rows > rows:
            batch = batch.slice(0, rows - seen)
        survey.add({index[n]: _as_text(batch.column(k)) for k, n in enumerate(names)})
        seen += batch.num_rows
        if rows is not None and seen >= rows:
            break
    return seen


def _as_text(array: Any) -> list[str | None]:
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    if not _is_text(array.type):
        array = pc.cast(array, pa.string())
    values: list[str | None] = array.to_pylist()
    return values


def output_schema(
    path: Path, rules: Sequence[ColumnRule], drop: bool
) -> tuple[Any, dict[int, str]]:
    """The schema to write, and the columns whose type changes (index -> ``"a -> b"``)."""
    import pyarrow as pa

    schema = open_parquet(path).schema_arrow
    changes: dict[int, str] = {}
    for rule in rules:
        field = schema.field(rule.index)
        if _is_text(field.type) or drop:
            continue
        if (
            not _is_surveyed(field.type)
            and not pa.types.is_floating(field.type)
            and not (pa.types.is_boolean(field.type) or pa.types.is_temporal(field.type))
        ):
            raise UnsupportedInputError(
                f"column {rule.column!r} is {field.type}; only drop applies to nested or "
                "binary columns"
            )
        changes[rule.index] = f"{field.type} -> string"
        schema = schema.set(
            rule.index, pa.field(field.name, pa.string(), field.nullable, field.metadata)
        )
    return schema, changes


def rewrite_row_groups(
    path: Path,
    schema: Any,
    transform: TableTransform,
    writer: Any,
    *,
    start: int,
    end: int,
) -> int:
    """Rewrite row groups ``[start, end)`` into ``writer`` (a ``ParquetWriter``); returns rows."""
    import pyarrow as pa

    parquet = open_parquet(path)
    rows = 0
    for group in range(start, end):
        table = parquet.read_row_group(group, use_threads=False)
        columns = list(table.columns)
        for index in transform.wanted(table.num_columns):
            columns[index] = _rewrite_column(
                columns[index].combine_chunks(), schema.field(index).type, index, transform
            )
        out = pa.Table.from_arrays(columns, schema=schema)
        # One write per input row group keeps the row-group boundaries.
        writer.write_table(out, row_group_size=max(1, out.num_rows))
        rows += out.num_rows
    return rows


def _rewrite_column(array: Any, target: Any, index: int, transform: TableTransform) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    before = _as_text(array)
    after = transform.apply(index, before)
    if after == before:
        return array if array.type == target else pc.cast(array, target)
    if _is_text(target) and pa.types.is_dictionary(target):
        return pa.array(after, type=target.value_type).dictionary_encode().cast(target)
    if _is_text(target):
        return pa.array(after, type=target)
    # Same non-text type: only nulls can have been written (drop); every other cell is kept.
    dropped = pa.array([a is None and b is not None for a, b in zip(after, before, strict=True)])
    return pc.if_else(dropped, pa.nulls(len(array), type=target), array)


def make_writer(output: Any, schema: Any, layout: ParquetLayout) -> Any:
    """A ``ParquetWriter`` with the input's codec and format version."""
    import pyarrow.parquet as pq

    return pq.ParquetWriter(output, schema, compression=layout.compression, version=layout.version)
