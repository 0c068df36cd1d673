"""JSON Lines and Excel workbooks read as tables, a bounded batch of rows at a time.

JSON Lines: each line one object; nested objects are opened one level into dotted column names
(``address.city``), deeper values and lists become compact text. A line that is not an object,
not valid JSON or longer than the limit is skipped and counted.

Excel: every sheet of a workbook, the first row as column names, read with openpyxl in
read-only mode (rows stream from the sheet's XML; cached formula values, never formulas run).
The shared-strings table is loaded whole by openpyxl, so a workbook whose table inflates past
``max_metadata_bytes`` is a limit, not an out-of-memory kill.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator, Sequence
from typing import IO, Any

from mlwarden.scanners.data.tables import (
    MAX_COLUMNS,
    ColumnBatch,
    ReadStats,
    ValueTest,
    column_names,
    generated_names,
    is_data_row,
    seekable,
)
from mlwarden.scanners.interface import Artifact, FormatError, LimitExceeded, ScanContext

#: Lines per JSON Lines batch, and bytes: a batch ends at whichever comes first.
JSONL_BATCH_LINES = 16_384
JSONL_BATCH_BYTES = 8 << 20
#: Rows per Excel batch.
EXCEL_BATCH_ROWS = 8_192
#: Sheets read per workbook.
MAX_SHEETS = 256


def read_jsonl(
    artifact: Artifact, context: ScanContext, stats: ReadStats, is_value: ValueTest
) -> Iterator[ColumnBatch]:
    """The objects of a JSON Lines file as rows, flattened one level."""
    stats.format = "jsonl"
    max_line = context.limits.max_metadata_bytes
    row = 0
    with artifact.open() as stream:
        rows: list[dict[str, str | None]] = []
        size = 0
        while True:
            line = stream.readline(max_line + 1)
            if not line:
                break
            if len(line) > max_line and not line.endswith(b"\n"):
                _skip_rest_of_line(stream, max_line)
                stats.skip(f"a line is longer than {max_line} bytes")
                continue
            if not line.strip():
                continue
            record = _record(line, stats)
            if record is None:
                continue
            rows.append(record)
            size += len(line)
            if len(rows) >= JSONL_BATCH_LINES or size >= JSONL_BATCH_BYTES:
                context.check_time()
                yield _batch(rows, row, stats)
                row += len(rows)
                rows, size = [], 0
        if rows:
            yield _batch(rows, row, stats)


def _skip_rest_of_line(stream: IO[bytes], chunk: int) -> None:
    while True:
        part = stream.readline(chunk)
        if not part or part.endswith(b"\n"):
            return


def _record(line: bytes, stats: ReadStats) -> dict[str, str | None] | None:
    try:
        value = json.loads(line.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        stats.skip("a line is not valid JSON")
        return None
    if not isinstance(value, dict):
        stats.skip("a line is not a JSON object")
        return None
    flat: dict[str, str | None] = {}
    for key, item in value.items():
        if isinstance(item, dict):
            for inner, leaf in item.items():
                flat[f"{key}.{inner}"] = cell_text(leaf)
        else:
            flat[str(key)] = cell_text(item)
    return flat


def cell_text(value: object) -> str | None:
    """A JSON or spreadsheet value as the text a person would read, or ``None``.

    Booleans carry no personal data; numbers keep their digits (a phone number stored as a
    number); lists of scalars become space-separated text, anything deeper compact JSON.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value or None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e18 else repr(value)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return " ".join(str(v) for v in value if not isinstance(v, bool)) or None
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = getattr(value, "isoformat", None)
    if callable(text):  # dates and times from a spreadsheet
        return str(text())
    return str(value)


def _batch(rows: list[dict[str, str | None]], first: int, stats: ReadStats) -> ColumnBatch:
    names: dict[str, None] = {}
    for record in rows:
        names.update(dict.fromkeys(record))
    keep = list(names)[:MAX_COLUMNS]
    stats.skipped_columns = max(stats.skipped_columns, len(names) - len(keep))
    columns = {name: [record.get(name) for record in rows] for name in keep}
    return ColumnBatch(first_row=first, rows=len(rows), columns=columns)


# Excel --------------------------------------------------------------------------------------


def read_excel(
    artifact: Artifact, context: ScanContext, stats: ReadStats, is_value: ValueTest
) -> Iterator[ColumnBatch]:
    """Every sheet of a workbook as a table, the first row as column names."""
    stats.format = "excel"
    with seekable(artifact) as source:
        _check_shared_strings(source, context.limits.max_metadata_bytes)
        import openpyxl

        try:
            book = openpyxl.load_workbook(source, read_only=True, data_only=True, keep_links=False)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise FormatError(f"not a readable workbook: {type(exc).__name__}") from None
        try:
            for sheet in book.worksheets[:MAX_SHEETS]:
                yield from _sheet_batches(sheet, context, stats, is_value)
        finally:
            book.close()


def _sheet_batches(
    sheet: Any, context: ScanContext, stats: ReadStats, is_value: ValueTest
) -> Iterator[ColumnBatch]:
    title = str(sheet.title)
    rows = sheet.iter_rows(values_only=True)
    first = next(rows, None)
    if first is None:
        return
    headerless = is_data_row(first, is_value)
    stats.headerless = stats.headerless or headerless
    names = generated_names(len(first)) if headerless else column_names(first, stats)
    names = names[:MAX_COLUMNS]
    pending: list[Sequence[object]] = [first] if headerless else []
    row = 0
    for values in rows:
        pending.append(values)
        if len(pending) >= EXCEL_BATCH_ROWS:
            context.check_time()
            yield _sheet_batch(title, names, pending, row)
            row += len(pending)
            pending = []
    if pending:
        yield _sheet_batch(title, names, pending, row)


def _sheet_batch(
    title: str, names: list[str], rows: list[Sequence[object]], first: int
) -> ColumnBatch:
    columns: dict[str, list[str | None]] = {}
    for index, name in enumerate(names):
        columns[name] = [cell_text(r[index]) if index < len(r) else None for r in rows]
    return ColumnBatch(first_row=first, rows=len(rows), columns=columns, table=title)


def _check_shared_strings(source: str | IO[bytes], limit: int) -> None:
    try:
        with zipfile.ZipFile(source) as archive:
            declared = sum(
                info.file_size
                for info in archive.infolist()
                if info.filename.lower().endswith("sharedstrings.xml")
            )
    except zipfile.BadZipFile:
        raise FormatError("not a readable workbook: not a zip archive") from None
    finally:
        if not isinstance(source, str):
            source.seek(0)
    if declared > limit:
        raise LimitExceeded(
            "max_metadata_bytes",
            f"the workbook's shared strings inflate to {declared} bytes, over {limit}",
        )


__all__ = ["cell_text", "read_excel", "read_jsonl"]
