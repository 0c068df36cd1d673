"""CSV and other delimited text, rewritten record by record with untouched bytes kept.

Python's ``csv`` module parses each record, fed one physical line at a time through a reader
that remembers the raw text it consumed, so every record is known both as values and as the
exact bytes it came from. A record whose cells do not change is written back as those bytes;
in a changed record only the changed fields are re-encoded, every other field keeps its raw
text (its quoting, its spacing), and the record keeps its line ending. The file is decoded as
UTF-8 with ``surrogateescape``, so that bytes that are not UTF-8 survive unchanged too.

Records are addressed by byte offsets, so that a large file can be split into ranges that start
on record boundaries (:func:`record_boundaries`) and rewritten by several workers; written
back to back, the ranges give exactly the bytes one pass would.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from mlwarden.protect.redact.errors import UnsupportedInputError
from mlwarden.protect.redact.plan import ColumnSurvey
from mlwarden.protect.redact.transform import TableTransform

ENCODING = "utf-8"
ERRORS = "surrogateescape"
QUOTE = '"'
#: Records rewritten together: free-text search runs once per column per batch.
BATCH_ROWS = 2000
#: How much of the file is read to find its delimiter.
HEAD_BYTES = 1 << 20
_TERMINATOR = re.compile(r"(\r\n|\n|\r)$")


@dataclass(frozen=True)
class CsvLayout:
    """The delimiter, the column names and where the data records start (a byte offset)."""

    delimiter: str
    columns: tuple[str, ...]
    data_start: int
    size: int


class _RawLines:
    """Physical lines for ``csv.reader``, remembering the raw text and byte offset consumed."""

    def __init__(self, stream: BinaryIO, offset: int) -> None:
        self._stream = stream
        self.offset = offset
        self.consumed: list[str] = []

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = self._stream.readline()
        if not line:
            raise StopIteration
        self.offset += len(line)
        text = line.decode(ENCODING, ERRORS)
        self.consumed.append(text)
        return text

    def take(self) -> str:
        """The raw text of the record just parsed."""
        text = "".join(self.consumed)
        self.consumed.clear()
        return text


def _records(
    stream: BinaryIO, delimiter: str, start: int, end: int | None
) -> Iterator[tuple[list[str], str, int]]:
    """``(values, raw text, end offset)`` of each record starting in ``[start, end)``."""
    stream.seek(start)
    lines = _RawLines(stream, start)
    reader = csv.reader(lines, delimiter=delimiter, quotechar=QUOTE, doublequote=True)
    while end is None or lines.offset < end:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise UnsupportedInputError(
                f"malformed CSV near line {reader.line_num}: {exc}"
            ) from None
        yield values, lines.take(), lines.offset


def read_layout(path: Path) -> CsvLayout:
    """Find the delimiter and read the header row."""
    from mlwarden.scanners.data.tables import detect_delimiter

    size = path.stat().st_size
    with path.open("rb") as stream:
        head = stream.read(HEAD_BYTES).decode(ENCODING, ERRORS)
        delimiter = detect_delimiter(head, path.name)
        header = next(_records(stream, delimiter, 0, None), None)
    if header is None:
        raise UnsupportedInputError(f"{path} is empty: no header row")
    names = [name.lstrip("\ufeff").strip() for name in header[0]]
    return CsvLayout(delimiter, tuple(names), header[2], size)


def survey_rows(path: Path, layout: CsvLayout, survey: ColumnSurvey, rows: int | None) -> int:
    """Feed the first ``rows`` data rows (all when None) to ``survey``; returns rows read."""
    width = len(layout.columns)
    seen = 0
    with path.open("rb") as stream:
        batch: list[list[str]] = []
        for values, _raw, _end in _records(stream, layout.delimiter, layout.data_start, None):
            batch.append(values)
            seen += 1
            if len(batch) >= BATCH_ROWS:
                survey.add(_columns_of(batch, range(width)))
                batch = []
            if rows is not None and seen >= rows:
                break
        if batch:
            survey.add(_columns_of(batch, range(width)))
    return seen


def _columns_of(batch: list[list[str]], indices: range | list[int]) -> dict[int, list[str | None]]:
    return {i: [row[i] if i < len(row) else None for row in batch] for i in indices}


def rewrite_range(
    path: Path,
    layout: CsvLayout,
    transform: TableTransform,
    sink: BinaryIO,
    *,
    start: int,
    end: int | None,
    header: bool,
) -> tuple[int, int]:
    """Rewrite the records starting in ``[start, end)`` into ``sink``.

    With ``header`` the header record (``[0, data_start)``) is copied first. Returns the number
    of data rows and the offset where the last record read ended: equal to ``end`` exactly when
    ``end`` was a record boundary.
    """
    rows = 0
    stop = start
    with path.open("rb") as stream:
        if header:
            sink.write(stream.read(layout.data_start))
        batch: list[tuple[list[str], str]] = []
        for values, raw, record_end in _records(stream, layout.delimiter, start, end):
            batch.append((values, raw))
            stop = record_end
            if len(batch) >= BATCH_ROWS:
                rows += _flush(batch, layout, transform, sink)
                batch = []
        rows += _flush(batch, layout, transform, sink)
    return rows, stop


def _flush(
    batch: list[tuple[list[str], str]], layout: CsvLayout, transform: TableTransform, sink: BinaryIO
) -> int:
    if not batch:
        return 0
    width = max(len(values) for values, _ in batch)
    indices = transform.wanted(width)
    columns = _columns_of([values for values, _ in batch], indices)
    replaced = {i: transform.apply(i, cells) for i, cells in columns.items()}
    out: list[str] = []
    for row, (values, raw) in enumerate(batch):
        changes = {
            i: new[row] for i, new in replaced.items() if i < len(values) and new[row] != values[i]
        }
        out.append(_rebuild(values, raw, changes, layout.delimiter) if changes else raw)
    sink.write("".join(out).encode(ENCODING, ERRORS))
    return len(batch)


def _split_raw(body: str, delimiter: str) -> list[str]:
    """The raw text of each field of one record (without its line ending)."""
    fields: list[str] = []
    quoted = re.compile(f"{QUOTE}(?:[^{QUOTE}]|{QUOTE}{QUOTE})*{QUOTE}")
    plain = re.compile(f"[^{re.escape(delimiter)}\r\n]*")
    pos = 0
    while True:
        if body.startswith(QUOTE, pos):
            match = quoted.match(body, pos)
            end = match.end() if match else len(body)
        else:
            match = plain.match(body, pos)
            end = match.end() if match else pos
        fields.append(body[pos:end])
        if end >= len(body) or body[end] != delimiter:
            fields[-1] = body[pos:]  # anything after a closing quote stays with its field
            break
        pos = end + 1
    return fields


def _unquote(raw: str) -> str:
    if raw.startswith(QUOTE) and raw.endswith(QUOTE) and len(raw) >= 2:
        return raw[1:-1].replace(QUOTE * 2, QUOTE)
    return raw


def encode_field(value: str, delimiter: str, *, quoted: bool) -> str:
    """One field as CSV text: quoted when it must be, or when the field it replaces was."""
    if quoted or any(c in value for c in (delimiter, QUOTE, "\r", "\n")):
        return QUOTE + value.replace(QUOTE, QUOTE * 2) + QUOTE
    return value


def _rebuild(values: list[str], raw: str, changes: dict[int, str | None], delimiter: str) -> str:
    match = _TERMINATOR.search(raw)
    ending = match.group(1) if match else ""
    body = raw[: len(raw) - len(ending)]
    fields = _split_raw(body, delimiter)
    if len(fields) != len(values) or any(
        _unquote(f) != v for f, v in zip(fields, values, strict=True)
    ):
        # A record this splitter reads differently from the csv module (odd quoting): every
        # field is re-encoded, so the record is right even if untouched fields change bytes.
        fields = [encode_field(v, delimiter, quoted=False) for v in values]
    for index, new in changes.items():
        fields[index] = encode_field(new or "", delimiter, quoted=fields[index].startswith(QUOTE))
    return delimiter.join(fields) + ending


def record_boundaries(path: Path, layout: CsvLayout, parts: int) -> list[int]:
    """Offsets that split the data records into about ``parts`` ranges of similar size.

    A boundary is a line end after an even number of quote characters (outside any quoted
    field). The list starts at ``data_start`` and ends at the file size. Files whose quoting
    defeats this are caught afterwards: each range reports where its last record ended.
    """
    start, size = layout.data_start, layout.size
    targets = [start + (size - start) * k // parts for k in range(1, parts)]
    bounds = [start]
    chunk_size = 16 << 20
    with path.open("rb") as stream:
        stream.seek(start)
        base, parity = start, 0
        pending = [t for t in targets if t > start]
        while pending:
            chunk = stream.read(chunk_size)
            if not chunk:
                break
            pos = max(0, pending[0] - base)
            while pending and pos < len(chunk):
                newline = chunk.find(b"\n", pos)
                if newline < 0:
                    break
                if (parity + chunk.count(b'"', 0, newline)) % 2 == 0:
                    cut = base + newline + 1
                    if cut > bounds[-1] and cut < size:
                        bounds.append(cut)
                    while pending and pending[0] < cut:
                        pending.pop(0)
                    pos = max(newline + 1, (pending[0] - base) if pending else len(chunk))
                else:
                    pos = newline + 1
            parity = (parity + chunk.count(b'"')) % 2
            base += len(chunk)
    bounds.append(size)
    return bounds
