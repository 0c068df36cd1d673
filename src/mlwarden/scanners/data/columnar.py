"""Parquet read one record batch at a time, only the columns that can hold personal data.

Text columns are always read. Numbers are read only where a personal value can hide in them:
integers (phone and card numbers are often stored as integers) from a batch whose largest
magnitude has at least :data:`MIN_IDENTIFIER_DIGITS` digits, floats whose column name speaks of
a position (latitude, longitude). Dates are read (a birth date is a date). Structs are opened
one level (``address.street``), lists of text joined with spaces; everything else (booleans,
binary blobs, deeper nesting) is skipped without reading its pages.

An archive member is copied to a temporary file first, since Parquet is read from its end
(see :func:`~mlwarden.scanners.data.tables.seekable`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from mlwarden.scanners.data.tables import (
    ColumnBatch,
    ReadStats,
    ValueTest,
    as_text,
    column_names,
    seekable,
)
from mlwarden.scanners.interface import Artifact, FormatError, ScanContext

#: Rows per Parquet record batch.
PARQUET_BATCH_ROWS = 32_768
#: Integers below 10**7 cannot be a phone, card, account or national id number.
MIN_IDENTIFIER_DIGITS = 7

_POSITION_NAME = re.compile(r"(?i)(^|[^a-z])(lat|latitude|lon|lng|long|longitude|geo|coord)")


def read_parquet(
    artifact: Artifact, context: ScanContext, stats: ReadStats, is_value: ValueTest
) -> Iterator[ColumnBatch]:
    """The personal-data-capable columns of a Parquet file, a record batch at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    stats.format = "parquet"
    with seekable(artifact) as source:
        try:
            parquet = pq.ParquetFile(source, buffer_size=1 << 20, pre_buffer=False)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
            reason = str(exc).strip().split("\n", 1)[0][:200]
            raise FormatError(f"not a readable Parquet file: {reason}") from None
        schema = parquet.schema_arrow
        wanted = [f.name for f in schema if _may_hold_personal_data(f.type, f.name)]
        column_names([f.name for f in schema], stats)  # counts columns past the cap
        if not wanted:
            return
        row = 0
        # Row group by row group: a damaged one is skipped and counted, the others are read.
        for group in range(parquet.num_row_groups):
            rows = parquet.metadata.row_group(group).num_rows
            done = 0
            try:
                for batch in parquet.iter_batches(
                    batch_size=PARQUET_BATCH_ROWS,
                    row_groups=[group],
                    columns=wanted,
                    use_threads=False,
                ):
                    context.check_time()
                    columns: dict[str, list[str | None]] = {}
                    for name, array in zip(batch.schema.names, batch.columns, strict=True):
                        columns.update(_text_columns(name, array))
                    yield ColumnBatch(first_row=row + done, rows=batch.num_rows, columns=columns)
                    done += batch.num_rows
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError):
                stats.skip("a row group could not be decoded", rows - done)
            row += rows


def _may_hold_personal_data(kind: Any, name: str) -> bool:
    import pyarrow as pa

    types = pa.types
    if types.is_dictionary(kind):
        kind = kind.value_type
    if types.is_string(kind) or types.is_large_string(kind) or types.is_integer(kind):
        return True
    if types.is_binary(kind) or types.is_large_binary(kind):
        return True  # text stored without a logical type is common; decoded per batch
    if types.is_date(kind):
        return True
    if types.is_floating(kind) or types.is_decimal(kind):
        return _POSITION_NAME.search(name) is not None
    if types.is_struct(kind):
        return any(
            _may_hold_personal_data(kind.field(i).type, kind.field(i).name)
            for i in range(kind.num_fields)
        )
    if types.is_list(kind) or types.is_large_list(kind):
        value = kind.value_type
        return bool(types.is_string(value) or types.is_large_string(value))
    return False


def _text_columns(name: str, array: Any) -> Iterator[tuple[str, list[str | None]]]:
    """One column as text, a struct as its fields (``parent.child``), or nothing."""
    import pyarrow as pa
    import pyarrow.compute as pc

    types = pa.types
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    kind = array.type
    if types.is_dictionary(kind):
        array = array.dictionary_decode()
        kind = array.type
    if types.is_struct(kind):
        for index, child in enumerate(array.flatten()):
            child_name = f"{name}.{kind.field(index).name}"
            if types.is_struct(child.type):
                continue  # one level only: deeper nesting is rare in datasets
            if _may_hold_personal_data(child.type, child_name):
                yield from _text_columns(child_name, child)
        return
    if types.is_list(kind) or types.is_large_list(kind):
        yield name, as_text(pc.binary_join(array, " "))
        return
    if types.is_integer(kind) and not _long_enough(array):
        return
    yield name, as_text(array)


def _long_enough(array: Any) -> bool:
    import pyarrow.compute as pc

    extremes = pc.min_max(array).as_py()
    low, high = extremes["min"], extremes["max"]
    if low is None or high is None:
        return False
    return bool(max(abs(low), abs(high)) >= 10 ** (MIN_IDENTIFIER_DIGITS - 1))


__all__ = ["read_parquet"]
