"""JSON Lines, rewritten line by line with untouched text kept.

Each line is one JSON object; its top-level keys are the columns. A line is located value by
value (``json``'s own decoder reports where each value ends), so that a changed value is
replaced in place and every other byte of the line (key order, spacing, escapes, number
formatting) stays as it was; a line with no change is written back unchanged. Cells handed to
the redaction are strings as they are and numbers or booleans as their JSON text; nested
arrays and objects have their string leaves redacted one by one. Lines that are blank stay
blank; a line that is not a JSON object is an error (its position is given).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from mlwarden.protect.redact.errors import UnsupportedInputError
from mlwarden.protect.redact.plan import ColumnSurvey
from mlwarden.protect.redact.transform import TableTransform

ENCODING = "utf-8"
ERRORS = "surrogateescape"
BATCH_ROWS = 2000
_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\r\n"
#: Column names looked for in the first lines; later keys not seen there are left alone.
MAX_COLUMNS = 4096


@dataclass(frozen=True)
class JsonlLayout:
    """The top-level keys seen in the first rows, in order of first appearance."""

    columns: tuple[str, ...]
    data_start: int
    size: int


@dataclass
class _Line:
    """One parsed line: raw text, and each top-level member's value with its text span."""

    raw: str
    members: dict[str, tuple[Any, int, int]]  # key -> (value, start, end) in raw


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WHITESPACE:
        pos += 1
    return pos


def _parse(raw: str, offset: int) -> _Line:
    text = raw
    pos = _skip(text, 0)
    if pos == len(text):
        return _Line(raw, {})
    members: dict[str, tuple[Any, int, int]] = {}
    try:
        if text[pos] != "{":
            raise ValueError("not a JSON object")
        pos = _skip(text, pos + 1)
        if text[pos] == "}":
            pos += 1
        else:
            while True:
                key, pos = json.decoder.scanstring(text, pos + 1)  # type: ignore[attr-defined]
                pos = _skip(text, pos)
                if text[pos] != ":":
                    raise ValueError("expected ':'")
                pos = _skip(text, pos + 1)
                value, end = _DECODER.raw_decode(text, pos)
                if key in members:
                    # Readers disagree on which of two equal keys wins; redacting one and
                    # keeping the other could leave a personal value behind.
                    raise ValueError(f"key {key!r} appears twice")
                members[key] = (value, pos, end)
                pos = _skip(text, end)
                if text[pos] == ",":
                    pos = _skip(text, pos + 1)
                    if text[pos] != '"':
                        raise ValueError("expected a key")
                    continue
                if text[pos] == "}":
                    pos += 1
                    break
                raise ValueError("expected ',' or '}'")
        if _skip(text, pos) != len(text):
            raise ValueError("text after the object")
    except (ValueError, IndexError) as exc:
        raise UnsupportedInputError(
            f"the line at byte {offset} is not a JSON object: {exc}"
        ) from None
    return _Line(raw, members)


def _lines(stream: BinaryIO, start: int, end: int | None) -> Iterator[tuple[_Line, int]]:
    stream.seek(start)
    offset = start
    while end is None or offset < end:
        data = stream.readline()
        if not data:
            return
        line = _parse(data.decode(ENCODING, ERRORS), offset)
        offset += len(data)
        yield line, offset


def read_layout(path: Path, rows: int | None) -> JsonlLayout:
    """The keys of the first ``rows`` lines (all when None)."""
    seen: dict[str, None] = {}
    with path.open("rb") as stream:
        for count, (line, _end) in enumerate(_lines(stream, 0, None), start=1):
            for key in line.members:
                if len(seen) < MAX_COLUMNS:
                    seen.setdefault(key)
            if rows is not None and count >= rows:
                break
    return JsonlLayout(tuple(seen), 0, path.stat().st_size)


def cell_text(value: Any) -> str | None:
    """A value as a cell: strings as they are, scalars as their JSON text, null as None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False)


def survey_rows(path: Path, layout: JsonlLayout, survey: ColumnSurvey, rows: int | None) -> int:
    """Feed the first ``rows`` lines to ``survey``; returns lines read."""
    seen = 0
    batch: list[_Line] = []
    indices = list(range(len(layout.columns)))
    with path.open("rb") as stream:
        for line, _end in _lines(stream, 0, None):
            batch.append(line)
            seen += 1
            if len(batch) >= BATCH_ROWS:
                survey.add(_columns_of(batch, layout, indices))
                batch = []
            if rows is not None and seen >= rows:
                break
    if batch:
        survey.add(_columns_of(batch, layout, indices))
    return seen


def _columns_of(
    batch: list[_Line], layout: JsonlLayout, indices: list[int]
) -> dict[int, list[str | None]]:
    # Containers are judged by their string leaves (a list of e-mails is an e-mail column),
    # the way they are redacted.
    columns: dict[int, list[str | None]] = {}
    for i in indices:
        key = layout.columns[i]
        cells: list[str | None] = []
        for line in batch:
            value = line.members[key][0] if key in line.members else None
            if isinstance(value, list | dict):
                leaves: list[str] = []
                _leaves(value, leaves)
                cells.extend(leaves)
            else:
                cells.append(cell_text(value))
        columns[i] = cells
    return columns


def rewrite_range(
    path: Path,
    layout: JsonlLayout,
    transform: TableTransform,
    sink: BinaryIO,
    *,
    start: int,
    end: int | None,
) -> tuple[int, int]:
    """Rewrite the lines starting in ``[start, end)``; returns lines and the offset reached."""
    rows = 0
    stop = start
    batch: list[_Line] = []
    with path.open("rb") as stream:
        for line, line_end in _lines(stream, start, end):
            batch.append(line)
            stop = line_end
            if len(batch) >= BATCH_ROWS:
                rows += _flush(batch, layout, transform, sink)
                batch = []
    rows += _flush(batch, layout, transform, sink)
    return rows, stop


def _flush(
    batch: list[_Line], layout: JsonlLayout, transform: TableTransform, sink: BinaryIO
) -> int:
    if not batch:
        return 0
    indices = transform.wanted(len(layout.columns))
    out: list[str] = []
    changes: list[dict[str, Any]] = [{} for _ in batch]
    for i in indices:
        key = layout.columns[i]
        _redact_column(batch, key, i, transform, changes)
    for line, changed in zip(batch, changes, strict=True):
        out.append(_rebuild(line, changed) if changed else line.raw)
    sink.write("".join(out).encode(ENCODING, ERRORS))
    return len(batch)


def _leaves(value: Any, found: list[str]) -> None:
    if isinstance(value, str):
        found.append(value)
    elif isinstance(value, list):
        for item in value:
            _leaves(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            _leaves(item, found)


def _replace_leaves(value: Any, new: Iterator[str | None]) -> Any:
    if isinstance(value, str):
        return next(new)
    if isinstance(value, list):
        return [_replace_leaves(item, new) for item in value]
    if isinstance(value, dict):
        return {k: _replace_leaves(item, new) for k, item in value.items()}
    return value


def _redact_column(
    batch: list[_Line], key: str, index: int, transform: TableTransform,
    changes: list[dict[str, Any]],
) -> None:  # fmt: skip
    # Scalars are one cell each; containers contribute each string leaf as a cell, so that
    # a list of e-mails is redacted address by address and keeps its structure.
    cells: list[str | None] = []
    owners: list[tuple[int, Any]] = []
    for row, line in enumerate(batch):
        member = line.members.get(key)
        if member is None or member[0] is None:
            continue
        value = member[0]
        if isinstance(value, list | dict):
            leaves: list[str] = []
            _leaves(value, leaves)
            cells.extend(leaves)
            owners.append((row, value))
        else:
            cells.append(cell_text(value))
            owners.append((row, value))
    if not cells:
        return
    new_cells = iter(transform.apply(index, cells))
    for row, value in owners:
        if isinstance(value, list | dict):
            before: list[str] = []
            _leaves(value, before)
            replaced = [next(new_cells) for _ in before]
            if replaced != before:
                changes[row][key] = _replace_leaves(value, iter(replaced))
        else:
            new = next(new_cells)
            if new != cell_text(value):
                changes[row][key] = new


def _rebuild(line: _Line, changed: dict[str, Any]) -> str:
    raw = line.raw
    pieces: list[str] = []
    cursor = 0
    for key, (_value, start, end) in sorted(line.members.items(), key=lambda kv: kv[1][1]):
        if key not in changed:
            continue
        pieces.append(raw[cursor:start])
        pieces.append(json.dumps(changed[key], ensure_ascii=False))
        cursor = end
    pieces.append(raw[cursor:])
    return "".join(pieces)


def line_boundaries(path: Path, parts: int) -> list[int]:
    """Offsets that split the file into about ``parts`` ranges, each starting a line."""
    size = path.stat().st_size
    bounds = [0]
    with path.open("rb") as stream:
        for k in range(1, parts):
            target = size * k // parts
            if target <= bounds[-1]:
                continue
            stream.seek(target - 1)
            stream.readline()  # to the end of the line that holds the target
            cut = stream.tell()
            if bounds[-1] < cut < size:
                bounds.append(cut)
    bounds.append(size)
    return bounds
