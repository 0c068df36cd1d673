"""Datasets read as text, a batch of rows at a time, whatever their size.

Every reader yields :class:`ColumnBatch` objects: some consecutive rows of one table, column
by column, each cell as text (or ``None`` when empty). Memory depends on the batch, never on
the file: CSV is streamed by pyarrow's incremental reader, Parquet one record batch at a time,
JSON Lines a bounded number of lines at a time, Excel row by row. ``sample`` stops after that
many rows. What cannot be read is counted in :class:`ReadStats` and skipped, so that one bad
line does not hide the rest of a file; a file that cannot be read at all is a
:class:`~mlwarden.scanners.interface.FormatError`.

Heavy libraries (pyarrow, openpyxl) are imported inside the readers, so that importing this
module costs nothing.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

from mlwarden.scanners.interface import Artifact, FormatError, LimitExceeded, ScanContext
from mlwarden.sniff import Kind

#: Bytes pyarrow parses per CSV block: each block becomes one batch. The streaming reader
#: reads a few dozen blocks ahead, so this sets its memory (about 40 MiB at 1 MiB).
CSV_BLOCK_BYTES = 1 << 20
#: Blocks grow to this when a single value is longer than a block.
MAX_CSV_BLOCK_BYTES = 16 << 20
#: How much of a CSV file is read to find its delimiter and header.
CSV_HEAD_BYTES = 1 << 20
#: Delimiters tried, in order of preference when several fit equally well.
DELIMITERS = (",", "\t", ";", "|")
#: Columns kept per table; past this, the extra columns of wide tables are not scanned.
MAX_COLUMNS = 4096
#: The largest archive member copied to a temporary file for a format that must seek
#: (Parquet is read from its end, a workbook is a zip).
MAX_MEMBER_COPY_BYTES = 4 * 1024**3

#: The parts of a pyarrow parse error that describe it without quoting data.
_PARSE_MESSAGE = re.compile(
    r"Row #\d+|Expected \d+ columns?, got \d+|[A-Z][a-z]+(?: [a-z]+)*(?: \(.*\))?\??"
)

#: Tells whether a text is a personal value (a header cell that is really data).
ValueTest = Callable[[str], bool]


@dataclass(slots=True)
class ColumnBatch:
    """Consecutive rows of one table, column by column, every cell as text or ``None``."""

    first_row: int  # 0-based index of the batch's first data row in its table
    rows: int
    columns: dict[str, list[str | None]]
    table: str | None = None  # the sheet of a workbook; None for single-table formats


@dataclass(slots=True)
class ReadStats:
    """What reading a dataset covered, and what it had to skip."""

    format: str
    rows: int = 0
    skipped: int = 0  # rows or lines that could not be read
    skipped_columns: int = 0  # columns over MAX_COLUMNS, not scanned
    sampled: bool = False  # stopped at the sample size with rows left unread
    headerless: bool = False  # the first row held data, not column names
    reasons: list[str] = field(default_factory=list)  # why rows were skipped (a few)

    def skip(self, reason: str, count: int = 1) -> None:
        """Count skipped rows, keeping the first few distinct reasons."""
        self.skipped += count
        if reason not in self.reasons and len(self.reasons) < 5:
            self.reasons.append(reason)


def read_batches(
    artifact: Artifact,
    context: ScanContext,
    stats: ReadStats,
    *,
    is_value: ValueTest,
    sample: int | None = None,
) -> Iterator[ColumnBatch]:
    """The rows of a dataset artifact in bounded batches; ``sample`` stops after that many rows.

    ``is_value`` decides whether a first row is data rather than names (a headerless file),
    so that a personal value never becomes a column name in a report.
    """
    reader = _READERS.get(artifact.kind)
    if reader is None:
        raise FormatError(f"no dataset reader for {artifact.kind.value}")
    batches = reader(artifact, context, stats, is_value)
    if sample is None:
        for batch in batches:
            stats.rows += batch.rows
            yield batch
        return
    yield from _first_rows(batches, stats, sample)


def _first_rows(
    batches: Iterator[ColumnBatch], stats: ReadStats, sample: int
) -> Iterator[ColumnBatch]:
    for batch in batches:
        left = sample - stats.rows
        if left <= 0:
            stats.sampled = True  # a row was left unread
            return
        if batch.rows > left:
            batch = ColumnBatch(
                first_row=batch.first_row,
                rows=left,
                columns={name: values[:left] for name, values in batch.columns.items()},
                table=batch.table,
            )
            stats.sampled = True
        stats.rows += batch.rows
        yield batch
        if stats.sampled:
            return


def column_names(header: Sequence[object], stats: ReadStats) -> list[str]:
    """Unique, non-empty names for a header row; repeats get ``.2``, ``.3`` appended."""
    names: list[str] = []
    seen: set[str] = set()
    for index, cell in enumerate(header):
        base = str(cell).strip() if cell is not None else ""
        base = base or f"column_{index + 1}"
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base}.{n}"
        seen.add(name)
        names.append(name)
    if len(names) > MAX_COLUMNS:
        stats.skipped_columns += len(names) - MAX_COLUMNS
    return names


def is_data_row(cells: Sequence[object], is_value: ValueTest) -> bool:
    """Whether a first row holds personal values rather than column names."""
    return any(isinstance(c, str) and c.strip() and is_value(c.strip()) for c in cells)


def generated_names(count: int) -> list[str]:
    """Names for the columns of a table without a header: ``column_1``, ``column_2``..."""
    return [f"column_{i + 1}" for i in range(count)]


# CSV and other delimited text ---------------------------------------------------------------


def detect_delimiter(text: str, name: str = "") -> str:
    """The delimiter of delimited text: the candidate that splits its first lines most evenly.

    Quoted fields are honoured (a comma inside quotes does not count). A ``.tsv`` or ``.tab``
    name settles a tie in favour of tabs; text that no candidate splits is one column.
    """
    lines = text.splitlines(keepends=True)
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line of a head may be cut short
    sample = "".join(lines[:50])
    preferred = "\t" if name.lower().endswith((".tsv", ".tab")) else ""
    best, best_score = ",", 0.0
    for delimiter in sorted(DELIMITERS, key=lambda d: d != preferred):
        try:
            widths = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r]
        except csv.Error:
            continue
        if not widths or max(widths) < 2:
            continue
        common = max(set(widths), key=widths.count)
        if common < 2:
            continue
        # Mostly the same width, and wider is better: a delimiter that also occurs inside
        # values (a semicolon in free text) gives ragged rows.
        score = widths.count(common) / len(widths) + min(common, 50) / 1000
        if score > best_score + 1e-9:
            best, best_score = delimiter, score
    return best


@contextmanager
def seekable(artifact: Artifact) -> Iterator[str | IO[bytes]]:
    """The artifact's file on disk, or a bounded temporary copy of an archive member."""
    if artifact.fs_path is not None:
        yield artifact.fs_path
        return
    too_big = LimitExceeded(
        "max_member_copy_bytes",
        f"a {artifact.kind.value} member over {MAX_MEMBER_COPY_BYTES} bytes is not copied out"
        " to be scanned",
    )
    if artifact.size > MAX_MEMBER_COPY_BYTES:
        raise too_big
    with tempfile.TemporaryFile() as copy:
        copied = 0
        with artifact.open() as stream:
            # Copied by hand, not with shutil, so that the size is checked as it grows.
            while chunk := stream.read(1 << 20):
                copied += len(chunk)
                if copied > MAX_MEMBER_COPY_BYTES:
                    raise too_big
                copy.write(chunk)
        copy.seek(0)
        yield copy


def _csv_source(artifact: Artifact) -> str | IO[bytes]:
    return artifact.fs_path if artifact.fs_path is not None else artifact.open()


def _read_csv(
    artifact: Artifact, context: ScanContext, stats: ReadStats, is_value: ValueTest
) -> Iterator[ColumnBatch]:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    head = artifact.read_at_most(CSV_HEAD_BYTES).removeprefix(b"\xef\xbb\xbf")
    encoding = head_encoding(head)
    text = head.decode(encoding, errors="ignore")
    if not text.strip():
        return
    delimiter = detect_delimiter(text, artifact.name)
    stats.format = "tsv" if delimiter == "\t" else "csv"
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=delimiter))
    except (csv.Error, StopIteration):
        raise FormatError("no header row could be read") from None
    stats.headerless = is_data_row(header, is_value)
    names = generated_names(len(header)) if stats.headerless else column_names(header, stats)

    def invalid_row(row: Any) -> str:
        stats.skip(f"a row has {row.actual_columns} fields, the header {row.expected_columns}")
        return "skip"

    # Every column as bytes: a type guessed from the first block would fail on a later one,
    # and each cell is decoded on its own (see decode), so one bad byte spoils one cell.
    parse_options = pacsv.ParseOptions(
        delimiter=delimiter, newlines_in_values=True, invalid_row_handler=invalid_row
    )
    convert_options = pacsv.ConvertOptions(
        column_types={n: pa.binary() for n in names},
        include_columns=names[:MAX_COLUMNS],
    )
    row, block, skipped = 0, CSV_BLOCK_BYTES, 0
    while True:
        read_options = pacsv.ReadOptions(
            column_names=names,
            skip_rows=0 if stats.headerless else 1,
            skip_rows_after_names=row,
            block_size=block,
            use_threads=False,
            encoding=encoding,
        )
        source = _csv_source(artifact)
        try:
            reader = pacsv.open_csv(source, read_options, parse_options, convert_options)
            for batch in reader:
                context.check_time()
                columns = {n: as_text(batch.column(i)) for i, n in enumerate(batch.schema.names)}
                yield ColumnBatch(first_row=row, rows=batch.num_rows, columns=columns)
                row += batch.num_rows
                skipped = stats.skipped
            return
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            if "straddl" in str(exc) and block < MAX_CSV_BLOCK_BYTES:
                # A value longer than a block: read again with larger blocks, after the rows
                # already given out.
                block, stats.skipped = MAX_CSV_BLOCK_BYTES, skipped
                continue
            raise FormatError(f"CSV parse error: {_short(exc)}") from None
        finally:
            if not isinstance(source, str):
                source.close()


def decode(data: bytes) -> str:
    """Bytes as text: UTF-8, else Windows-1252 (what spreadsheet exports use), else Latin-1.

    A value is never dropped for its encoding: names in a legacy encoding are still names.
    """
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def head_encoding(head: bytes) -> str:
    """The encoding a delimited file is read in: UTF-8 when its head is, else a legacy one.

    pyarrow hands a malformed row to the skip handler only as UTF-8, so a file in a legacy
    encoding is transcoded as a whole (Windows-1252 when the head fits it, else Latin-1,
    which accepts any byte).
    """
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"  # the head ends inside a character
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def as_text(array: Any) -> list[str | None]:
    """A pyarrow array of text or bytes as Python strings (see :func:`decode`).

    Empty strings count as missing: they carry no personal data.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_binary(array.type) or pa.types.is_large_binary(array.type):
        try:
            array = array.cast(pa.string())
        except pa.ArrowInvalid:
            return [decode(v) or None if v is not None else None for v in array.to_pylist()]
    elif not (pa.types.is_string(array.type) or pa.types.is_large_string(array.type)):
        array = pc.cast(array, pa.string())
    return [v or None for v in array.to_pylist()]


def _short(exc: BaseException, width: int = 200) -> str:
    # pyarrow quotes the offending row after its message: a report must not carry it.
    text = str(exc).split("\n", 1)[0].removeprefix("CSV parse error: ")
    kept = [part for part in text.split(": ") if _PARSE_MESSAGE.fullmatch(part)]
    return ": ".join(kept)[:width] or "malformed row"


def _lazy(module: str, function: str) -> Callable[..., Iterator[ColumnBatch]]:
    def call(
        artifact: Artifact, context: ScanContext, stats: ReadStats, is_value: ValueTest
    ) -> Iterator[ColumnBatch]:
        import importlib

        reader = getattr(importlib.import_module(module), function)
        batches: Iterator[ColumnBatch] = reader(artifact, context, stats, is_value)
        return batches

    return call


_READERS: dict[Kind, Callable[..., Iterator[ColumnBatch]]] = {
    Kind.CSV: _read_csv,
    Kind.PARQUET: _lazy("mlwarden.scanners.data.columnar", "read_parquet"),
    Kind.JSONL: _lazy("mlwarden.scanners.data.records", "read_jsonl"),
    Kind.EXCEL: _lazy("mlwarden.scanners.data.records", "read_excel"),
}

__all__ = [
    "ColumnBatch",
    "ReadStats",
    "as_text",
    "column_names",
    "decode",
    "detect_delimiter",
    "generated_names",
    "is_data_row",
    "read_batches",
    "seekable",
]
