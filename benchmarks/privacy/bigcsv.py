"""A CSV of at least 1 GiB made from the labelled table, written in chunks (bounded memory).

Every output row takes each column's cell from a different row of the base table (column
``c`` of output row ``n`` comes from base row ``(n * step_c + offset_c) mod rows`` with a step
per column coprime with the row count), so rows are new combinations rather than copies of one
block, and every column keeps the base table's mix of values, hard negatives and free text.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from pathlib import Path

CHUNK_ROWS = 20000
GIB = 1 << 30


def _escaped_columns(table: Path) -> tuple[str, list[list[str]]]:
    """The header line and each column's cells, already CSV-escaped."""
    csv.field_size_limit(sys.maxsize)
    with table.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    columns: list[list[str]] = []
    for index in range(len(header)):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        escaped = []
        for row in rows:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow([row[index]])
            escaped.append(buffer.getvalue()[:-1])
        columns.append(escaped)
    return ",".join(header) + "\n", columns


def write_big_csv(table: Path, out: Path, size: int = GIB) -> dict[str, int]:
    """Write ``out`` (at least ``size`` bytes); return its rows and bytes."""
    header, columns = _escaped_columns(table)
    base = len(columns[0])
    steps = []
    step = 1
    for _ in columns:
        while math.gcd(step, base) != 1:
            step += 1
        steps.append(step)
        step += 1
    offsets = [(i * 7919) % base for i in range(len(columns))]
    written = 0
    rows = 0
    tmp = out.with_suffix(".partial")
    with tmp.open("w", encoding="utf-8", newline="") as handle:
        handle.write(header)
        written += len(header.encode())
        while written < size:
            lines = [
                ",".join(col[(n * steps[i] + offsets[i]) % base] for i, col in enumerate(columns))
                for n in range(rows, rows + CHUNK_ROWS)
            ]
            chunk = "\n".join(lines) + "\n"
            handle.write(chunk)
            written += len(chunk.encode())
            rows += CHUNK_ROWS
    tmp.replace(out)
    return {"rows": rows, "bytes": out.stat().st_size}


def main() -> None:
    """Command line: ``bigcsv.py TABLE OUT [--bytes N]``."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("table", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--bytes", type=int, default=GIB)
    args = parser.parse_args()
    print(json.dumps(write_big_csv(args.table, args.out, args.bytes)))


if __name__ == "__main__":
    main()
