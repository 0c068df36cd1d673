"""Memory stays flat: a 200 MB CSV is scanned with a small fraction of its size in memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

#: Size of the generated CSV; MLWARDEN_MEMORY_TEST_MB overrides it.
FILE_MB = int(os.environ.get("MLWARDEN_MEMORY_TEST_MB", "200"))

# Run in a fresh interpreter, so that the pyarrow pool's peak and the traced peak belong to
# this scan alone. Imports and a first small scan happen before tracing starts.
MEASURE = """
import json, sys, tracemalloc
from pathlib import Path
import pyarrow as pa
from mlwarden.engine import scan_file
from mlwarden.scanners.interface import Limits

big, small = Path(sys.argv[1]), Path(sys.argv[2])
scan_file(str(small), small)
arrow_before = pa.default_memory_pool().max_memory()
tracemalloc.start()
result = scan_file(str(big), big, Limits(seconds_per_file=3600))
_, traced_peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(json.dumps({
    "traced_peak": traced_peak,
    "arrow_peak": pa.default_memory_pool().max_memory(),
    "arrow_before": arrow_before,
    "findings": [[f.rule, f.evidence.get("column"), f.evidence.get("count"),
                  f.evidence.get("rows_scanned")] for f in result.findings],
    "errors": [e.message for e in result.errors],
}))
"""


def write_large_csv(path: Path, megabytes: int) -> int:
    """Rows of an e-mail column, order ids, prices and free text; returns the row count."""
    block_rows = 10_000
    lines = [
        f"{i},person{i}@example.com,ORD-2024-{i:06d},{i % 500}.{i % 100:02d},"
        f'"Delivered on time, the customer was happy with item {i % 97} and left no note."\n'
        for i in range(block_rows)
    ]
    block = "".join(lines).encode()
    rows = 0
    with path.open("wb") as stream:
        stream.write(b"id,email,order_id,price,comment\n")
        while stream.tell() < megabytes * 1024 * 1024:
            stream.write(block)
            rows += block_rows
    return rows


@pytest.mark.slow
def test_large_csv_is_scanned_in_bounded_memory(tmp_path: Path) -> None:
    big = tmp_path / "large.csv"
    rows = write_large_csv(big, FILE_MB)
    small = tmp_path / "small.csv"
    small.write_text("id,email\n1,a@example.com\n", encoding="utf-8")
    size = big.stat().st_size
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(big), str(small)],
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    measured = json.loads(out.stdout)
    assert measured["errors"] == []
    # The whole file was read: every row counted, no limit finding.
    assert measured["findings"] == [["MW605", "email", rows, rows]]
    # Python objects: a few batches' worth, whatever the file size.
    assert measured["traced_peak"] < 48 * 1024 * 1024, measured
    assert measured["traced_peak"] < size / 4
    # pyarrow buffers: the streaming reader's blocks and read-ahead.
    assert measured["arrow_peak"] < 96 * 1024 * 1024, measured
